/**
 * `npm run demo:drift`: bad arguments are refused with the usage before anything starts; a
 * continuous-monitoring run on the embedded default streams days through the drift monitoring
 * pipeline, prints each window's verdicts, the episode, its alerts and its retraining run, and
 * writes the p-value chart; a one-shot run checks one window of each kind with each detector.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runDemo, tempDir } from './helpers.ts';

const run = (args: string[], reports: string) => runDemo('demo-drift', args, reports);

test('demo:drift refuses a day count or a shift out of bounds, with the usage', () => {
  const reports = tempDir('demo-drift-bad');
  for (const [args, message] of [[['--days', '10'], /--days must be a whole number from 400 to 7000, got '10'/], [['--shift', 'lots'], /--shift must be a number of standard deviations from 0 to 3, got 'lots'/]] as const) {
    const bad = run([...args], reports);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, message);
    assert.match(bad.stderr, /usage: npm run demo:drift/);
  }
  assert.ok(!fs.existsSync(path.join(reports, 'charts')), 'nothing started, nothing written');
  fs.rmSync(reports, { recursive: true, force: true });
});

test('demo:drift --continuous-monitoring shows the windows, one episode with its alerts and retraining, and writes the chart', { timeout: 150_000 }, () => {
  const reports = tempDir('demo-drift');
  const demo = run(['--continuous-monitoring'], reports);
  assert.equal(demo.status, 0, demo.stderr + demo.stdout.slice(-2000));
  const out = demo.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(out, /financial-drift-monitoring: 400 reference-like days, 600 with the volatility features \+0\.5 sd, 400 reference-like \(seed 42\)/);
  assert.match(out, /^│ 3 +│ volatility \+0\.5 sd +│ DRIFT, [\d.e+-]+ \((vol_5d|vol_20d|implied_vol)\) +│ DRIFT/m, 'the third window is shifted and both detectors see it');
  assert.match(out, /1400 of 1400 days sent; episodes opened: 1 \[financial-drift-monitoring-1: closed, retraining finished\]/);
  assert.match(out, /alert firing at .*: drift in vol_5d, vol_20d, implied_vol of pipeline financial-drift-monitoring/);
  assert.match(out, /alert resolved at /);
  assert.match(out, /retraining: MLflow run [0-9a-f]{32} \(enhanced-predictor-retrained-financial-drift-monitoring-1\), model version 2/);
  const svg = fs.readFileSync(path.join(reports, 'charts', 'drift-p-values.svg'), 'utf8');
  assert.match(svg, /Source: LIVE:drift-monitor/);
  assert.ok(fs.statSync(path.join(reports, 'charts', 'drift-p-values.png')).size > 10_000);
  fs.rmSync(reports, { recursive: true, force: true });
});

test('demo:drift without --continuous-monitoring checks one reference-like and one shifted window with each detector', { timeout: 150_000 }, () => {
  const reports = tempDir('demo-drift-once');
  const demo = run([], reports);
  assert.equal(demo.status, 0, demo.stderr + demo.stdout.slice(-2000));
  const out = demo.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(out, /^│ volatility \+0\.5 sd \(200 days\) +│ feature-drift-detector +│ drift +│/m);
  assert.match(out, /^│ volatility \+0\.5 sd \(200 days\) +│ volatility-mmd-detector +│ drift +│/m);
  assert.match(out, /^│ reference-like \(200 days\) +│ feature-drift-detector +│ (no drift|drift) +│/m);
  fs.rmSync(reports, { recursive: true, force: true });
});
