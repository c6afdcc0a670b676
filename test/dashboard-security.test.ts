/**
 * The dashboard's security view without a browser: what it reads from the run's evidence ledger
 * (the latest record of each security criterion, labelled with the criterion's own source and the
 * time it was recorded, with its verdict), what it shows for a check not recorded yet, a ledger
 * with lines that are not criteria, no ledger at all; the page's tab; the program's --evidence
 * flag; and the fault the meta test seeds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import type { Criterion } from '../support/evidence/ledger.ts';
import type { ServingView } from '../support/metrics/live-metrics.ts';
import { createDashboardServer } from '../dashboard/server.ts';
import { withFaults } from '../dashboard/faults.ts';
import { dashboardData, NOT_CHECKED, SECURITY_CHECKS, securityView, type SecurityFigure, type ViewSources } from '../support/views/dashboard-views.ts';
import { tempDir } from './helpers.ts';

const serving: ServingView = {
  source: 'LIVE:prometheus',
  observedAt: new Date(0).toISOString(),
  window: '1m',
  requestsTotal: { 'baseline-predictor': 1, 'enhanced-predictor': 1 },
  requestRate: { 'baseline-predictor': 1, 'enhanced-predictor': 1 },
  errorRatio: 0,
  p95Seconds: 0.01,
  rateSeries: {},
  p95Series: [],
};

function sources(evidence?: string): ViewSources {
  return {
    live: { view: async () => serving },
    mlflowExperiment: 'exp',
    experiment: { name: 'financial-ab-test', candidates: [{ name: 'baseline-predictor', weight: 70 }, { name: 'enhanced-predictor', weight: 30 }] },
    models: ['baseline-predictor', 'enhanced-predictor'],
    bandit: { problem: 'none in this test' },
    audit: { problem: 'none in this test' },
    drift: { problem: 'none in this test' },
    evidence,
  };
}

function criterion(over: Partial<Criterion> & Pick<Criterion, 'id' | 'measured' | 'source' | 'passed' | 'recordedAt'>): Criterion {
  return { statement: 's', threshold: 't', unit: 'u', category: 'security', feature: 'f', scenario: 'a scenario', severity: 'critical', runId: 'r', ...over };
}

const RECORDS: Criterion[] = [
  // an earlier run of the matrix, then the latest
  criterion({ id: 'access-matrix-as-declared', measured: 4, source: 'LIVE:kube-apiserver', passed: false, recordedAt: '2025-01-01T10:00:00.000Z', details: { lines: 41, differences: ['a', 'b', 'c', 'd'] } }),
  criterion({ id: 'identity-tokens-refused-where-denied', measured: '33 answered 403, 4 let through', threshold: '37 denied requests answered 403, 4 allowed requests neither 401 nor 403', source: 'LIVE:kube-apiserver', passed: false, recordedAt: '2025-01-01T10:00:01.000Z', details: { denied: 37, deniedAnswered403: 33, allowed: 4, allowedLetThrough: 4, wrong: ['w', 'x', 'y', 'z'] } }),
  criterion({ id: 'manifests-follow-security-policy', measured: 1, source: 'LIVE:manifests', passed: false, recordedAt: '2025-01-01T10:00:02.000Z', details: { files: 30, objects: 64, violations: ['v'] } }),
  criterion({ id: 'no-credential-in-run-output', measured: 2, source: 'LIVE:file-scan', passed: false, recordedAt: '2025-01-01T10:00:03.000Z', details: { files: 120, processes: 310, hits: ['h1', 'h2'], credentialsLookedFor: ['the MLflow database password'] } }),
  criterion({ id: 'database-authenticates-with-scram', measured: 'asked for cleartext password; password_encryption scram-sha-256', source: 'LIVE:mlflow-postgres', passed: false, recordedAt: '2025-01-01T10:00:04.000Z', details: { asked: ['cleartext password'], passwordEncryption: 'scram-sha-256' } }),
  criterion({ id: 'access-matrix-as-declared', measured: 0, source: 'LIVE:kube-apiserver', passed: true, recordedAt: '2025-01-01T10:05:00.000Z', details: { lines: 41, differences: [] } }),
  // not a security check: not shown
  criterion({ id: 'dashboard-load-time', measured: 800, source: 'LIVE:browser', passed: true, recordedAt: '2025-01-01T10:06:00.000Z' }),
];

function ledger(lines: string[]): string {
  const file = path.join(tempDir('ledger'), 'evidence.ndjson');
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

const byId = (figures: SecurityFigure[], id: string): SecurityFigure => {
  const f = figures.find((g) => g.id === id);
  assert.ok(f, `${id} not in ${figures.map((g) => g.id).join(', ')}`);
  return f;
};

test("the security view shows the latest record of each security criterion, with the criterion's source, its time and its verdict", async () => {
  const file = ledger([...RECORDS.map((r) => JSON.stringify(r)), '{"id": "cut off mid-li', 'not json at all']);
  const view = await securityView(file);
  assert.ok('figures' in view, JSON.stringify(view));
  if (!('figures' in view)) return;
  assert.deepEqual(view.figures.map((f) => f.criterion), SECURITY_CHECKS.map((c) => c.criterion), 'one figure per security criterion, in order');
  const matrix = byId(view.figures, 'security-access-matrix');
  assert.deepEqual([matrix.value, matrix.unit, matrix.source, matrix.note, matrix.status, matrix.observedAt], [41, 'lines', 'LIVE:kube-apiserver', 'of 41; 0 differing', 'passed', '2025-01-01T10:05:00.000Z'], 'the latest record, not the first');
  const tokens = byId(view.figures, 'security-tokens-refused');
  assert.deepEqual([tokens.value, tokens.source, tokens.note, tokens.status], [33, 'LIVE:kube-apiserver', 'of 37 denied; 4 of 4 allowed let through; 4 answered otherwise than declared', 'failed']);
  const policy = byId(view.figures, 'security-policy-violations');
  assert.deepEqual([policy.value, policy.source, policy.note, policy.status], [1, 'LIVE:manifests', 'in 64 objects of 30 files', 'failed']);
  const hits = byId(view.figures, 'security-credential-hits');
  assert.deepEqual([hits.value, hits.source, hits.note, hits.status], [2, 'LIVE:file-scan', 'in 120 files and 310 command lines', 'failed']);
  assert.ok(!JSON.stringify(view).includes('the MLflow database password'), 'the names of the credentials looked for stay in the ledger');
  const scram = byId(view.figures, 'security-database-authentication');
  assert.deepEqual([scram.value, scram.source, scram.status], [1, 'LIVE:mlflow-postgres', 'failed']);
  for (const id of ['security-credential-hits-at-end', 'security-dashboard-recovery', 'security-mlflow-recovery']) {
    const f = byId(view.figures, id);
    assert.deepEqual([f.value, f.source, f.note, f.status], [null, 'UNAVAILABLE', NOT_CHECKED, 'not checked'], id);
  }
  assert.equal(view.skippedLines, 2);
  assert.equal(view.summary, "From the run's evidence ledger, the latest result of each security check: 5 of 8 checked, 1 passed, 4 failed (identity-tokens-refused-where-denied, manifests-follow-security-policy, database-authenticates-with-scram, no-credential-in-run-output). 2 lines of the ledger could not be read as a criterion and were skipped.");
});

test('before any security check is recorded, every figure is UNAVAILABLE "not checked yet in this run"; without a ledger, or with one that cannot be read, the view says why', async () => {
  for (const file of [path.join(tempDir('no-ledger'), 'evidence.ndjson'), ledger([JSON.stringify(RECORDS[RECORDS.length - 1])])]) {
    const view = await securityView(file);
    assert.ok('figures' in view, JSON.stringify(view));
    if (!('figures' in view)) return;
    assert.equal(view.figures.length, SECURITY_CHECKS.length);
    assert.ok(view.figures.every((f) => f.value === null && f.source === 'UNAVAILABLE' && f.note === NOT_CHECKED && f.status === 'not checked'), JSON.stringify(view.figures));
    assert.match(view.summary, /^No security check has been recorded in this run yet \(the evidence ledger holds [01] criteri(on|a), none of them one of the 8 security checks\)/);
  }
  assert.deepEqual(await securityView(undefined), { empty: "No security results to show: the dashboard was not given the run's evidence ledger (--evidence)." });
  const unreadable = await securityView(tempDir('ledger-is-a-folder'));
  assert.ok('empty' in unreadable && /^The run's evidence ledger cannot be read \(EISDIR/.test(unreadable.empty), JSON.stringify(unreadable));
});

test('a record the view cannot read as its figure is UNAVAILABLE with the reason, keeping its verdict; a recovery that did not happen says so', async () => {
  const view = await securityView(ledger([
    JSON.stringify(criterion({ id: 'manifests-follow-security-policy', measured: 'many', source: 'LIVE:manifests', passed: false, recordedAt: '2025-01-01T10:00:00.000Z' })),
    JSON.stringify(criterion({ id: 'no-credential-in-run-output', measured: 0, source: 'LIVE:somewhere-else' as Criterion['source'], passed: true, recordedAt: '2025-01-01T10:00:00.000Z' })),
    JSON.stringify(criterion({ id: 'dashboard-recovers-after-kill', measured: 'reported after 0.4 s; did not start again: boom', source: 'LIVE:dashboard-api', passed: false, recordedAt: '2025-01-01T10:00:00.000Z', details: { recoveredAfterS: undefined } })),
    JSON.stringify({ id: 'access-matrix-as-declared', measured: 0, passed: true, recordedAt: 'yesterday' }),
    // the figures come from the details, not from the measured text
    JSON.stringify(criterion({ id: 'identity-tokens-refused-where-denied', measured: '24 answered 403, 7 let through', source: 'LIVE:kube-apiserver', passed: true, recordedAt: '2025-01-01T10:00:00.000Z' })),
    JSON.stringify(criterion({ id: 'database-authenticates-with-scram', measured: 'asked for SASL SCRAM-SHA-256; password_encryption scram-sha-256', source: 'LIVE:mlflow-postgres', passed: true, recordedAt: '2025-01-01T10:00:00.000Z', details: { asked: 'SASL SCRAM-SHA-256' } })),
  ]));
  assert.ok('figures' in view);
  if (!('figures' in view)) return;
  const policy = byId(view.figures, 'security-policy-violations');
  assert.deepEqual([policy.value, policy.source, policy.note, policy.status], [null, 'UNAVAILABLE', 'the ledger records "many", not a count', 'failed']);
  const hits = byId(view.figures, 'security-credential-hits');
  assert.deepEqual([hits.value, hits.source, hits.note], [null, 'UNAVAILABLE', 'the ledger names an unknown source "LIVE:somewhere-else"']);
  const recovery = byId(view.figures, 'security-dashboard-recovery');
  assert.deepEqual([recovery.value, recovery.note, recovery.status], [null, 'not back: reported after 0.4 s; did not start again: boom', 'failed']);
  const tokens = byId(view.figures, 'security-tokens-refused');
  assert.deepEqual([tokens.value, tokens.source, tokens.note, tokens.status], [null, 'UNAVAILABLE', "the ledger's record has no counts of denied and allowed requests in its details (it measured \"24 answered 403, 7 let through\")", 'passed']);
  const scram = byId(view.figures, 'security-database-authentication');
  assert.deepEqual([scram.value, scram.source, scram.note], [null, 'UNAVAILABLE', "the ledger's record has no methods asked for and password encryption in its details (it measured \"asked for SASL SCRAM-SHA-256; password_encryption scram-sha-256\")"]);
  assert.equal(byId(view.figures, 'security-access-matrix').status, 'not checked', 'a record without a valid time is skipped');
  assert.equal(view.skippedLines, 1);
});

test("the dashboard's data carries the security view and counts its sources; the API reads the ledger again on every request", async () => {
  const file = ledger([JSON.stringify(RECORDS[2])]);
  const data = await dashboardData(sources(file), '1m');
  assert.ok('figures' in data.security);
  assert.equal(data.sources['LIVE:manifests'], 1);
  const server = createDashboardServer({ sources: sources(file), refreshSeconds: 5 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const security = async () => (await (await fetch(`${base}/api/dashboard?window=1m`)).json()).security as { figures: SecurityFigure[] };
  try {
    assert.equal(byId((await security()).figures, 'security-credential-hits').status, 'not checked');
    fs.appendFileSync(file, `${JSON.stringify(RECORDS[3])}\n`);
    const again = byId((await security()).figures, 'security-credential-hits');
    assert.deepEqual([again.value, again.source, again.status], [2, 'LIVE:file-scan', 'failed']);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('the page has a Security tab after the others, opening a labelled section with its summary, figures and empty state', () => {
  const html = fs.readFileSync(path.join(PROJECT_ROOT, 'dashboard', 'public', 'index.html'), 'utf8');
  const tabs = [...html.matchAll(/<a href="#(\w+)" data-view="\1">/g)].map((m) => m[1]);
  assert.deepEqual(tabs, ['ab', 'business', 'bandit', 'router', 'drift', 'explanations', 'security']);
  assert.match(html, /<section id="security" aria-labelledby="security-title">\s*<h2 id="security-title">Security<\/h2>\s*<p id="security-summary"><\/p>\s*<div class="figures" id="security-figures"><\/div>\s*<p class="empty-state" data-empty="security"><\/p>/);
  const script = fs.readFileSync(path.join(PROJECT_ROOT, 'dashboard', 'public', 'dashboard.js'), 'utf8');
  assert.match(script, /const VIEWS = \['ab', 'business', 'bandit', 'router', 'drift', 'explanations', 'security'\]/);
});

test('with dashboard-security-unchecked-passed, the checks not recorded yet are shown as passed; the recorded ones keep their verdict', async () => {
  const data = await dashboardData(sources(ledger([JSON.stringify(RECORDS[2])])), '1m');
  const faulty = withFaults(data, new Set(['dashboard-security-unchecked-passed']));
  assert.ok('figures' in faulty.security);
  if (!('figures' in faulty.security)) return;
  assert.deepEqual(faulty.security.figures.map((f) => f.status), ['passed', 'passed', 'failed', 'passed', 'passed', 'passed', 'passed', 'passed']);
  assert.equal(byId(faulty.security.figures, 'security-credential-hits').note, undefined);
});

test('the dashboard program reads the ledger given with --evidence', async () => {
  const { launchDashboard } = await import('../support/targets/stack-process.ts');
  const file = ledger([JSON.stringify(RECORDS[2])]);
  const dashboard = await launchDashboard({ args: ['--port', '0', '--evidence', file], env: { ...process.env, MLFLOW_DB_URL: '' } });
  try {
    const data = await (await fetch(`${dashboard.url}/api/dashboard?window=1m`)).json();
    const policy = data.security.figures.find((f: SecurityFigure) => f.id === 'security-policy-violations');
    assert.deepEqual([policy.value, policy.source, policy.status], [1, 'LIVE:manifests', 'failed']);
  } finally {
    await dashboard.stop();
  }
});
