/**
 * `npm run demo:explain`: bad arguments are refused with the usage before anything starts; a short
 * run explains held-out days through the explanation gateway (each on the audit trail) with a table
 * whose SHAP values add up to the served probability, and writes the chart; the counterfactual
 * method lists the change that flips each day's call.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runDemo, tempDir } from './helpers.ts';

const run = (args: string[], reports: string) => runDemo('demo-explain', args, reports);

test('demo:explain refuses an unknown method and a day count out of bounds, with the usage', () => {
  const reports = tempDir('demo-explain-bad');
  for (const [args, message] of [[['--method', 'lime'], /--method must be shap or counterfactual, got 'lime'/], [['--days', '0'], /--days must be a whole number from 1 to 100, got '0'/]] as const) {
    const bad = run([...args], reports);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, message);
    assert.match(bad.stderr, /usage: npm run demo:explain/);
  }
  assert.ok(!fs.existsSync(path.join(reports, 'charts')), 'nothing started, nothing written');
  fs.rmSync(reports, { recursive: true, force: true });
});

test('demo:explain --method shap explains each day through the gateway, the values add up to the served probability, the trail holds them, the chart is written', { timeout: 150_000 }, () => {
  const reports = tempDir('demo-explain');
  const demo = run(['--method', 'shap', '--days', '3'], reports);
  assert.equal(demo.status, 0, demo.stderr + demo.stdout.slice(-2000));
  const out = demo.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  const rows = [...out.matchAll(/^│ (\d) +│ (0\.\d{4}) +│ (0\.\d{4}) +│ ([a-z0-9_]+ [+-]0\.\d{4}, ){2}[a-z0-9_]+ [+-]0\.\d{4} +│ \d+ +│$/gm)];
  assert.ok(rows.length >= 3, out.slice(-1500));
  for (const r of rows) assert.equal(r[2], r[3], `day ${r[1]}: expected value + SHAP = the served probability`);
  assert.match(out, /audit trail: 3 rows written for these 3 explanations \(LIVE:audit-postgres\)/);
  assert.match(fs.readFileSync(path.join(reports, 'charts', 'explanation-shap.svg'), 'utf8'), /source: LIVE:oip/);
  fs.rmSync(reports, { recursive: true, force: true });
});

test('demo:explain --method counterfactual lists the change that flips each call', { timeout: 150_000 }, () => {
  const reports = tempDir('demo-explain-cf');
  const demo = run(['--method', 'counterfactual', '--days', '3'], reports);
  assert.equal(demo.status, 0, demo.stderr + demo.stdout.slice(-2000));
  const out = demo.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(out, /3 of 3 days have a counterfactual; source LIVE:oip/);
  assert.match(out, /^│ 0 +│ 0\.\d{4} +│ [a-z0-9_]+ -?[\d.e+-]+ -> -?[\d.e+-]+/m);
  assert.ok(fs.statSync(path.join(reports, 'charts', 'explanation-counterfactual.png')).size > 5_000);
  fs.rmSync(reports, { recursive: true, force: true });
});
