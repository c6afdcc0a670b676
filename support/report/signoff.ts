/**
 * The release sign-off: scenario results per category (from the Cucumber message stream), every
 * recorded criterion with threshold, measured value and source (from the evidence ledger), and a
 * verdict, one rule for every command that writes it:
 *   GO               every category ran, every scenario and every criterion passed, nothing rests
 *                    on simulated data, the suite ended cleanly;
 *   GO WITH WAIVERS  the same, except failed criteria that are not critical and are waived in the
 *                    reviewed waiver file (listed first in the documents);
 *   NO-GO            anything else, including a waiver file with errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORIES, formatMeasured, readLedger, readShownFigures, type Criterion, type ShownFigure } from '../evidence/ledger.ts';
import { allureEvidence, evidenceMismatches } from './allure-evidence.ts';
import { readRunDescription, type RunDescription } from './run-description.ts';
import { loadWaivers, type Waiver, type WaiverSet } from './waivers.ts';

export type ScenarioStatus = 'passed' | 'failed' | 'skipped';

export interface ScenarioResult {
  name: string;
  uri: string;
  category: string;
  severity: string;
  status: ScenarioStatus;
  message?: string;
}

export type Verdict = 'GO' | 'GO WITH WAIVERS' | 'NO-GO';

/** A failed criterion let through by a waiver. */
export interface WaivedFailure {
  waiver: Waiver;
  criterion: Pick<Criterion, 'id' | 'statement' | 'threshold' | 'measured' | 'unit' | 'source' | 'severity' | 'scenario'>;
}

/** How the suite itself ended, as `npm run uat` records it. */
export interface SuiteOutcome {
  exitCode: number | null;
  profile: string;
  endedAt: string;
}

export const SUITE_OUTCOME_FILE = 'suite-outcome.json';

export interface SignOff {
  verdict: Verdict;
  reasons: string[];
  waived: WaivedFailure[];
  waiverFile: string | null;
  suite: SuiteOutcome | null;
  generatedAt: string;
  run: RunDescription | null;
  categories: Record<string, { passed: number; failed: number; skipped: number }>;
  scenarios: ScenarioResult[];
  criteria: Criterion[];
  /** Criteria per source. */
  sources: Record<string, number>;
  /** Figures the run showed (dashboard, charts) per source. */
  figureSources: Record<string, number>;
  /** The business-impact figures as last shown in the run (dashboard or charts). */
  businessImpact: ShownFigure[];
}

const BUSINESS_FIGURE = /^(accuracy-uplift|window-requests:.*|assumption:.*|extra-correct-calls|extra-value|extra-cost|net-benefit|roi)$/;

/** The last shown value of each business-impact figure, in the order the dashboard lists them. */
export function latestBusinessImpact(shown: ShownFigure[]): ShownFigure[] {
  const latest = new Map<string, ShownFigure>();
  for (const f of shown) if (BUSINESS_FIGURE.test(f.id)) latest.set(f.id, f);
  return [...latest.values()];
}

const CRITICAL = new Set(['critical', 'blocker']);
const FAILING = new Set(['FAILED', 'AMBIGUOUS', 'UNDEFINED', 'PENDING', 'UNKNOWN']);

