/**
 * The paired ratio bound (support/stats/ratio-bound.ts): a hand-computed case, and its coverage on
 * seeded simulations of paired 0/1 outcomes with a known ratio.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { pairedRatioBound } from '../support/stats/ratio-bound.ts';

test('a hand-computed case: 40 days, 30 right against 20 right', () => {
  // a: 30 of 40 right; b: 20 of 40 right; the 20 b gets right are among a's 30
  const a = Array.from({ length: 40 }, (_, i) => (i < 30 ? 1 : 0));
  const b = Array.from({ length: 40 }, (_, i) => (i < 20 ? 1 : 0));
  const r = pairedRatioBound(a, b, 0.05);
  assert.equal(r.ratio, 1.5);
  // Var(a) = 30*10/(40*39), Var(b) = 20*20/(40*39), Cov = (20 - 40*0.75*0.5)/39 = 5/39
  const variance = ((300 / 1560) / 0.25 + (0.5625 * (400 / 1560)) / 0.0625 - (2 * 0.75 * (5 / 39)) / 0.125) / 40;
  assert.ok(Math.abs(r.se - Math.sqrt(variance)) < 1e-12, `${r.se} vs ${Math.sqrt(variance)}`);
  assert.ok(Math.abs(r.lower - (1.5 - 1.6448536269514722 * r.se)) < 1e-9);
  assert.throws(() => pairedRatioBound(a.slice(0, 10), b.slice(0, 10), 0.05), /at least 30 paired days/);
});

test('the one-sided 95 % lower bound lies below the true ratio in about 95 % of seeded samples', () => {
  const random = seedrandom('ratio-bound-coverage');
  // b right with p 0.52; a right with p 0.62, correlated with b (right on 80 % of the days b is right)
  const pB = 0.52;
  const pAgivenB = 0.8;
  const pAgivenNotB = (0.62 - pB * pAgivenB) / (1 - pB);
  const truth = 0.62 / 0.52;
  let covered = 0;
  const samples = 2000;
  for (let s = 0; s < samples; s++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 400; i++) {
      const bi = random() < pB ? 1 : 0;
      b.push(bi);
      a.push(random() < (bi ? pAgivenB : pAgivenNotB) ? 1 : 0);
    }
    if (pairedRatioBound(a, b, 0.05).lower <= truth) covered += 1;
  }
  // a binomial(2000, 0.95) lies within 0.93..0.97 with probability above 0.9999
  assert.ok(covered / samples > 0.93 && covered / samples < 0.97, `coverage ${covered / samples}`);
});
