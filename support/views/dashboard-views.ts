/**
 * What the dashboard and the publication charts show, assembled from the live sources: accuracy
 * from the MLflow store, serving figures from Prometheus (or its labelled fallbacks), business
 * impact computed from both and the stakeholders' ROI assumptions, the bandit's allocation from its
 * controller, the explanations from their audit trail, drift from the drift monitor, the security
 * checks from the run's evidence ledger. Every figure carries its source.
 */
import fs from 'node:fs';
import type { HarnessConfig } from '../config.ts';
import { experimentCandidates, modelNames, routerShape, type RouterShape } from '../k8s/manifest-reader.ts';
import { readBanditState, type BanditStateView } from '../../bandit/client.ts';
import type { RunningTarget } from '../targets/target.ts';
import type { MlflowStore } from '../clients/mlflow-store.ts';
import { countSources, derived, figure, type Figure } from '../evidence/figure.ts';
import { evidenceFile, SOURCES, type Criterion } from '../evidence/ledger.ts';
import { LiveMetrics, type ServingView } from '../metrics/live-metrics.ts';
import { windowSeconds, type Window } from '../metrics/promql.ts';
import { abCharts, businessCharts, driftChart, explanationChart, type ChartOption } from '../charts/chart-options.ts';
import type { AuditStore } from '../../audit/store.ts';
import { readMonitorState, smallestPValue, VERDICTS_KEPT, type MonitorState } from '../../monitor/client.ts';
import { readRoiAssumptions } from '../report/roi.ts';

export const WINDOWS: Window[] = ['1m', '5m', '15m', '1h'];

export interface ExperimentShape {
  name: string;
  candidates: { name: string; weight: number }[];
}

export interface ViewSources {
  live: Pick<LiveMetrics, 'view'>;
  /** The MLflow store, or undefined with the reason it is not available. */
  store?: Pick<MlflowStore, 'latestAccuracies'>;
  storeProblem?: string;
  mlflowExperiment: string;
  experiment: ExperimentShape;
  /** Every served model, for the filter. */
  models: string[];
  /** The bandit controller's address, or why there is none. */
  bandit: { url: string } | { problem: string };
  /** The contextual router of the manifests, if they hold one. */
  router?: RouterShape;
  /** The explanation audit trail, or why there is none. */
  audit: { store: Pick<AuditStore, 'count' | 'latest'> } | { problem: string };
  /** The drift monitor's address, or why there is none. */
  drift: { url: string } | { problem: string };
  /** The run's evidence ledger (JSON lines, support/evidence/ledger.ts), read on each request; none given: no security view. */
  evidence?: string;
}

export interface EmptySection {
  empty: string;
}

/** The bandit's allocation as its controller reports it, or why there is none to show. */
export type BanditView = EmptySection | { experiment: string; strategy: string; updates: number; figures: Figure[] };

/** Per predictor: the weight the bandit set, P(best) at its last update, the rewards it has had and their mean; and the cumulative regret those rewards show. */
export async function banditView(bandit: ViewSources['bandit']): Promise<BanditView> {
  if ('problem' in bandit) return { empty: `No bandit allocation to show: ${bandit.problem}.` };
  let state: BanditStateView;
  const observedAt = new Date();
  try {
    state = await readBanditState(bandit.url, 3000);
  } catch (error) {
    return { empty: `The bandit controller at ${bandit.url} does not answer (${(error as Error).message}): no allocation to show.` };
  }
  const source = 'LIVE:bandit-controller';
  const figures = state.arms.flatMap((a) => [
    figure(`bandit-weight-${a.name}`, `Weight ${a.name}`, a.weight, '%', source, `set by ${state.strategy} at update ${state.updates}`, observedAt),
    figure(`bandit-probability-best-${a.name}`, `P(best) ${a.name}`, a.probabilityBest === null ? null : a.probabilityBest * 100, '%', source, a.probabilityBest === null ? 'no Thompson-sampling update yet' : 'posterior probability, at the last update', observedAt),
    figure(`bandit-rewards-${a.name}`, `Rewards ${a.name}`, a.rewards, 'rewards', source, undefined, observedAt),
    figure(`bandit-mean-reward-${a.name}`, `Mean reward ${a.name}`, a.meanReward, 'bp', source, a.meanReward === null ? 'no reward yet' : 'business value per call', observedAt),
  ]);
  figures.push(
    figure('bandit-cumulative-regret', 'Cumulative regret', state.estimatedRegret, 'bp', source, state.estimatedRegret === null ? 'no reward yet' : 'per predictor, its rewards times how far its mean reward lies below the best mean; since the controller last started afresh', observedAt),
  );
  return { experiment: state.experiment, strategy: state.strategy, updates: state.updates, figures };
}