/** Scenario results from a Cucumber message stream (NDJSON); the last attempt of each test case counts. */
export function scenariosFromMessages(ndjson: string): ScenarioResult[] {
  const pickles = new Map<string, { name: string; uri: string; tags: string[] }>();
  const testCases = new Map<string, string>();
  const started = new Map<string, string>();
  const worst = new Map<string, { status: string; message?: string }>();
  const finished: { startedId: string; retried: boolean }[] = [];
  const rank = (status: string): number => (FAILING.has(status) ? 3 : status === 'SKIPPED' ? 2 : 1);
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    const envelope = JSON.parse(line) as Record<string, any>;
    if (envelope.pickle) pickles.set(envelope.pickle.id, { name: envelope.pickle.name, uri: envelope.pickle.uri, tags: envelope.pickle.tags.map((t: { name: string }) => t.name) });
    if (envelope.testCase) testCases.set(envelope.testCase.id, envelope.testCase.pickleId);
    if (envelope.testCaseStarted) started.set(envelope.testCaseStarted.id, envelope.testCaseStarted.testCaseId);
    if (envelope.testStepFinished) {
      const { testCaseStartedId, testStepResult } = envelope.testStepFinished;
      const previous = worst.get(testCaseStartedId);
      if (!previous || rank(testStepResult.status) > rank(previous.status)) {
        worst.set(testCaseStartedId, { status: testStepResult.status, message: testStepResult.message });
      }
    }
    if (envelope.testCaseFinished) finished.push({ startedId: envelope.testCaseFinished.testCaseStartedId, retried: Boolean(envelope.testCaseFinished.willBeRetried) });
  }
  const results: ScenarioResult[] = [];
  for (const { startedId, retried } of finished) {
    if (retried) continue;
    const pickle = pickles.get(testCases.get(started.get(startedId) ?? '') ?? '');
    if (!pickle) continue;
    const step = worst.get(startedId) ?? { status: 'SKIPPED' };
    const status: ScenarioStatus = FAILING.has(step.status) ? 'failed' : step.status === 'SKIPPED' ? 'skipped' : 'passed';
    results.push({
      name: pickle.name,
      uri: pickle.uri,
      category: CATEGORIES.find((c) => pickle.tags.includes(`@${c}`)) ?? 'uncategorised',
      severity: pickle.tags.find((t) => t.startsWith('@severity:'))?.slice('@severity:'.length) ?? 'normal',
      status,
      message: status === 'failed' ? step.message?.split('\n')[0] : undefined,
    });
  }
  return results;
}

export interface DecideOptions {
  shown?: ShownFigure[];
  waivers?: WaiverSet;
  suite?: SuiteOutcome | null;
}

export function decide(scenarios: ScenarioResult[], criteria: Criterion[], run: RunDescription | null, options: DecideOptions = {}): Pick<SignOff, 'verdict' | 'reasons' | 'waived'> {
  const { shown = [], waivers, suite } = options;
  const reasons: string[] = [...(waivers?.errors ?? [])];
  if (!run) reasons.push('no run description: the suite did not start');
  else if (run.targetError) reasons.push(`the ${run.target} target did not start: ${run.targetError}`);
  if (run?.stackFault) reasons.push(`a fault was injected into the stack (${run.stackFault}): this run is a mutation test, not a release candidate`);
  for (const category of CATEGORIES) {
    if (!scenarios.some((s) => s.category === category && s.status !== 'skipped')) reasons.push(`category ${category}: no scenario ran`);
  }
  if (criteria.length === 0) reasons.push('no acceptance criterion was recorded');
  const waiverFor = (c: Criterion): Waiver | undefined => waivers?.waivers.find((w) => w.criterion === c.id);
  const waived: WaivedFailure[] = [];
  for (const c of criteria) {
    if (c.source === 'SIMULATED') reasons.push(`criterion rests on simulated data: ${c.statement}`);
    if (c.passed) continue;
    const waiver = waiverFor(c);
    const failure = `${c.severity} criterion failed: ${c.statement} (${c.id}; expected ${c.threshold}, measured ${formatMeasured(c.measured)} ${c.unit}, source ${c.source})`;
    if (waiver && CRITICAL.has(c.severity)) reasons.push(`${failure}; a critical criterion cannot be waived (waiver of ${waiver.owner})`);
    else if (waiver) waived.push({ waiver, criterion: { id: c.id, statement: c.statement, threshold: c.threshold, measured: c.measured, unit: c.unit, source: c.source, severity: c.severity, scenario: c.scenario } });
    else reasons.push(failure);
  }
  for (const s of scenarios.filter((x) => x.status === 'failed')) {
    // A scenario that failed only on waived criteria is covered by those waivers; any other failure blocks.
    const failedHere = criteria.filter((c) => !c.passed && c.scenario === s.name);
    const onlyWaived = failedHere.length > 0 && failedHere.every((c) => waived.some((w) => w.criterion.id === c.id && w.criterion.scenario === s.name));
    if (!onlyWaived) reasons.push(`${s.severity} scenario failed: ${s.name} (${s.uri})${s.message ? `: ${s.message}` : ''}`);
  }
  if (suite && suite.exitCode !== 0 && !scenarios.some((s) => s.status === 'failed')) {
    reasons.push(`the suite ended with exit code ${suite.exitCode} and no failed scenario: read its output`);
  }
  const simulated = shown.filter((f) => f.source === 'SIMULATED');
  if (simulated.length > 0) {
    reasons.push(`${simulated.length} figure(s) shown in this run were simulated, e.g. ${simulated[0].label} in ${simulated[0].shownIn}${simulated[0].note ? ` (${simulated[0].note})` : ''}`);
  }
  const unique = [...new Set(reasons)];
  return { verdict: unique.length > 0 ? 'NO-GO' : waived.length > 0 ? 'GO WITH WAIVERS' : 'GO', reasons: unique, waived };
}

