/**
 * Meta tests: the suite must catch a broken platform. Each test starts the real local target with
 * one deliberate defect injected into the stack (UAT_STACK_FAULT), runs the scenario that guards
 * against it, and asserts that this scenario failed on the right criterion.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CUCUMBER_BIN, PROJECT_ROOT } from '../support/config.ts';
import { readLedger } from '../support/evidence/ledger.ts';
import { scenariosFromMessages } from '../support/report/signoff.ts';
import { tempDir } from './helpers.ts';

function runSuiteWithFault(fault: string, profile: string, nameFilter: string) {
  const reportsDir = tempDir(`meta-${fault}`);
  const result = spawnSync(
    process.execPath,
    [CUCUMBER_BIN, '-p', profile, '--name', nameFilter, '--format', 'summary'],
    { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, UAT_STACK_FAULT: fault, UAT_REPORTS_DIR: reportsDir }, timeout: 150_000 },
  );
  const messages = path.join(reportsDir, 'cucumber-messages.ndjson');
  const scenarios = fs.existsSync(messages) ? scenariosFromMessages(fs.readFileSync(messages, 'utf8')) : [];
  const criteria = readLedger(reportsDir);
  fs.rmSync(reportsDir, { recursive: true, force: true });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}`, scenarios, criteria };
}

test('a stack whose split ignores the experiment weights fails the traffic-split scenario', { timeout: 160_000 }, () => {
  const run = runSuiteWithFault('ignore-weights', 'functional', '^Traffic follows the experiment weights$');
  assert.equal(run.status, 1, run.output);
  assert.deepEqual(run.scenarios.map((s) => [s.name, s.status]), [['Traffic follows the experiment weights', 'failed']]);
  const split = run.criteria.find((c) => c.id === 'ab-split-matches-weights');
  assert.ok(split, 'the split criterion was recorded');
  assert.equal(split.passed, false);
  assert.ok(Number(split.measured) < 0.001, `p-value ${split.measured}`);
});

test('a model that answers with another model\'s output fails the MLflow-to-serving accuracy scenario', { timeout: 160_000 }, () => {
  const run = runSuiteWithFault('swap-outputs', 'integration', '^The accuracy logged in MLflow is the accuracy of the served model$');
  assert.equal(run.status, 1, run.output);
  assert.equal(run.scenarios[0]?.status, 'failed');
  const accuracy = run.criteria.filter((c) => c.id.startsWith('served-accuracy-matches-mlflow-'));
  assert.ok(accuracy.length > 0 && accuracy.some((c) => !c.passed), JSON.stringify(accuracy));
});

test('bad input that causes a 500 fails the malformed-request scenario', { timeout: 160_000 }, () => {
  const run = runSuiteWithFault('crash-on-bad-input', 'security', 'a tensor of the wrong shape$');
  assert.equal(run.status, 1, run.output);
  assert.deepEqual(run.scenarios.map((s) => s.status), ['failed']);
  const refused = run.criteria.find((c) => c.id === 'malformed-request-refused');
  assert.ok(refused);
  assert.equal(refused.passed, false);
  assert.equal(refused.measured, 500);
});