/** Explanations listed in the audit trail, and the features that lead the latest of them. */
export type ExplanationsView = (EmptySection | { figures: Figure[] }) & { chart: ChartOption };

/** The latest explained instances whose leading features the view ranks. */
export const LATEST_EXPLANATIONS = 50;

/**
 * From the audit trail: how many instances were explained, and, over the latest 50, each feature's
 * mean |SHAP| for an up day (0 in an explanation where it was not among the top 5 the trail keeps),
 * the 5 largest shown.
 */
export async function explanationsView(audit: ViewSources['audit']): Promise<ExplanationsView> {
  const none = (empty: string): ExplanationsView => ({ empty, chart: explanationChart([], empty) });
  if ('problem' in audit) return none(`No explanation to show: ${audit.problem}.`);
  const observedAt = new Date();
  let count: number;
  let latest: Awaited<ReturnType<AuditStore['latest']>>;
  try {
    [count, latest] = await Promise.all([audit.store.count(), audit.store.latest(LATEST_EXPLANATIONS)]);
  } catch (error) {
    const message = (error as Error).message;
    return none(/explanation_audit.*does not exist/.test(message) ? 'No explanation has been audited yet: the explanation gateway has not written its trail.' : `The audit trail cannot be read (${message}): no explanation to show.`);
  }
  const source = 'LIVE:audit-postgres';
  const sums = new Map<string, number>();
  for (const row of latest) for (const f of row.topFeatures) sums.set(f.feature, (sums.get(f.feature) ?? 0) + Math.abs(f.shap));
  const leading = [...sums.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  const note = `over the latest ${latest.length} explained instances; 0 where the feature was not among an explanation's top 5`;
  const figures = [
    figure('explanations-audited', 'Explained instances on the audit trail', count, 'instances', source, undefined, observedAt),
    ...leading.map(([feature, sum]) => figure(`explanation-mean-abs-shap-${feature}`, `Mean |SHAP| ${feature}`, sum / latest.length, 'probability', source, note, observedAt)),
  ];
  return { figures, chart: explanationChart(figures.slice(1), note) };
}

/** The drift monitor's verdicts and episodes, and the p-values of the latest windows. */
export type DriftView = (EmptySection | { figures: Figure[] }) & { chart: ChartOption };

/**
 * From the drift monitor: per detector the windows it has checked, those reported as drift, and the
 * smallest p-value of the latest window (its feature in the note); the drift episodes opened,
 * whether one is open, and the alerts delivered; and the chart of −log10 of the p-values of the latest windows (per detector
 * the five features with the smallest p-value in any window).
 */
export async function driftView(drift: ViewSources['drift']): Promise<DriftView> {
  const none = (empty: string): DriftView => ({ empty, chart: driftChart([], empty) });
  if ('problem' in drift) return none(`No drift status to show: ${drift.problem}.`);
  const observedAt = new Date();
  let state: MonitorState;
  try {
    state = await readMonitorState(drift.url, 3000);
  } catch (error) {
    return none(`The drift monitor at ${drift.url} does not answer (${(error as Error).message}): no drift status to show.`);
  }
  const { windows, episodes } = state;
  const source = 'LIVE:drift-monitor';
  const figures: Figure[] = [];
  for (const [detector, list] of Object.entries(windows)) {
    const last = list[list.length - 1];
    const smallest = last ? smallestPValue(last.pValues) : undefined;
    figures.push(
      figure(`drift-windows-${detector}`, `Windows checked by ${detector}`, list.length, 'windows', source, list.length === VERDICTS_KEPT ? `the latest ${VERDICTS_KEPT}` : undefined, observedAt),
      figure(`drift-windows-drifting-${detector}`, `Windows ${detector} reported as drift`, list.filter((v) => v.drift).length, 'windows', source, undefined, observedAt),
      figure(`drift-last-min-p-${detector}`, `Smallest p-value, latest window of ${detector}`, smallest ? smallest[1] : null, 'p-value', source, smallest ? `feature ${smallest[0]}, window ${last!.offset}` : 'no window checked yet', observedAt),
    );
  }
  const open = episodes.find((e) => !e.closedAt);
  const latest = episodes[episodes.length - 1];
  figures.push(
    figure('drift-episodes', 'Drift episodes opened', episodes.length, 'episodes', source, latest ? `latest: ${latest.id}, ${Object.keys(latest.features).join(', ')}` : undefined, observedAt),
    figure('drift-episode-open', 'Drift episode open now', open ? 1 : 0, 'episodes', source, open ? `${open.id} since ${open.openedAt}` : undefined, observedAt),
  );
  const alerts = episodes.flatMap((e) => e.alerts.filter((a) => a.delivered).map((a) => ({ ...a, episode: e.id })));
  const lastAlert = alerts.sort((a, b) => a.at.localeCompare(b.at))[alerts.length - 1];
  figures.push(figure('drift-alerts-sent', 'Drift alerts delivered to the webhook', alerts.length, 'alerts', source, lastAlert ? `latest: ${lastAlert.status} for ${lastAlert.episode} at ${lastAlert.at}` : undefined, observedAt));
  return { figures, chart: driftChart(Object.values(windows).flat(), 'per detector the five features with the smallest p-value in any window; higher is stronger evidence of drift') };
}

/** The router's traffic: the days it routed, and the requests each regime's predictor answered. */
export type RouterView = EmptySection | { pipeline: string; figures: Figure[] };

export function routerView(shape: RouterShape | undefined, view: ServingView): RouterView {
  if (!shape) return { empty: 'No contextual router is deployed: no routing to show.' };
  return {
    pipeline: shape.pipeline,
    figures: [
      requestsFigure(view, shape.router, 'router-routed', `Days routed by ${shape.router}`, `every request of ${shape.pipeline} that reached its router`),
      ...shape.routes.map((r) =>
        requestsFigure(view, r.predictor, `router-requests-${r.regime}`, `${r.regime} regime: ${r.predictor} requests answered`, shape.shared.includes(r.predictor) ? `all of ${r.predictor}'s requests, its experiment's included (Seldon's metrics carry no pipeline label)` : undefined),
      ),
    ],
  };
}

/** A figure of the security view: the criterion it shows, and that criterion's verdict in this run. */
export interface SecurityFigure extends Figure {
  /** The criterion's id in the evidence ledger. */
  criterion: string;
  status: 'passed' | 'failed' | 'not checked';
  /** The scenario that recorded it (absent when not checked yet). */
  scenario?: string;
}

/** The security checks of the run as its evidence ledger holds them, or why there are none to show. */
export type SecurityView = EmptySection | { summary: string; figures: SecurityFigure[]; recorded: number; skippedLines: number };

/** The note of a security figure whose criterion the run has not recorded yet. */
export const NOT_CHECKED = 'not checked yet in this run';

/** How one security criterion is shown: its figure's value and note, read from the criterion's record. */
interface SecurityCheck {
  criterion: string;
  figure: string;
  label: string;
  unit: string;
  /** The value, or null with the reason in the note when the record cannot be read as this figure. */
  read: (c: Criterion) => { value: number | null; note?: string };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const list = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
const details = (c: Criterion): Record<string, unknown> => (c.details && typeof c.details === 'object' ? c.details : {});
const notUnderstood = (c: Criterion) => ({ value: null, note: `the ledger records ${JSON.stringify(c.measured)}, not a count` });
/** A record written before its details carried the figures (or by something else): shown as unreadable, with what it says. */
const noDetails = (c: Criterion, fields: string) => ({ value: null, note: `the ledger's record has no ${fields} in its details (it measured ${JSON.stringify(c.measured)})` });

function scanHits(c: Criterion): { value: number | null; note?: string } {
  const d = details(c);
  if (num(c.measured) === undefined) return notUnderstood(c);
  const files = num(d.files);
  const processes = num(d.processes);
  return { value: num(c.measured)!, note: files === undefined || processes === undefined ? undefined : `in ${files} files and ${processes} command lines` };
}

/** The security criteria the view shows, in its order (support/tasks/access-control.ts, support/tasks/fault-drills.ts). */
export const SECURITY_CHECKS: readonly SecurityCheck[] = [
  {
    criterion: 'access-matrix-as-declared',
    figure: 'security-access-matrix',
    label: 'Access-matrix lines as declared by the API server',
    unit: 'lines',
    read: (c) => {
      const lines = num(details(c).lines);
      const differing = num(c.measured);
      if (lines === undefined || differing === undefined) return { value: null, note: `the ledger records ${JSON.stringify(c.measured)} differing of ${JSON.stringify(details(c).lines)} lines` };
      return { value: lines - differing, note: `of ${lines}; ${differing} differing` };
    },
  },
  {
    criterion: 'identity-tokens-refused-where-denied',
    figure: 'security-tokens-refused',
    label: "Requests refused as declared, with each identity's own token",
    unit: 'requests',
    read: (c) => {
      const d = details(c);
      const [denied, refused, allowed, letThrough] = [num(d.denied), num(d.deniedAnswered403), num(d.allowed), num(d.allowedLetThrough)];
      if (denied === undefined || refused === undefined || allowed === undefined || letThrough === undefined) return noDetails(c, 'counts of denied and allowed requests');
      const wrong = list(d.wrong)?.length;
      const parts = [`of ${denied} denied`, `${letThrough} of ${allowed} allowed let through`, wrong === undefined ? undefined : `${wrong} answered otherwise than declared`];
      return { value: refused, note: parts.filter(Boolean).join('; ') };
    },
  },
  {
    criterion: 'manifests-follow-security-policy',
    figure: 'security-policy-violations',
    label: 'Security-policy violations in the manifests',
    unit: 'violations',
    read: (c) => {
      const d = details(c);
      if (num(c.measured) === undefined) return notUnderstood(c);
      return { value: num(c.measured)!, note: num(d.objects) === undefined || num(d.files) === undefined ? undefined : `in ${num(d.objects)} objects of ${num(d.files)} files` };
    },
  },
  {
    criterion: 'database-authenticates-with-scram',
    figure: 'security-database-authentication',
    label: 'MLflow database: authentication settings weaker than SCRAM-SHA-256',
    unit: 'settings',
    read: (c) => {
      // what the server asked a fresh connection for (none: trust) and how it stores passwords
      const asked = list(details(c).asked);
      const encryption = details(c).passwordEncryption;
      if (asked === undefined || asked.some((a) => typeof a !== 'string') || typeof encryption !== 'string') return noDetails(c, 'methods asked for and password encryption');
      const weak = (asked.length === 0 ? 1 : asked.filter((a) => !/^SASL .*\bSCRAM-SHA-256\b/.test(String(a))).length) + (encryption === 'scram-sha-256' ? 0 : 1);
      return { value: weak, note: String(c.measured) };
    },
  },
  {
    criterion: 'no-credential-in-run-output',
    figure: 'security-credential-hits',
    label: "Credentials found in the run's output while it ran",
    unit: 'hits',
    read: scanHits,
  },
  {
    criterion: 'no-credential-in-run-output-at-end',
    figure: 'security-credential-hits-at-end',
    label: "Credentials found in the run's output after its last scenario",
    unit: 'hits',
    read: scanHits,
  },
  {
    criterion: 'dashboard-recovers-after-kill',
    figure: 'security-dashboard-recovery',
    label: 'Dashboard serving live figures again after a kill',
    unit: 's',
    read: (c) => {
      const after = num(details(c).recoveredAfterS);
      return after === undefined ? { value: null, note: `not back: ${String(c.measured)}` } : { value: after, note: `after its SIGKILL (${String(c.measured)})` };
    },
  },
  {
    criterion: 'mlflow-recovers-after-kill',
    figure: 'security-mlflow-recovery',
    label: 'MLflow store read again after its database was killed',
    unit: 's',
    read: (c) => {
      const after = num(details(c).storeRecoveredAfterS);
      const lost = list(details(c).lost)?.length;
      const runs = num(details(c).runsBefore);
      if (after === undefined) return { value: null, note: `not back: ${String(c.measured)}` };
      return { value: after, note: `after the restart${lost === undefined || runs === undefined ? '' : `; ${lost} of ${runs} runs lost`}` };
    },
  },
];

/** A ledger line as a criterion, or undefined when it is not one (not JSON, no id, no verdict, no valid time). */
function criterionOf(line: string): Criterion | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const c = parsed as Partial<Criterion>;
  if (typeof c.id !== 'string' || typeof c.passed !== 'boolean' || typeof c.recordedAt !== 'string' || Number.isNaN(Date.parse(c.recordedAt)) || c.measured === undefined) return undefined;
  return c as Criterion;
}

/** The ledger's criteria, the latest record of each id, and how many non-blank lines were not criteria. */
export function readLatestCriteria(text: string): { latest: Map<string, Criterion>; records: number; skipped: number } {
  const latest = new Map<string, Criterion>();
  let records = 0;
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const c = criterionOf(line);
    if (!c) {
      skipped++;
      continue;
    }
    records++;
    const seen = latest.get(c.id);
    // the latest by its time; of two at the same time, the one written later
    if (!seen || Date.parse(c.recordedAt) >= Date.parse(seen.recordedAt)) latest.set(c.id, c);
  }
  return { latest, records, skipped };
}