/** The exit code every command that writes a sign-off ends with: 0 for GO and GO WITH WAIVERS. */
export const verdictExitCode = (verdict: Verdict): number => (verdict === 'NO-GO' ? 1 : 0);

export function buildSignOff(reportsDir: string, waiverFile?: string): SignOff {
  const messagesFile = path.join(reportsDir, 'cucumber-messages.ndjson');
  const scenarios = fs.existsSync(messagesFile) ? scenariosFromMessages(fs.readFileSync(messagesFile, 'utf8')) : [];
  const run = readRunDescription(reportsDir) ?? null;
  const criteria = readLedger(reportsDir).filter((c) => !run || c.runId === run.runId);
  const shown = readShownFigures(reportsDir).filter((f) => !run || f.runId === run.runId);
  const mismatches = evidenceMismatches(criteria, allureEvidence(reportsDir).filter((c) => !run || c.runId === run.runId));
  const categories: SignOff['categories'] = {};
  for (const category of [...CATEGORIES, 'uncategorised']) {
    const mine = scenarios.filter((s) => s.category === category);
    if (category === 'uncategorised' && mine.length === 0) continue;
    categories[category] = {
      passed: mine.filter((s) => s.status === 'passed').length,
      failed: mine.filter((s) => s.status === 'failed').length,
      skipped: mine.filter((s) => s.status === 'skipped').length,
    };
  }
  const sources: Record<string, number> = {};
  for (const c of criteria) sources[c.source] = (sources[c.source] ?? 0) + 1;
  const figureSources: Record<string, number> = {};
  for (const f of shown) figureSources[f.source] = (figureSources[f.source] ?? 0) + 1;
  const outcomeFile = path.join(reportsDir, SUITE_OUTCOME_FILE);
  const suite = fs.existsSync(outcomeFile) ? (JSON.parse(fs.readFileSync(outcomeFile, 'utf8')) as SuiteOutcome) : null;
  const waivers = loadWaivers(waiverFile);
  const decision = decide(scenarios, criteria, run, { shown, waivers, suite });
  if (mismatches.length > 0) {
    decision.verdict = 'NO-GO';
    decision.reasons.push(...mismatches.map((m) => `evidence mismatch: ${m}`));
  }
  return { ...decision, waiverFile: waivers.file, suite, generatedAt: new Date().toISOString(), run, categories, scenarios, criteria, sources, figureSources, businessImpact: latestBusinessImpact(shown) };
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(signoff: SignOff): string {
  const run = signoff.run;
  const lines = [
    '# Release sign-off: financial inference platform',
    '',
    `**Verdict: ${signoff.verdict}**`,
    '',
    ...(signoff.waived.length > 0
      ? [
          `## Waived failures (${signoff.waived.length}), from ${signoff.waiverFile}`,
          '',
          '| criterion | severity | measured | threshold | reason | owner | expires |',
          '|---|---|---|---|---|---|---|',
          ...signoff.waived.map((w) => `| ${cell(w.criterion.statement)} (${w.criterion.id}) | ${w.criterion.severity} | ${cell(`${formatMeasured(w.criterion.measured)} ${w.criterion.unit}`.trim())} | ${cell(w.criterion.threshold)} | ${cell(w.waiver.reason)} | ${cell(w.waiver.owner)} | ${w.waiver.expires} |`),
          '',
        ]
      : []),
    `Generated ${signoff.generatedAt}. Every figure below was measured in this run; its source is named beside it.`,
    '',
    '## Run',
    '',
    '| item | value |',
    '|---|---|',
    `| run id | ${run?.runId ?? 'none'} |`,
    `| target | ${run?.target ?? 'none'} |`,
    `| seed | ${run?.seed ?? 'none'} |`,
    `| MLflow store | ${!run ? 'none' : run.databaseProblem ? cell(run.databaseProblem) : `${run.databaseSource}, PostgreSQL ${run.databaseServer}`} |`,
    `| Prometheus | ${run ? cell(run.prometheus) : 'none'} |`,
    `| dashboard | ${run?.dashboardUrl ?? 'none'} |`,
    `| stack | ${run ? cell(run.servedBy ?? run.stackUrl) : 'none'} |`,
    `| suite | ${signoff.suite ? `profile ${signoff.suite.profile}, exit code ${signoff.suite.exitCode}` : 'outcome not recorded (not run through npm run uat)'} |`,
    '',
  ];
  if (signoff.reasons.length > 0) {
    lines.push('## Why not GO', '', ...signoff.reasons.map((r) => `- ${cell(r)}`), '');
  }
  lines.push('## Categories', '', '| category | passed | failed | skipped |', '|---|---|---|---|');
  for (const [category, c] of Object.entries(signoff.categories)) lines.push(`| ${category} | ${c.passed} | ${c.failed} | ${c.skipped} |`);
  lines.push('', '## Acceptance criteria', '', '| category | scenario | criterion | threshold | measured | source | severity | result |', '|---|---|---|---|---|---|---|---|');
  for (const c of signoff.criteria) {
    lines.push(
      `| ${c.category} | ${cell(c.scenario)} | ${cell(c.statement)}${c.test ? ` (${cell(c.test)})` : ''} | ${cell(c.threshold)} | ${cell(`${formatMeasured(c.measured)} ${c.unit}`.trim())} | ${c.source} | ${c.severity} | ${c.passed ? 'passed' : '**failed**'} |`,
    );
  }
  if (signoff.businessImpact.length > 0) {
    lines.push(
      '',
      '## Business impact (ROI), as last shown in this run',
      '',
      'Computed by the dashboard from live figures and the assumptions in `fixtures/roi-assumptions.yaml`; the window is in the figure names.',
      '',
      '| figure | value | source | basis | shown in |',
      '|---|---|---|---|---|',
    );
    for (const f of signoff.businessImpact) {
      const value = f.value === null ? 'n/a' : `${formatMeasured(f.value)} ${f.unit}`.trim();
      lines.push(`| ${cell(f.label)} | ${cell(value)} | ${f.source} | ${cell(f.note ?? '')} | ${cell(f.shownIn)} at ${f.observedAt} |`);
    }
  }
  lines.push('', '## Sources of the figures', '', '| source | criteria |', '|---|---|');
  for (const [source, n] of Object.entries(signoff.sources)) lines.push(`| ${source} | ${n} |`);
  if (Object.keys(signoff.figureSources).length > 0) {
    lines.push('', '## Sources of the figures shown (dashboard, charts)', '', '| source | figures |', '|---|---|');
    for (const [source, n] of Object.entries(signoff.figureSources)) lines.push(`| ${source} | ${n} |`);
  }
  lines.push('');
  return lines.join('\n');
}

export function writeSignOff(reportsDir: string, waiverFile?: string): { signoff: SignOff; markdown: string; json: string } {
  const signoff = buildSignOff(reportsDir, waiverFile);
  const dir = path.join(reportsDir, 'signoff');
  fs.mkdirSync(dir, { recursive: true });
  const markdown = path.join(dir, 'signoff.md');
  const json = path.join(dir, 'signoff.json');
  fs.writeFileSync(markdown, renderMarkdown(signoff));
  fs.writeFileSync(json, JSON.stringify(signoff, null, 2));
  return { signoff, markdown, json };
}
