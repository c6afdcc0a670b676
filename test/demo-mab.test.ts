/**
 * `npm run demo:mab`: bad arguments are refused with the usage; a short run on the embedded default
 * replays market days through the bandit's experiment, prints the table read from the controller,
 * and writes the weights chart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runDemo, tempDir } from './helpers.ts';

const run = (args: string[], reports: string) => runDemo('demo-mab', args, reports);

test('demo:mab refuses a duration or a model count out of bounds, with the usage', () => {
  const reports = tempDir('demo-bad');
  for (const [args, message] of [[['--duration', '1h'], /--duration must be 5s to 10m/], [['--duration', '11m'], /--duration must be 5s to 10m/], [['--models', '7'], /--models must be 2 to 4/]] as const) {
    const bad = run([...args], reports);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, message);
    assert.match(bad.stderr, /usage: npm run demo:mab/);
  }
  fs.rmSync(reports, { recursive: true, force: true });
});

test('demo:mab replays market days through the bandit for the duration, prints the controller\'s table and writes the weights chart', { timeout: 150_000 }, () => {
  const reports = tempDir('demo');
  const demo = run(['--models', '2', '--duration', '5s'], reports);
  assert.equal(demo.status, 0, demo.stderr + demo.stdout.slice(-2000));
  assert.match(demo.stdout, /financial-mab-experiment: baseline-predictor 57 %, enhanced-predictor 43 %; replaying held-out days for 5s/);
  assert.match(demo.stdout, /thompson-sampling, update [1-9]\d*; \d+ requests in \d+ s \(0 unanswered\); source LIVE:bandit-controller/);
  const rows = new Set([...demo.stdout.replace(/\x1b\[[0-9;]*m/g, '').matchAll(/^│ (\S+-predictor) +│/gm)].map((m) => m[1]));
  assert.deepEqual([...rows].sort(), ['baseline-predictor', 'enhanced-predictor'], 'the table has the two kept candidates only');
  const svg = fs.readFileSync(path.join(reports, 'charts', 'mab-weights.svg'), 'utf8');
  assert.match(svg, /source: LIVE:bandit-controller/);
  assert.ok(fs.statSync(path.join(reports, 'charts', 'mab-weights.png')).size > 10_000);
  fs.rmSync(reports, { recursive: true, force: true });
});