/**
 * The security checks of the run, read from its evidence ledger on each call: one figure per
 * security criterion, from the latest record of its id, labelled with the source the criterion was
 * measured from and observed when it was recorded, with its verdict; a criterion the run has not
 * recorded yet is UNAVAILABLE, "not checked yet in this run". A line that is not a criterion (a
 * partial write, junk) is skipped and the summary says so. No ledger given, or one that cannot be
 * read: a sentence saying why, no figure.
 */
export async function securityView(ledger: string | undefined): Promise<SecurityView> {
  if (!ledger) return { empty: 'No security results to show: the dashboard was not given the run\'s evidence ledger (--evidence).' };
  let text: string;
  try {
    text = await fs.promises.readFile(ledger, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    // no ledger yet: the run has recorded no criterion so far
    if (e.code !== 'ENOENT') return { empty: `The run's evidence ledger cannot be read (${e.message}): no security result to show.` };
    text = '';
  }
  const { latest, records, skipped } = readLatestCriteria(text);
  const figures: SecurityFigure[] = SECURITY_CHECKS.map((check) => {
    const c = latest.get(check.criterion);
    if (!c) return { ...figure(check.figure, check.label, null, check.unit, 'UNAVAILABLE', NOT_CHECKED), criterion: check.criterion, status: 'not checked' };
    const status = c.passed ? 'passed' : 'failed';
    const at = new Date(c.recordedAt);
    if (!(SOURCES as readonly string[]).includes(c.source)) {
      return { ...figure(check.figure, check.label, null, check.unit, 'UNAVAILABLE', `the ledger names an unknown source ${JSON.stringify(c.source)}`, at), criterion: check.criterion, status, scenario: c.scenario };
    }
    const { value, note } = check.read(c);
    return { ...figure(check.figure, check.label, value, check.unit, c.source, note, at), criterion: check.criterion, status, scenario: c.scenario };
  });
  const checked = figures.filter((f) => f.status !== 'not checked');
  const failed = checked.filter((f) => f.status === 'failed');
  const skippedNote = skipped > 0 ? ` ${skipped} line${skipped === 1 ? '' : 's'} of the ledger could not be read as a criterion and ${skipped === 1 ? 'was' : 'were'} skipped.` : '';
  const summary =
    checked.length === 0
      ? `No security check has been recorded in this run yet (the evidence ledger holds ${records} criteri${records === 1 ? 'on' : 'a'}, none of them one of the ${SECURITY_CHECKS.length} security checks): each result shows here once its scenario has run.${skippedNote}`
      : `From the run's evidence ledger, the latest result of each security check: ${checked.length} of ${SECURITY_CHECKS.length} checked, ${checked.length - failed.length} passed, ${failed.length} failed${failed.length > 0 ? ` (${failed.map((f) => f.criterion).join(', ')})` : ''}.${skippedNote}`;
  return { summary, figures, recorded: checked.length, skippedLines: skipped };
}

export interface DashboardData {
  generatedAt: string;
  window: Window;
  models: string[];
  selected: string[];
  experiment: ExperimentShape;
  ab: { figures: Figure[]; charts: Record<string, ChartOption>; servingNote?: string };
  business: { figures: Figure[]; charts: Record<string, ChartOption>; assumptionsFile: string };
  bandit: BanditView;
  router: RouterView;
  drift: DriftView;
  explanations: ExplanationsView;
  security: SecurityView;
  sources: Record<string, number>;
}

async function accuracyFigures(sources: ViewSources, models: string[]): Promise<Figure[]> {
  let logged = new Map<string, number>();
  let problem = sources.storeProblem ?? 'MLflow store not configured';
  if (sources.store) {
    try {
      logged = new Map((await sources.store.latestAccuracies(sources.mlflowExperiment)).map((a) => [a.model, a.accuracy]));
      problem = 'no finished run logged for this model';
    } catch (error) {
      problem = `MLflow store unreachable: ${(error as Error).message}`;
    }
  }
  return models.map((m) => figure(`accuracy:${m}`, `${m} accuracy on held-out days`, logged.get(m) ?? null, 'ratio', 'LIVE:mlflow-postgres', logged.has(m) ? undefined : problem));
}

// A model with no series in the source is unavailable, with the cause, never a 0 under a live label.
const missingSeries = (view: ServingView, model: string): string => `no series for ${model} in ${view.source}${view.note ? `; ${view.note}` : ''}`;

/** A model's requests answered since the servers started, from the view's source; `extra` adds to the note. */
function requestsFigure(view: ServingView, model: string, id: string, label: string, extra?: string): Figure {
  const has = model in view.requestsTotal;
  const note = has ? [view.note, extra].filter(Boolean).join('; ') || undefined : missingSeries(view, model);
  return figure(id, label, has ? view.requestsTotal[model] : null, 'requests', view.source, note, new Date(view.observedAt));
}

function servingFigures(view: ServingView, models: string[], candidates: string[], candidateCounts: Record<string, number>): Figure[] {
  const at = new Date(view.observedAt);
  const out: Figure[] = [];
  for (const m of models) {
    out.push(requestsFigure(view, m, `requests:${m}`, `${m} requests answered`));
    const hasRate = m in view.requestRate;
    const rateNote = hasRate ? [view.note, view.covers ? `covers ${view.covers}, not the ${view.window} window` : undefined].filter(Boolean).join('; ') || undefined : missingSeries(view, m);
    out.push(figure(`rate:${m}`, `${m} request rate (${view.covers ? `${view.covers}; ${view.window} asked` : view.window})`, hasRate ? view.requestRate[m] : null, 'req/s', view.source, rateNote, at));
  }
  // Each candidate's share of the requests the experiment's candidates answered, computed from their
  // counts. Seldon's metrics carry no experiment label: direct requests to a candidate count too.
  const inputs = candidates.map((k) => figure(`requests:${k}`, `${k} requests answered`, k in candidateCounts ? candidateCounts[k] : null, 'requests', view.source, undefined, at));
  for (const c of candidates.filter((k) => models.includes(k))) {
    const share = derived(`share:${c}`, `${c} share of the requests the experiment's candidates answered`, 'ratio', inputs, (values) => {
      const total = values.reduce((a, b) => a + b, 0);
      return total > 0 ? values[candidates.indexOf(c)] / total : NaN;
    });
    out.push(share.value === null && share.source === 'DERIVED' ? { ...share, source: 'UNAVAILABLE', note: 'no requests answered by the candidates yet' } : { ...share, note: `${share.note}; every request each candidate answered, direct requests included (Seldon's metrics carry no experiment label)` });
  }
  // Windowed figures name the period they really cover when it is shorter than the window asked for.
  const period = view.covers ? `${view.covers}; ${view.window} asked` : view.window;
  const note = (fallback: string | undefined): string | undefined => [view.note, view.covers ? `covers ${view.covers}, not the ${view.window} window` : undefined, fallback].filter(Boolean).join('; ') || undefined;
  out.push(figure('p95-latency', `P95 inference latency (${period})`, view.p95Seconds === null ? null : view.p95Seconds * 1000, 'ms', view.source, view.p95Seconds === null ? note('no requests in the window') : note(undefined), at));
  out.push(figure('error-ratio', `Error ratio (${period})`, view.errorRatio, 'ratio', view.source, view.errorRatio === null ? note('no requests in the window') : note(undefined), at));
  return out;
}

function businessFigures(accuracy: Figure[], view: ServingView, experiment: ExperimentShape): Figure[] {
  const assumptions = readRoiAssumptions();
  const [baseline, challenger] = experiment.candidates.map((c) => c.name);
  const find = (id: string): Figure => accuracy.find((f) => f.id === id) ?? figure(id, id, null, 'ratio', 'UNAVAILABLE', 'not shown under the current filter');
  const at = new Date(view.observedAt);
  // An estimate, labelled so: the request rate over the window times its length (Prometheus's rate() extrapolates).
  const challengerRate = figure(`rate:${challenger}`, `${challenger} request rate (${view.window})`, challenger in view.requestRate ? view.requestRate[challenger] : null, 'req/s', view.source, view.note, at);
  const estimated = derived(`window-requests:${challenger}`, `${challenger} requests in the window (${view.window}), estimated`, 'requests', [challengerRate], ([rate]) => rate * windowSeconds(view.window));
  const challengerRequests: Figure = estimated.value === null ? estimated : { ...estimated, note: `estimate: request rate × ${view.window}; ${estimated.note}` };
  const valuePer = figure('assumption:value-per-correct', 'Value of one more correct call', assumptions.value_per_correct_prediction, assumptions.currency, 'ASSUMPTION', 'fixtures/roi-assumptions.yaml');
  const costPer = figure('assumption:extra-cost', `Extra serving cost per 1000 ${challenger} requests`, assumptions.extra_cost_per_1000_requests, assumptions.currency, 'ASSUMPTION', 'fixtures/roi-assumptions.yaml');
  const uplift = derived('accuracy-uplift', `Accuracy uplift of ${challenger} over ${baseline}`, 'ratio', [find(`accuracy:${challenger}`), find(`accuracy:${baseline}`)], ([c, b]) => c - b);
  const extraCorrect = derived('extra-correct-calls', `Extra correct calls from ${challenger} in the window`, 'calls', [uplift, challengerRequests], ([u, n]) => u * n);
  const value = derived('extra-value', 'Value of the extra correct calls', assumptions.currency, [extraCorrect, valuePer], ([n, v]) => n * v);
  const cost = derived('extra-cost', `Extra serving cost of ${challenger}`, assumptions.currency, [challengerRequests, costPer], ([n, c]) => (n / 1000) * c);
  const net = derived('net-benefit', 'Net benefit in the window', assumptions.currency, [value, cost], ([v, c]) => v - c);
  const roi = derived('roi', 'Return on the extra serving cost', 'ratio', [net, cost], ([n, c]) => (c > 0 ? n / c : NaN));
  return [uplift, challengerRequests, valuePer, costPer, extraCorrect, value, cost, net, roi];
}

/** Where the live figures come from: Prometheus, the stack's /metrics, the MLflow store, the manifests. */
export interface SourceSettings {
  prometheusUrl?: string;
  metricsUrl?: string;
  namespace?: string;
  store?: MlflowStore;
  storeProblem?: string;
  manifests: string[];
  experiment: string;
  mlflowExperiment: string;
  seed: number;
  /** The bandit controller's address, or why there is none. */
  banditUrl?: string;
  /** The audit trail's reader (the PostgreSQL the explanation gateway writes to), or why there is none. */
  audit?: ViewSources['audit'];
  /** The drift monitor's address. */
  driftUrl?: string;
  /** The run's evidence ledger, for the security view. */
  evidence?: string;
}

/** The view sources for the settings (throws when the manifests hold no such experiment). */
export function viewSources(settings: SourceSettings): ViewSources & { live: LiveMetrics } {
  const candidates = experimentCandidates(settings.manifests, settings.experiment);
  return {
    live: new LiveMetrics({
      prometheusUrl: settings.prometheusUrl,
      metricsUrl: settings.metricsUrl,
      scope: settings.namespace ? { namespace: settings.namespace } : {},
      weights: Object.fromEntries(candidates.map((c) => [c.name, c.weight])),
      seed: settings.seed,
    }),
    store: settings.store,
    storeProblem: settings.storeProblem,
    mlflowExperiment: settings.mlflowExperiment,
    experiment: { name: settings.experiment, candidates },
    models: modelNames(settings.manifests),
    bandit: settings.banditUrl ? { url: settings.banditUrl } : { problem: 'no bandit controller was given (--bandit-url)' },
    router: routerShape(settings.manifests),
    audit: settings.audit ?? { problem: 'no audit trail database was given' },
    drift: settings.driftUrl ? { url: settings.driftUrl } : { problem: 'no drift monitor was given (--drift-url)' },
    evidence: settings.evidence,
  };
}

/** The live sources of a running target, as the dashboard itself reads them. */
export function targetViewSources(target: RunningTarget, config: HarnessConfig, experiment = 'financial-ab-test'): ViewSources {
  return viewSources({
    prometheusUrl: 'url' in target.prometheus ? target.prometheus.url : undefined,
    metricsUrl: target.metricsUrl,
    namespace: target.namespace,
    store: target.store,
    storeProblem: 'problem' in target.database ? target.database.problem : undefined,
    manifests: config.manifests,
    experiment,
    mlflowExperiment: config.mlflowExperiment,
    seed: target.seed,
    banditUrl: 'url' in target.bandit ? target.bandit.url : undefined,
    audit: 'audit' in target.explanations ? { store: target.explanations.audit } : { problem: target.explanations.problem },
    driftUrl: 'url' in target.driftMonitor ? target.driftMonitor.url : undefined,
    evidence: evidenceFile(config.reportsDir),
  });
}

export async function dashboardData(sources: ViewSources, window: Window, selectedModels: string[] = []): Promise<DashboardData> {
  const selected = selectedModels.filter((m) => sources.models.includes(m));
  const models = selected.length > 0 ? selected : sources.models;
  const candidates = sources.experiment.candidates.map((c) => c.name);
  // the candidates' counts are read whatever the filter, so a candidate's share always has its denominator
  const countsToo = selected.length > 0 && candidates.some((c) => !selected.includes(c));
  // the router's counts are read whatever the filter: its view is not filtered by model
  const routerModels = sources.router ? [sources.router.router, ...sources.router.routes.map((r) => r.predictor)] : [];
  const [accuracy, view, withCandidates, bandit, routed, explanations, drift, security] = await Promise.all([
    accuracyFigures(sources, models),
    sources.live.view(window, selected),
    countsToo ? sources.live.view(window, [...new Set([...selected, ...candidates])]) : undefined,
    banditView(sources.bandit),
    sources.router && selected.length > 0 ? sources.live.view(window, routerModels) : undefined,
    explanationsView(sources.audit),
    driftView(sources.drift),
    securityView(sources.evidence),
  ]);
  const abFigures = [...accuracy, ...servingFigures(view, models, candidates, (withCandidates ?? view).requestsTotal)];
  const business = businessFigures(accuracy, view, sources.experiment);
  const weights = Object.fromEntries(sources.experiment.candidates.map((c) => [c.name, c.weight]));
  return {
    generatedAt: new Date().toISOString(),
    window,
    models: sources.models,
    selected: models,
    experiment: sources.experiment,
    ab: { figures: abFigures, charts: abCharts(abFigures, view, models, weights), servingNote: view.note },
    business: { figures: business, charts: businessCharts(business, window), assumptionsFile: 'fixtures/roi-assumptions.yaml' },
    bandit,
    router: routerView(sources.router, routed ?? view),
    drift,
    explanations,
    security,
    sources: countSources([...abFigures, ...business, ...('figures' in bandit ? bandit.figures : []), ...('figures' in explanations ? explanations.figures : []), ...('figures' in drift ? drift.figures : []), ...('figures' in security ? security.figures : [])]),
  };
}
