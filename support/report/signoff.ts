/**
 * The release sign-off: what was tested (release, commit, target, data), scenario results per
 * category (from the Cucumber message stream), every recorded criterion with threshold, measured
 * value and source (from the evidence ledger), the business case, and a verdict for the run's scope
 * (all categories, or those its profile selected), one rule for every command that writes it:
 *   NO-GO            a scenario or criterion failed, a figure rests on simulated data, the target
 *                    did not start, a fault was injected, the waiver file has errors;
 *   INCOMPLETE       nothing failed, but the run was interrupted or a category of its scope ran no
 *                    scenario;
 *   GO WITH WAIVERS  every scenario of the scope passed, except failed criteria that are not
 *                    critical and are waived in the reviewed waiver file (listed first);
 *   GO               everything in the scope passed.
 * Only GO (or GO WITH WAIVERS) for all categories on a cluster is a verdict for release: a GO for
 * fewer categories, or on the embedded stand-in, says so beside the verdict.
 */
import fs from 'node:fs';
import path from 'node:path';
import { allureTests, criterionKey, linkCriteria, SINGLE_FILE_REPORT } from './allure-links.ts';
import { CATEGORIES, formatMeasured, readLedger, readShownFigures, type Criterion, type ShownFigure } from '../evidence/ledger.ts';
import { allureEvidence, evidenceMismatches } from './allure-evidence.ts';
import { readRunDescription, type RunDescription } from './run-description.ts';
import { loadWaivers, type Waiver, type WaiverSet } from './waivers.ts';
import { businessCaseOf, type BusinessCaseReport } from './roi.ts';

export type ScenarioStatus = 'passed' | 'failed' | 'skipped';

export interface ScenarioResult {
  name: string;
  uri: string;
  category: string;
  severity: string;
  status: ScenarioStatus;
  message?: string;
  /** When Cucumber finished it (ISO). */
  finishedAt?: string;
}

export type Verdict = 'GO' | 'GO WITH WAIVERS' | 'NO-GO' | 'INCOMPLETE';

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
  /** The categories the profile selects (all of them when absent). */
  scope?: string[];
  /** `--name` filters: only the scenarios matching them ran. */
  nameFilters?: string[];
  /** Stopped by SIGINT or SIGTERM before the suite ended, and when. */
  interrupted?: string;
  interruptedAt?: string;
}

export const SUITE_OUTCOME_FILE = 'suite-outcome.json';

export interface SignOff {
  verdict: Verdict;
  /** What the verdict covers: `GO for release`, or why it is not a release verdict. */
  scopeNote: string;
  scope: string[];
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
  /** Each criterion's test in the run's single-file Allure report (criterionKey to uid); empty when the report was not built. */
  allureTests: Record<string, string>;
  /** The business case recomputed now from the run's measured inputs and the assumptions as they stand, or why there is none. */
  businessCase: BusinessCaseReport | { problem: string };
}

const CRITICAL = new Set(['critical', 'blocker']);
const FAILING = new Set(['FAILED', 'AMBIGUOUS', 'UNDEFINED', 'PENDING', 'UNKNOWN']);

/** Scenario results from a Cucumber message stream (NDJSON); the last attempt of each test case counts. */
export function scenariosFromMessages(ndjson: string): ScenarioResult[] {
  const pickles = new Map<string, { name: string; uri: string; tags: string[] }>();
  const testCases = new Map<string, string>();
  const started = new Map<string, string>();
  const worst = new Map<string, { status: string; message?: string }>();
  const finished: { startedId: string; retried: boolean; at?: string }[] = [];
  const rank = (status: string): number => (FAILING.has(status) ? 3 : status === 'SKIPPED' ? 2 : 1);
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    let envelope: Record<string, any>;
    try {
      envelope = JSON.parse(line) as Record<string, any>;
    } catch {
      // the last line of a stream cut off by an interruption; the envelopes before it count
      continue;
    }
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
    if (envelope.testCaseFinished) {
      const { testCaseStartedId, willBeRetried, timestamp } = envelope.testCaseFinished;
      finished.push({ startedId: testCaseStartedId, retried: Boolean(willBeRetried), at: timestamp ? new Date(timestamp.seconds * 1000 + Math.floor(timestamp.nanos / 1e6)).toISOString() : undefined });
    }
  }
  const results: ScenarioResult[] = [];
  for (const { startedId, retried, at } of finished) {
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
      ...(at ? { finishedAt: at } : {}),
    });
  }
  return results;
}

