/**
 * `npm run demo:routing`: bad arguments are refused with the usage before anything starts; a short
 * run on the embedded default sends volatile days of the evaluation history through the router
 * pipeline, prints the per-regime and per-predictor table and the ratio with its interval, and
 * writes the accuracy chart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runDemo, tempDir } from './helpers.ts';

const run = (args: string[], reports: string) => runDemo('demo-routing', args, reports);

test('demo:routing refuses unknown market conditions and a day count out of bounds, with the usage', () => {
  const reports = tempDir('demo-routing-bad');
  for (const [args, message] of [[['--market-conditions', 'stormy'], /--market-conditions must be one of bull, bear, sideways, volatile or all, got 'stormy'/], [['--days', '5'], /--days must be a whole number from 50 to 6000/]] as const) {
    const bad = run([...args], reports);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, message);
    assert.match(bad.stderr, /usage: npm run demo:routing/);
  }
  assert.ok(!fs.existsSync(path.join(reports, 'charts')), 'nothing started, nothing written');
  fs.rmSync(reports, { recursive: true, force: true });
});

test('demo:routing sends volatile days through the router, prints what answered them and how well, and writes the chart', { timeout: 150_000 }, () => {
  const reports = tempDir('demo-routing');
  const demo = run(['--market-conditions', 'volatile', '--days', '60'], reports);
  assert.equal(demo.status, 0, demo.stderr + demo.stdout.slice(-2000));
  const out = demo.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(out, /contextual-financial-router: 60 volatile days of the evaluation history \(seed 42\)/);
  assert.match(out, /^│ volatile +│ 60 +│ \d+\.\d +│ \d+\.\d +│$/m, 'one regime row: all 60 days volatile');
  assert.match(out, /^│ robust-predictor +│ \d+ +│ \d+\.\d +│$/m, 'volatile days answered by the robust predictor');
  assert.match(out, /60 of 60 days sent \(0 unanswered\); source LIVE:oip/);
  assert.match(out, /volatile: routed \/ baseline-predictor accuracy = \d\.\d{3} \(95 % interval \d\.\d{3} to \d\.\d{3}, paired delta method, 60 days\)/);
  const svg = fs.readFileSync(path.join(reports, 'charts', 'routing-accuracy.svg'), 'utf8');
  assert.match(svg, /source: LIVE:oip/);
  assert.ok(fs.statSync(path.join(reports, 'charts', 'routing-accuracy.png')).size > 10_000);
  fs.rmSync(reports, { recursive: true, force: true });
});
