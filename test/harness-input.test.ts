/**
 * Bad harness input: a feature's tables and Examples, the environment, the ROI assumptions and the
 * manifests each fail with a message naming the file (or the environment), the field and the value,
 * and no stack trace where the user reads it: Cucumber's report of the failed step, `npm run uat`'s
 * output, the error a reader of the file throws.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { DataTable } from '@cucumber/cucumber';
import { ConfigError, CUCUMBER_BIN, loadConfig, PROJECT_ROOT } from '../support/config.ts';
import { cell, tableRows } from '../support/feature-input.ts';
import { HarnessInputError } from '../support/harness-input.ts';
import { readManifests } from '../support/k8s/manifest-reader.ts';
import { manifestObjects } from '../support/k8s/manifest-objects.ts';
import { readRoiAssumptions, ROI_ASSUMPTIONS_FILE } from '../support/report/roi.ts';
import { loadWaivers } from '../support/report/waivers.ts';
import { readProfile } from '../support/load/profile.ts';
import { securityObjects } from '../support/security/access-matrix.ts';
import { harnessPermissions } from '../support/doctor/kubernetes-checks.ts';
import { tempDir } from './helpers.ts';

/** A line of a stack trace, as Node and Cucumber print them. */
const FRAME = /^\s+at /m;

/** What a user reads of an error: Cucumber and Node print its `stack`. */
function assertNoTrace(error: unknown): asserts error is HarnessInputError {
  assert.ok(error instanceof HarnessInputError, `a HarnessInputError, not ${String(error)}`);
  assert.doesNotMatch(error.stack ?? '', FRAME, `no stack trace: ${error.stack}`);
  assert.equal(error.stack, `${error.name}: ${error.message}`);
}

function thrown(run: () => unknown): HarnessInputError {
  try {
    run();
  } catch (error) {
    assertNoTrace(error);
    return error;
  }
  assert.fail('no error thrown');
}