export interface DecideOptions {
  shown?: ShownFigure[];
  waivers?: WaiverSet;
  suite?: SuiteOutcome | null;
  /** Where the ledger and the Allure attachments disagree (allure-evidence.ts). */
  evidenceMismatches?: string[];
}

export function decide(scenarios: ScenarioResult[], criteria: Criterion[], run: RunDescription | null, options: DecideOptions = {}): Pick<SignOff, 'verdict' | 'reasons' | 'waived' | 'scope' | 'scopeNote'> {
  const { shown = [], waivers, suite, evidenceMismatches: mismatches = [] } = options;
  const scope = suite?.scope ?? [...CATEGORIES];
  const reasons: string[] = [...(waivers?.errors ?? [])];
  // what leaves the scope untested without anything failing
  const missing: string[] = [];
  if (suite?.interrupted) missing.push(`the run was interrupted (${suite.interrupted}) before the suite ended: only the scenarios that finished are counted`);
  if (!run) (suite?.interrupted ? missing : reasons).push('no run description: the suite did not start');
  else if (run.targetError) reasons.push(`the ${run.target} target did not start: ${run.targetError}`);
  if (run?.stackFault) reasons.push(`a fault was injected into the stack (${run.stackFault}): this run is a mutation test, not a release candidate`);
  for (const category of scope) {
    if (!scenarios.some((s) => s.category === category && s.status !== 'skipped')) missing.push(`category ${category}: no scenario ran`);
  }
  // scenarios that ran and measured nothing (when none ran, the scope is incomplete instead)
  if (criteria.length === 0 && scenarios.some((s) => s.status !== 'skipped')) reasons.push('no acceptance criterion was recorded');
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
  if (suite && !suite.interrupted && suite.exitCode !== 0 && !scenarios.some((s) => s.status === 'failed')) {
    reasons.push(`the suite ended with exit code ${suite.exitCode} and no failed scenario: read its output`);
  }
  const simulated = shown.filter((f) => f.source === 'SIMULATED');
  if (simulated.length > 0) {
    reasons.push(`${simulated.length} figure(s) shown in this run were simulated, e.g. ${simulated[0].label} in ${simulated[0].shownIn}${simulated[0].note ? ` (${simulated[0].note})` : ''}`);
  }
  reasons.push(...mismatches.map((m) => `evidence mismatch: ${m}`));
  const blocking = [...new Set(reasons)];
  const verdict: Verdict = blocking.length > 0 ? 'NO-GO' : missing.length > 0 ? 'INCOMPLETE' : waived.length > 0 ? 'GO WITH WAIVERS' : 'GO';
  return { verdict, reasons: [...blocking, ...missing], waived, scope, scopeNote: scopeNote(verdict, scope, run, suite) };
}

/** What a verdict covers: only a passing run of every category on a cluster is a verdict for release. */
function scopeNote(verdict: Verdict, scope: string[], run: RunDescription | null, suite: SuiteOutcome | null | undefined): string {
  if (verdict === 'NO-GO') return 'not releasable: see the reasons';
  if (verdict === 'INCOMPLETE') return 'not a verdict: part of the scope did not run';
  const partial = [
    ...(scope.length < CATEGORIES.length ? [`only ${scope.join(', ')} ran`] : []),
    ...(suite?.nameFilters?.length ? ['only the scenarios picked by --name ran'] : []),
    ...(run?.target !== 'kubernetes' ? ['on the embedded Seldon-compatible stand-in, not a cluster'] : run.notACluster ? [run.notACluster] : []),
  ];
  return partial.length === 0 ? 'GO for release: every category passed on a cluster' : `not a release verdict: ${partial.join('; ')}`;
}

/** The exit code every command that writes a sign-off ends with: 0 for GO and GO WITH WAIVERS, 1 otherwise. */
export const verdictExitCode = (verdict: Verdict): number => (verdict === 'GO' || verdict === 'GO WITH WAIVERS' ? 0 : 1);

export function buildSignOff(reportsDir: string, waiverFile?: string): SignOff {
  const messagesFile = path.join(reportsDir, 'cucumber-messages.ndjson');
  const scenarios = fs.existsSync(messagesFile) ? scenariosFromMessages(fs.readFileSync(messagesFile, 'utf8')) : [];
  const run = readRunDescription(reportsDir) ?? null;
  const outcomeFile = path.join(reportsDir, SUITE_OUTCOME_FILE);
  const suite = fs.existsSync(outcomeFile) ? (JSON.parse(fs.readFileSync(outcomeFile, 'utf8')) as SuiteOutcome) : null;
  // what an interruption cut short is neither passed nor failed: the stop pulled the platform from under it
  const cut = suite?.interruptedAt;
  if (cut) for (const s of scenarios) if (s.finishedAt && s.finishedAt >= cut) Object.assign(s, { status: 'skipped', message: 'cut short by the interruption' });
  // the evidence of this run, recorded before any interruption: the ledger and the Allure attachments alike
  const counted = (c: Criterion): boolean => (!run || c.runId === run.runId) && (!cut || c.recordedAt < cut);
  const criteria = readLedger(reportsDir).filter(counted);
  const shown = readShownFigures(reportsDir).filter((f) => !run || f.runId === run.runId);
  const mismatches = evidenceMismatches(criteria, allureEvidence(reportsDir).filter(counted));
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
  const waivers = loadWaivers(waiverFile);
  const decision = decide(scenarios, criteria, run, { shown, waivers, suite, evidenceMismatches: mismatches });
  const allureTestsOf = linkCriteria(criteria, allureTests(reportsDir));
  return { ...decision, waiverFile: waivers.file, suite, generatedAt: new Date().toISOString(), run, categories, scenarios, criteria, sources, figureSources, allureTests: allureTestsOf, businessCase: businessCaseOf(reportsDir) };
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Whether a category's scenarios count toward the verdict (uncategorised ones always show). */
export const inScope = (signoff: Pick<SignOff, 'scope'>, category: string): boolean => category === 'uncategorised' || signoff.scope.includes(category);

const number = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const percent = (share: number, digits = 1): string => `${number(share * 100, digits)} %`;

/** Where the run ran, in words a release manager reads. */
function targetInWords(run: RunDescription): string {
  if (run.target !== 'kubernetes') return `the embedded Seldon-compatible stand-in on loopback (${run.servedBy}), not a cluster`;
  return run.notACluster ? `a Kubernetes API server, not a Seldon cluster: ${run.servedBy}; ${run.notACluster}` : `a Kubernetes cluster: ${run.servedBy}`;
}

function scopeInWords(signoff: SignOff): string {
  const all = signoff.scope.length === CATEGORIES.length;
  const profile = signoff.suite ? `profile ${signoff.suite.profile}` : 'profile not recorded';
  const names = signoff.suite?.nameFilters?.length ? `; only scenarios named by --name ${signoff.suite.nameFilters.join(' ')}` : '';
  return `${all ? 'all categories' : signoff.scope.join(', ')} (${profile}${names})`;
}

/** The business case as a table: measured inputs, assumptions, then what follows from them. */
function businessCaseLines(signoff: SignOff): string[] {
  const bc = signoff.businessCase;
  const lines = ['## Business case (ROI)', ''];
  if ('problem' in bc) return [...lines, `Business case ${bc.problem}.`, ''];
  const { inputs, assumptions: a, result: r, assumptionsFile } = bc;
  const money = (v: number): string => `${number(v)} ${a.currency}`;
  const assumption = `ASSUMPTION | ${assumptionsFile}`;
  lines.push(
    `The enhanced predictor's case over the baseline: ${inputs.challenger} replacing ${inputs.baseline}. Computed when this sign-off was written, from the inputs this run measured (${inputs.measuredAt}) and the assumptions in \`${assumptionsFile}\` as they stand; formulas in support/report/roi.ts.`,
    '',
    '| | figure | value | source | basis |',
    '|---|---|---|---|---|',
    `| measured | ${cell(inputs.baselineAccuracy.label)} | ${percent(inputs.baselineAccuracy.value)} | ${inputs.baselineAccuracy.source} | ${cell(inputs.baselineAccuracy.note ?? '')} |`,
    `| measured | ${cell(inputs.challengerAccuracy.label)} | ${percent(inputs.challengerAccuracy.value)} | ${inputs.challengerAccuracy.source} | ${cell(inputs.challengerAccuracy.note ?? '')} |`,
    `| measured | ${cell(inputs.answeredShare.label)} | ${percent(inputs.answeredShare.value)} | ${inputs.answeredShare.source} | ${cell(inputs.answeredShare.note ?? '')} |`,
    `| context | ${cell(inputs.requestsInRun.label)} | ${number(inputs.requestsInRun.value)} requests | ${inputs.requestsInRun.source} | ${cell(inputs.requestsInRun.note ?? '')}; not in the formulas |`,
    ...(inputs.p95LatencyMs ? [`| context | ${cell(inputs.p95LatencyMs.label)} | ${number(inputs.p95LatencyMs.value, 1)} ms | ${inputs.p95LatencyMs.source} | not in the formulas |`] : []),
    `| assumed | value of one more correct call | ${number(a.value_per_correct_prediction, 2)} ${a.currency} | ${assumption} |`,
    `| assumed | projected requests a day | ${number(a.projected_daily_requests)} | ${assumption} |`,
    `| assumed | infrastructure cost a year | ${money(a.infrastructure_cost_per_year)} | ${assumption} |`,
    `| assumed | engineering cost (one-time) | ${money(a.engineering_cost)} | ${assumption} |`,
    `| assumed | period | ${number(a.period_days)} days | ${assumption} |`,
    `| result | accuracy uplift | ${number(r.upliftPoints, 1)} percentage points (${percent(r.upliftRelative)} relative) | DERIVED | challenger accuracy - baseline accuracy |`,
    `| result | extra correct calls a day | ${number(r.extraCorrectPerDay)} | DERIVED | projected requests x answered share x uplift |`,
    `| result | revenue increase over the period | ${money(r.revenueIncrease)} | DERIVED | extra correct calls a day x value of a call x period |`,
    `| result | cost over the period | ${money(r.cost)} | DERIVED | infrastructure x period / 365 + engineering |`,
    `| result | ROI | ${number(r.roiPercent)} % | DERIVED | (revenue increase - cost) / cost |`,
    `| result | payback | ${r.paybackDays === null ? 'never: no revenue increase' : `${number(r.paybackDays, 1)} days`} | DERIVED | cost / (revenue increase / period) |`,
    '',
  );
  return lines;
}

export function renderMarkdown(signoff: SignOff): string {
  const run = signoff.run;
  const lines = [
    '# Release sign-off: financial inference platform',
    '',
    `**Verdict: ${signoff.verdict}** for ${scopeInWords(signoff)}: ${signoff.scopeNote}.`,
    '',
    '| what was tested | |',
    '|---|---|',
    `| release | ${run ? cell(run.release ?? 'not recorded') : 'none'} |`,
    `| commit | ${run ? cell(run.commit ?? 'not recorded') : 'none'} |`,
    `| target | ${run ? cell(targetInWords(run)) : 'none: the suite did not start'} |`,
    `| data | ${run ? `seeded synthetic market data (fixtures/market-data.ts), seed ${run.seed}` : 'none'} |`,
    `| scope | ${cell(scopeInWords(signoff))} |`,
    `| date | run started ${run?.startedAt ?? 'never'}; sign-off written ${signoff.generatedAt} |`,
    `| run id | ${run?.runId ?? 'none'} |`,
    '',
  ];
  if (signoff.reasons.length > 0) {
    lines.push(`## Why ${signoff.verdict === 'INCOMPLETE' ? 'INCOMPLETE' : 'not GO'}`, '', ...signoff.reasons.map((r) => `- ${cell(r)}`), '');
  }
  if (signoff.waived.length > 0) {
    lines.push(
      `## Waived failures (${signoff.waived.length}), from ${signoff.waiverFile}`,
      '',
      '| criterion | severity | measured | threshold | reason | owner | expires |',
      '|---|---|---|---|---|---|---|',
      ...signoff.waived.map((w) => `| ${cell(w.criterion.statement)} (${w.criterion.id}) | ${w.criterion.severity} | ${cell(`${formatMeasured(w.criterion.measured)} ${w.criterion.unit}`.trim())} | ${cell(w.criterion.threshold)} | ${cell(w.waiver.reason)} | ${cell(w.waiver.owner)} | ${w.waiver.expires} |`),
      '',
    );
  }
  lines.push('## Categories', '', '| category | passed | failed | skipped |', '|---|---|---|---|');
  for (const [category, c] of Object.entries(signoff.categories)) lines.push(`| ${category}${inScope(signoff, category) ? '' : ' (not in scope)'} | ${c.passed} | ${c.failed} | ${c.skipped} |`);
  lines.push(
    '',
    '## Acceptance criteria',
    '',
    'Every measured value was read in this run from the source named beside it; the business case below also rests on stated assumptions.',
    '',
    Object.keys(signoff.allureTests).length > 0
      ? `Each scenario links to its test in the run's single-file Allure report (\`${SINGLE_FILE_REPORT}\`, beside this folder): steps, attachments, the evidence record.`
      : `No Allure HTML was built for this run, so the criteria link to no test: \`npm run report\` builds it and rewrites this document with the links.`,
    '',
    '| category | scenario | criterion | threshold | measured | source | severity | result |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const c of signoff.criteria) {
    const uid = signoff.allureTests[criterionKey(c)];
    const scenario = uid ? `[${cell(c.scenario)}](../${SINGLE_FILE_REPORT}#testresult/${uid})` : cell(c.scenario);
    lines.push(
      `| ${c.category} | ${scenario} | ${cell(c.statement)}${c.test ? ` (${cell(c.test)})` : ''} | ${cell(c.threshold)} | ${cell(`${formatMeasured(c.measured)} ${c.unit}`.trim())} | ${c.source} | ${c.severity} | ${c.passed ? 'passed' : '**failed**'} |`,
    );
  }
  lines.push('', ...businessCaseLines(signoff));
  lines.push(
    '## Environment',
    '',
    '| item | value |',
    '|---|---|',
    `| MLflow store | ${!run ? 'none' : run.databaseProblem ? cell(run.databaseProblem) : `${run.databaseSource}, PostgreSQL ${run.databaseServer}`} |`,
    `| Prometheus | ${run ? cell(run.prometheus) : 'none'} |`,
    `| dashboard | ${run?.dashboardUrl ?? 'none'} |`,
    `| stack | ${run ? cell(run.servedBy ?? run.stackUrl) : 'none'} |`,
    ...(run?.stacks ? [`| stacks deployed | ${run.stacks.join(', ')} (what the selected scenarios need) |`] : []),
    `| suite | ${signoff.suite ? `profile ${signoff.suite.profile}, exit code ${signoff.suite.exitCode}${signoff.suite.interrupted ? `, interrupted (${signoff.suite.interrupted})` : ''}` : 'outcome not recorded (not run through npm run uat)'} |`,
    ...Object.entries(run?.versions ?? {}).map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
    '',
  );
  const skipped = signoff.scenarios.filter((x) => x.status === 'skipped');
  const outOfScope = CATEGORIES.filter((c) => !signoff.scope.includes(c));
  lines.push('## Skipped', '');
  if (skipped.length === 0 && outOfScope.length === 0) lines.push('Nothing: every scenario of every category ran.');
  for (const c of outOfScope) lines.push(`- category ${c}: not in this run's scope (${signoff.suite ? `profile ${signoff.suite.profile}` : 'profile not recorded'})`);
  for (const x of skipped) lines.push(`- ${cell(x.name)} (${x.uri}): ${x.message ?? 'skipped'}`);
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