test('feature tables: the real suite run on a feature with bad tables and Examples names the file, the line, the column or name, and the value, with no stack trace', { timeout: 90_000 }, async () => {
  const dir = tempDir('harness-input');
  const roi = path.join(dir, 'roi.yaml');
  fs.writeFileSync(roi, fs.readFileSync(ROI_ASSUMPTIONS_FILE, 'utf8').replace('period_days: 365', 'period_days: a year'));
  const feature = path.join(dir, 'bad-input.feature');
  // the line numbers below are asserted: keep them where they are
  fs.writeFileSync(
    feature,
    `@functional
Feature: A stakeholder's edits the harness cannot use

  Scenario: BAD INPUT a misspelled column
    Given the "financial-ab-test" experiment shares traffic as
      | predictor          | wieght |
      | baseline-predictor | 70     |
      | enhanced-predictor | 30     |

  Scenario: BAD INPUT a word where a number goes
    Given the "financial-ab-test" experiment shares traffic as
      | predictor          | weight  |
      | baseline-predictor | seventy |
      | enhanced-predictor | 30      |

  Scenario Outline: BAD INPUT an unknown predictor in the Examples: <predictor>
    When 10 market snapshots are sent to the "<predictor>" predictor

    Examples:
      | predictor          |
      | enhansed-predictor |

  Scenario Outline: BAD INPUT a placeholder with no column: <predictor>
    When 10 market snapshots are sent to the "<predictr>" predictor

    Examples:
      | predictor          |
      | enhanced-predictor |

  Scenario: BAD INPUT an unknown malformed request
    When a client sends a tensor of the wrong colour to the "enhanced-predictor" predictor

  Scenario: BAD INPUT a count that is no number
    When a client sends these malformed requests to the "ensemble-predictor" predictor
      | malformed request       | count |
      | a body that is not JSON | three |

  Scenario: BAD INPUT assumptions of the wrong type
    When the business case of "enhanced-predictor" over "baseline-predictor" is computed with the assumptions in "${roi}"
`,
  );
  const reports = tempDir('harness-input-reports');
  let output = '';
  let status: number | null;
  try {
    // a target that cannot start at once (no kubeconfig): the steps still run, and fail on their input before they need it
    const child = spawn(process.execPath, [CUCUMBER_BIN, '-p', 'ci', feature, '--name', '^BAD INPUT ', '--format', 'summary'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, UAT_TARGET: 'kubernetes', KUBECONFIG: path.join(dir, 'no-kubeconfig'), UAT_REPORTS_DIR: reports, UAT_STACKS: 'ab-testing' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(reports, { recursive: true, force: true });
  }

  assert.equal(status, 1, output);
  assert.match(output, /7 scenarios \(7 failed\)/, output);
  const at = (line: number): string => `${path.basename(feature)}:${line}: `;
  const expected = [
    `${at(6)}the table of step "Given the "financial-ab-test" experiment shares traffic as": column weight missing; the columns are predictor, weight`,
    `${at(6)}the table of step "Given the "financial-ab-test" experiment shares traffic as": unknown column wieght; the columns are predictor, weight`,
    `${at(13)}the table of step "Given the "financial-ab-test" experiment shares traffic as", row 1, column weight: not a number; give a whole number (value "seventy")`,
    `${at(21)}the Examples row of step "When 10 market snapshots are sent to the "enhansed-predictor" predictor" (line 17): no predictor "enhansed-predictor" (a Model) in the manifests of this run (k8s/ab-testing); the Models are baseline-predictor, enhanced-predictor, ensemble-predictor, decision-tree-predictor`,
    `${at(24)}step "When 10 market snapshots are sent to the "<predictr>" predictor": <predictr> is not a column of its Examples (line 26; the columns are predictor)`,
    `${at(31)}step "When a client sends a tensor of the wrong colour to the "enhanced-predictor" predictor": no malformed request "a tensor of the wrong colour" is known to the harness`,
    `${at(36)}the table of step "When a client sends these malformed requests to the "ensemble-predictor" predictor", row 1, column count: not a number; give a whole number (value "three")`,
    // the assumptions file's own problem: the file (named as the step gave it), the field, its line and the value
    `roi.yaml: field period_days: Invalid input: expected number, received string (value "a year", line 17)`,
  ];
  for (const message of expected) assert.ok(output.includes(message), `the output names: ${message}\n--- output:\n${output}`);
  assert.equal(output.match(/HarnessInputError: /g)?.length, 7, 'each scenario fails on its input');
  assert.doesNotMatch(output, FRAME, 'no stack trace in what Cucumber prints');
});

test('feature tables: a table read by its columns names the row\'s line, the column and the value; a column missing or unknown names the header', () => {
  const source = { uri: 'features/functional/core-ab-testing.feature', line: 13, text: 'Given the "financial-ab-test" experiment shares traffic as', tableLines: [14, 15, 16] };
  const columns = { predictor: cell.text, weight: cell.number({ integer: true, min: 0 }) };
  assert.deepEqual(tableRows(new DataTable([['predictor', 'weight'], ['baseline-predictor', '70'], ['enhanced-predictor', ' 30 ']]), columns, source), [
    { predictor: 'baseline-predictor', weight: 70 },
    { predictor: 'enhanced-predictor', weight: 30 },
  ]);
  const cells = thrown(() => tableRows(new DataTable([['predictor', 'weight'], ['baseline-predictor', '-5'], ['', '30.5']]), columns, source));
  assert.equal(
    cells.message,
    [
      'features/functional/core-ab-testing.feature:15: the table of step "Given the "financial-ab-test" experiment shares traffic as", row 1, column weight: below 0; give a whole number from 0 (value "-5")',
      'features/functional/core-ab-testing.feature:16: the table of step "Given the "financial-ab-test" experiment shares traffic as", row 2, column predictor: empty; give a value (value "")',
      'features/functional/core-ab-testing.feature:16: the table of step "Given the "financial-ab-test" experiment shares traffic as", row 2, column weight: not a whole number (value "30.5")',
    ].join('\n'),
  );
  const header = thrown(() => tableRows([['kind', 'nme', 'ready'], ['Model', 'steady-baseline', 'True']], { kind: cell.oneOf(['Model', 'Experiment']), name: cell.text, ready: cell.oneOf(['True', 'False']), reason: cell.anyText }, source, { optional: ['reason'] }));
  assert.match(header.message, /^features\/functional\/core-ab-testing\.feature:14: .*: column name missing; the columns are kind, name, ready, reason \(reason may be left out\)$/m);
  assert.match(header.message, /^features\/functional\/core-ab-testing\.feature:14: .*: unknown column nme; /m);
  const kind = thrown(() => tableRows([['kind'], ['Modle']], { kind: cell.oneOf(['Model', 'Experiment']) }, source));
  assert.match(kind.message, /:15: .*row 1, column kind: not one of Model, Experiment \(value "Modle"\)$/);
});

test('environment: a bad variable is named with what it may be and its value; `npm run uat` prints that and exits 2 before anything starts, without a stack trace', () => {
  const error = thrown(() => loadConfig({ UAT_SEED: 'abc', UAT_TARGET: 'cloud', UAT_LOAD_ENGINE: 'jmeter', UAT_K6_PARALLELISM: '0' }));
  assert.ok(error instanceof ConfigError);
  assert.equal(
    error.message,
    [
      'environment variable UAT_TARGET: must be one of local, kubernetes, not "cloud"',
      'environment variable UAT_SEED: must be a number, not "abc"',
      'environment variable UAT_LOAD_ENGINE: must be one of auto, k6, builtin, k6-operator, not "jmeter"',
      'environment variable UAT_K6_PARALLELISM: must be at least 1, not "0"',
    ].join('\n'),
  );
  // a database URL may carry a password: named, not shown
  const secret = thrown(() => loadConfig({ MLFLOW_DB_URL: 'postgres//uat:s3cret@db' }));
  assert.match(secret.message, /^environment variable MLFLOW_DB_URL: must be a URL .*not shown/);
  assert.doesNotMatch(secret.message, /s3cret/);

  const reports = tempDir('harness-input-env');
  after(() => fs.rmSync(reports, { recursive: true, force: true }));
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'uat.ts'), '--profile', 'ci'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, UAT_REPORTS_DIR: reports, UAT_READY_DEADLINE_SECONDS: 'soon', UAT_STACK_FAULT: 'nope' },
    timeout: 60_000,
  });
  assert.equal(run.status, 2, run.stderr + run.stdout);
  assert.match(run.stderr, /^uat: environment variable /, 'the message only, from its first line');
  assert.match(run.stderr, /^(uat: )?environment variable UAT_READY_DEADLINE_SECONDS: must be a number, not "soon"$/m);
  assert.match(run.stderr, /^(uat: )?environment variable UAT_STACK_FAULT: must be one or more of the deliberate faults, comma-separated, not "nope" \(the values: ignore-weights, /m);
  assert.doesNotMatch(run.stderr, FRAME);
  assert.doesNotMatch(run.stdout, /Verdict/);
  assert.deepEqual(fs.readdirSync(reports), [], 'nothing was started or written');
});

test('environment: every script that reads the environment names a bad variable and exits 2, without a stack trace', { timeout: 240_000 }, () => {
  const scripts = ['charts', 'report', 'signoff', 'stack', 'cluster', 'doctor', 'bench', 'demo-mab', 'demo-routing', 'demo-drift', 'demo-explain'];
  for (const script of scripts) {
    // bench reads the environment for its second part only: asked for that part alone
    const args = script === 'bench' ? ['--only', 'platform'] : [];
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', `${script}.ts`), ...args], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, UAT_SEED: 'abc' },
      timeout: 60_000,
    });
    assert.equal(run.status, 2, `${script}: ${run.stderr}${run.stdout}`);
    assert.match(run.stderr, /environment variable UAT_SEED: must be a number, not "abc"/, script);
    assert.doesNotMatch(run.stderr, FRAME, script);
  }
});

test('YAML syntax: a waiver file, a load profile, a security manifest and an RBAC file that are not valid YAML are refused naming the file, the line and the column, never read in part', () => {
  const dir = tempDir('harness-input-yaml');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // a flow sequence never closed: the parser would give `rules: []`, a Role that grants nothing
  const broken = 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\nrules: [\n';
  const at = /invalid YAML at line 6, column 1: /;

  const waivers = path.join(dir, 'waivers.yaml');
  fs.writeFileSync(waivers, 'waivers: [\n');
  const set = loadWaivers(waivers, '2026-01-01', () => true);
  assert.deepEqual(set.waivers, []);
  assert.equal(set.errors.length, 1);
  assert.match(set.errors[0], /^waiver file .*waivers\.yaml: invalid YAML at line 2, column 1: /);

  const profile = path.join(dir, 'profile.yaml');
  fs.writeFileSync(profile, 'name: p\nscenario: {executor: constant-vus\n');
  assert.match(thrown(() => readProfile(profile)).message, /profile\.yaml: invalid YAML at line 3, column 1: /);

  const security = path.join(dir, 'security');
  fs.mkdirSync(security);
  fs.writeFileSync(path.join(security, 'role.yaml'), broken);
  assert.match(thrown(() => securityObjects(security)).message, new RegExp(`role\\.yaml: ${at.source}`));

  const rbac = path.join(dir, 'harness-role.yaml');
  fs.writeFileSync(rbac, broken);
  assert.match(thrown(() => harnessPermissions(rbac)).message, new RegExp(`harness-role\\.yaml: ${at.source}`));
});

test('ROI assumptions: a YAML error names the file and its line; a field of the wrong type, missing or unknown is named with its path, its line and its value', () => {
  const dir = tempDir('harness-input-roi');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const valid = fs.readFileSync(ROI_ASSUMPTIONS_FILE, 'utf8');
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const syntax = write('syntax.yaml', valid.replace('currency: USD', 'currency: [USD'));
  assert.match(thrown(() => readRoiAssumptions(syntax)).message, new RegExp(`^${syntax}: invalid YAML at line 9, column 1: Flow sequence in block collection must be sufficiently indented and end with a \\]$`));
  const fields = write('fields.yaml', valid.replace('period_days: 365', 'period_dayz: 365').replace('projected_daily_requests: 47892', 'projected_daily_requests: lots'));
  assert.equal(
    thrown(() => readRoiAssumptions(fields)).message,
    [
      `${fields}: field projected_daily_requests: Invalid input: expected number, received string (value "lots", line 11)`,
      `${fields}: field period_days: required, missing (expected number)`,
      `${fields}: field period_dayz: unrecognized, not a field here (line 17; the fields are currency, value_per_correct_prediction, projected_daily_requests, infrastructure_cost_per_year, engineering_cost, period_days, extra_cost_per_1000_requests)`,
    ].join('\n'),
  );
  assert.match(thrown(() => readRoiAssumptions(path.join(dir, 'absent.yaml'))).message, /absent\.yaml: no such file/);
  // inside the project, the file is named from the project's folder
  const inProject = path.join(PROJECT_ROOT, 'fixtures', `.harness-input-test-${process.pid}.yaml`);
  fs.writeFileSync(inProject, valid.replace('engineering_cost: 15950', 'engineering_cost: -1'));
  try {
    assert.match(thrown(() => readRoiAssumptions(inProject)).message, new RegExp(`^fixtures/\\.harness-input-test-${process.pid}\\.yaml: field engineering_cost: Too small: expected number to be >=0 \\(value -1, line 15\\)$`));
  } finally {
    fs.rmSync(inProject, { force: true });
  }
});

test('manifests: a YAML error, a missing field and a wrong type name the file, the object (kind and name), the field, its line and the value; the objects applied as they are need a kind and a name', () => {
  const dir = tempDir('harness-input-manifests');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const experiment = fs.readFileSync(path.join(PROJECT_ROOT, 'k8s', 'ab-testing', 'experiment.yaml'), 'utf8');
  const models = fs.readFileSync(path.join(PROJECT_ROOT, 'k8s', 'ab-testing', 'models.yaml'), 'utf8');
  const write = (text: Record<string, string>): void => {
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    for (const [name, content] of Object.entries(text)) fs.writeFileSync(path.join(dir, name), content);
  };
  const file = (name: string): string => path.join(dir, name);

  write({ 'experiment.yaml': experiment.replace('  default: baseline-predictor', '  default: [baseline-predictor') });
  const syntax = thrown(() => readManifests([dir]));
  assert.match(syntax.message, new RegExp(`^${file('experiment.yaml')}: invalid YAML at line 11, column 3: Flow sequence in block collection must be sufficiently indented`));
  assert.match(thrown(() => manifestObjects(dir, 'ns', 'run')).message, /experiment\.yaml: invalid YAML at line 11, column 3: /);

  write({
    'experiment.yaml': experiment.replace('weight: 30', 'weight: thirty'),
    'models.yaml': models.replace('  name: enhanced-predictor\n', '  labels2: {}\n').replace('memory: 1Mi', 'memory: lots'),
  });
  assert.equal(
    thrown(() => readManifests([dir])).message,
    [
      `${file('experiment.yaml')}: Experiment financial-ab-test: field spec.candidates.1.weight: Invalid input: expected number, received string (value "thirty", line 15)`,
      `${file('models.yaml')} (document 2): Model (no name): field metadata.name: required, missing (expected string)`,
      `${file('models.yaml')} (document 3): Model ensemble-predictor: field spec.memory: must be a Kubernetes quantity such as 100Ki, 1Mi or 2G (value "lots", line 41)`,
    ].join('\n'),
  );
  // applied as written (the API server names what it refuses), but the harness needs each object's kind and name
  assert.match(thrown(() => manifestObjects(dir, 'ns', 'run')).message, new RegExp(`^${file('models.yaml')} \\(document 2\\): Model: field metadata\\.name: required, a string \\(value none\\)$`));

  // the project's own manifests pass
  assert.ok(readManifests(['ab-testing', 'mab', 'router', 'explainer', 'drift'].map((s) => path.join(PROJECT_ROOT, 'k8s', s))).length > 0);
});
