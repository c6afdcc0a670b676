/**
 * The live-data path end to end: Prometheus scrapes the platform, counts each request under the
 * model that answered it, the dashboard's counts grow by the requests the harness saw answered; when Prometheus stops the
 * dashboard switches to the platform's own metrics, labelled, and comes back when it returns.
 */
import { DashboardPage, type DashboardFigure, type DashboardView } from '../browser/dashboard-page.ts';
import { OipClient } from '../clients/oip-client.ts';
import { readManifests } from '../k8s/manifest-reader.ts';
import { PROMQL } from '../metrics/promql.ts';
import { waitFor, WaitTimeoutError } from '../wait.ts';
import type { UatWorld } from '../world.ts';
import { allResponses, routeCounts } from './traffic.ts';

// the figures read from a serving source (the candidates' shares are DERIVED from the counts)
const SERVING_FIGURE = /^(requests|rate):|^p95-latency$|^error-ratio$/;

export async function promTotals(world: UatWorld): Promise<Record<string, number>> {
  const samples = await world.prometheus.query(PROMQL.requestsTotalByModel({ namespace: world.target.namespace }));
  return Object.fromEntries(samples.map((s) => [s.metric.model, s.value]));
}

export async function stackTotals(world: UatWorld): Promise<Record<string, number>> {
  return (await world.metrics.snapshot()).answeredPerModel();
}

/** The counts of the main stack's Models only (the run's manifests, the router included): the dashboard shows those, while on a cluster the namespace may serve others too (a scenario's own deployment). */
const mainStackOnly = (world: UatWorld, counts: Record<string, number>): Record<string, number> => {
  const mine = new Set(readManifests(world.run.config.manifests).filter((r) => r.kind === 'Model').map((r) => r.name));
  return Object.fromEntries(Object.entries(counts).filter(([model]) => mine.has(model)));
};

export const sameCounts = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
};

/** Every scrape target is up, and Prometheus has caught up with the platform's own counters. */
export async function ensurePrometheusScraping(world: UatWorld): Promise<void> {
  const prometheus = world.prometheus;
  // judged on a scrape taken after this check began: a part that started listening just after
  // Prometheus last scraped it (the first scenario of a run) is not down; one still down then is
  const since = Date.now();
  let targets = await prometheus.targets();
  if (targets.some((t) => t.health !== 'up')) {
    targets = await waitFor('a scrape of every target after the check began', 10_000, async () => {
      const now = await prometheus.targets();
      return now.every((t) => Date.parse(t.lastScrape) >= since) ? now : undefined;
    }, 250).catch(async (error: Error) => {
      if (!(error instanceof WaitTimeoutError)) throw error;
      return prometheus.targets();
    });
  }
  const down = targets.filter((t) => t.health !== 'up');
  await world.check({
    id: 'prometheus-scrapes-platform',
    statement: 'Prometheus scrapes every platform endpoint',
    threshold: 'every scrape target up',
    measured: `${targets.length - down.length} of ${targets.length} up`,
    unit: 'targets',
    source: 'LIVE:prometheus',
    passed: targets.length > 0 && down.length === 0,
    details: { targets, down: down.map((t) => `${t.job} ${t.scrapeUrl}: ${t.health} (${t.lastError})`) },
  });
  world.counters.prometheusBefore = await caughtUpBaseline(() => promTotals(world), () => stackTotals(world), sameCounts);
}

/**
 * Prometheus's counts once they equal the platform's own (bounded wait). A Prometheus that does not
 * catch up within the bound gives its counts as they are: the criterion that compares later
 * counts then fails with what it saw, instead of the baseline step failing without a criterion.
 */
export async function caughtUpBaseline<T>(prometheus: () => Promise<T>, platform: () => Promise<T>, same: (a: T, b: T) => boolean, deadlineMs = 10_000): Promise<T> {
  try {
    return await waitFor('Prometheus to have scraped the latest platform counters', deadlineMs, async () => {
      const [prom, own] = await Promise.all([prometheus(), platform()]);
      return same(prom, own) ? prom : undefined;
    }, 250);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    return prometheus();
  }
}

/** Prometheus's per-model counts before the scenario's traffic (taken by "Prometheus is scraping the platform"). */
function prometheusBaseline(world: UatWorld): Record<string, number> {
  if (!world.counters.prometheusBefore) throw new Error('the Prometheus baseline was not taken: add "Prometheus is scraping the platform" before sending traffic');
  return world.counters.prometheusBefore;
}

/** The scenario's answered requests per model, from each answer's x-seldon-route. */
const answeredPerModel = (world: UatWorld): Record<string, number> => routeCounts(allResponses(world).filter((r) => r.status === 200));

export async function checkPrometheusCountsPerModel(world: UatWorld, seconds: number): Promise<void> {
  const before = prometheusBaseline(world);
  const answered = answeredPerModel(world);
  const started = Date.now();
  let counted: Record<string, number> = {};
  let caughtUp = true;
  try {
    counted = await waitFor(`Prometheus to count ${JSON.stringify(answered)} more requests`, seconds * 1000, async () => {
      const now = await promTotals(world);
      const delta = Object.fromEntries(Object.keys(now).map((m) => [m, now[m] - (before[m] ?? 0)]).filter(([, n]) => n !== 0));
      counted = delta;
      return sameCounts(delta, answered) ? delta : undefined;
    }, 250);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    caughtUp = false;
  }
  const models = [...new Set([...Object.keys(answered), ...Object.keys(counted)])].sort();
  const off = models.filter((m) => (answered[m] ?? 0) !== (counted[m] ?? 0));
  world.counters.prometheusCounted = counted;
  await world.check({
    id: 'prometheus-counts-each-request-per-model',
    statement: `within ${seconds} s Prometheus counts each answered request under the model that answered it`,
    threshold: '0 models whose count differs from the requests they answered',
    measured: off.length,
    unit: 'models',
    source: 'LIVE:prometheus',
    passed: caughtUp && off.length === 0,
    details: { answeredPerRouteHeader: answered, countedByPromQL: counted, query: PROMQL.requestsTotalByModel({ namespace: world.target.namespace }), waitedMs: Date.now() - started },
  });
}

export async function checkCountedModelsHaveRuns(world: UatWorld): Promise<void> {
  const counted = Object.keys(world.counters.prometheusCounted ?? {});
  const runs = await world.store.latestAccuracies(world.run.config.mlflowExperiment, world.target.uatRunId);
  const logged = new Set(runs.map((r) => r.model));
  const without = counted.filter((m) => !logged.has(m));
  await world.check({
    id: 'counted-models-have-mlflow-runs',
    statement: 'every model Prometheus counts requests for has a finished training run of this release in the MLflow store',
    threshold: '0 served models without a run',
    measured: without.length,
    unit: 'models',
    source: 'LIVE:mlflow-postgres',
    passed: counted.length > 0 && without.length === 0,
    details: { counted, logged: [...logged], without },
  });
}

/** The scenario's dashboard page in Chromium, opened once. */
export async function openOrReuse(world: UatWorld): Promise<DashboardPage> {
  world.ui.dashboard ??= await DashboardPage.open(await world.browser(), world.dashboardUrl);
  return world.ui.dashboard;
}

/** What a dashboard view showed at one read, and what disagreed with the live source. */
export interface ViewRead {
  figures: DashboardFigure[];
  problems: string[];
}

/** A problem when figure `id` is missing, labelled other than `source`, or not `want` (relative tolerance 1e-6). */
export function figureProblem(figures: DashboardFigure[], id: string, want: number | null, source: string, what: string): string | undefined {
  const f = figures.find((g) => g.id === id);
  if (!f) return `${id} not shown`;
  if (f.source !== source) return `${id} labelled ${f.source}`;
  const near = f.value !== null && want !== null && Math.abs(f.value - want) <= 1e-6 * Math.max(1, Math.abs(want));
  return near ? undefined : `${id} shows ${f.value}, ${what} ${want}`;
}

/**
 * Open a dashboard view's tab in Chromium and read it every 250 ms until a read has no problem, within `seconds` of
 * `since` (ms); attaches a screenshot. `after` is the seconds from `since` to the agreeing read, or
 * null when none agreed in time; `last` is the last read.
 */
export async function untilViewAgrees(world: UatWorld, view: DashboardView, condition: string, since: number, seconds: number, screenshot: string, read: (dashboard: DashboardPage) => Promise<ViewRead>): Promise<{ after: number | null; last: ViewRead }> {
  const opening = Date.now();
  const dashboard = await openOrReuse(world);
  // the view's tab, as a stakeholder opens it: only what is on screen is read
  await dashboard.showView(view);
  // the seconds count from the event, less the time the harness took to open its browser and the
  // tab (on a loaded machine, most of them): that delay is the harness's, not the dashboard's
  const from = since + (Date.now() - opening);
  let last: ViewRead = { figures: [], problems: ['not read yet'] };
  const agreed = await dashboard.until(condition, seconds * 1000 - (Date.now() - from), async () => {
    last = await read(dashboard);
    return last.problems.length === 0;
  });
  const after = agreed ? (Date.now() - from) / 1000 : null;
  await world.attach(await dashboard.screenshot(), { mediaType: 'image/png', fileName: screenshot });
  return { after, last };
}

export async function openDashboardForOutage(world: UatWorld): Promise<void> {
  await openOrReuse(world);
}

const requestFigures = (figures: DashboardFigure[]) => Object.fromEntries(figures.filter((f) => f.id.startsWith('requests:')).map((f) => [f.id.slice('requests:'.length), f.value ?? NaN]));

/**
 * The dashboard's request counts against the harness's own record: each model's count grew, from
 * Prometheus's count before the scenario's traffic (taken when it equalled the platform's counters),
 * by exactly the requests the harness saw it answer (`x-seldon-route`), in both directions: every
 * model that answered is shown, and every model whose count grew answered. Counts not labelled
 * `source` are problems too.
 */
function countProblems(world: UatWorld, figures: DashboardFigure[], source: string): { shown: Record<string, number>; grew: Record<string, number>; answered: Record<string, number>; problems: string[] } {
  const before = prometheusBaseline(world);
  const answered = answeredPerModel(world);
  const counts = figures.filter((f) => f.id.startsWith('requests:'));
  const shown = requestFigures(figures);
  const grew = Object.fromEntries(Object.entries(shown).map(([m, n]) => [m, n - (before[m] ?? 0)]));
  const problems = [
    ...(Object.keys(answered).length === 0 ? ['no request was answered in this scenario'] : []),
    ...Object.keys(answered).filter((m) => !Number.isFinite(shown[m])).map((m) => `${m} answered ${answered[m]} but is not shown`),
    ...Object.entries(grew).filter(([m, n]) => Number.isFinite(n) && n !== (answered[m] ?? 0)).map(([m, n]) => `${m} grew by ${n}, answered ${answered[m] ?? 0}`),
    ...counts.filter((f) => f.source !== source).map((f) => `${f.id} labelled ${f.source}`),
  ];
  return { shown, grew, answered, problems };
}

/** The dashboard's counts, refreshed until they match the requests answered (bounded), and what was last seen. */
async function settledCounts(world: UatWorld, source: string, seconds: number): Promise<ReturnType<typeof countProblems> & { refreshed: boolean }> {
  const dashboard = await openOrReuse(world);
  await dashboard.showView('ab');
  let result = { ...countProblems(world, [], source), refreshed: false };
  await dashboard.until(`the dashboard's counts to match the requests answered, labelled ${source}`, seconds * 1000, async () => {
    // a dashboard that stopped answering leaves its last figures on screen: those are compared
    const refreshed = await dashboard.refreshNow(5000).then(() => true, () => false);
    result = { ...countProblems(world, await dashboard.figures(), source), refreshed };
    return result.problems.length === 0;
  }, 500);
  return result;
}

export async function checkDashboardCountsRequestsAnswered(world: UatWorld, seconds = 10): Promise<void> {
  const result = await settledCounts(world, 'LIVE:prometheus', seconds);
  await world.check({
    id: 'dashboard-counts-requests-answered',
    statement: `within ${seconds} s each model's request count on the dashboard grew by exactly the requests the harness saw it answer, every model that answered is shown, and the counts are labelled LIVE:prometheus`,
    threshold: '0 models missing, miscounted or mislabelled',
    measured: result.problems.length,
    unit: 'problems',
    source: 'LIVE:browser',
    passed: result.problems.length === 0,
    details: { answeredPerRouteHeader: result.answered, shown: result.shown, grewSincePrometheusBaseline: result.grew, problems: result.problems, promqlNow: await promTotals(world).catch((e: Error) => e.message) },
  });
}

export async function stopPrometheus(world: UatWorld): Promise<void> {
  if (!(await world.target.stopPrometheus())) throw new Error('this target has no local Prometheus to stop (PROMETHEUS_URL is set, or the binary is missing)');
  world.counters.prometheusStoppedAt = Date.now();
}

export async function restartPrometheus(world: UatWorld): Promise<void> {
  world.counters.prometheusStoppedAt = Date.now();
  await world.target.restartPrometheus();
}

/**
 * Wait (bounded) until every serving figure on the dashboard carries `source` (and, `withCounts`,
 * its request counts equal the platform's own counters); seconds since the source changed, or null.
 */
async function waitForServingSource(world: UatWorld, source: string, seconds: number, withCounts: boolean): Promise<{ after: number | null; figures: DashboardFigure[] }> {
  const dashboard = await openOrReuse(world);
  await dashboard.showView('ab');
  const since = world.counters.prometheusStoppedAt ?? Date.now();
  let figures: DashboardFigure[] = [];
  const labelledSo = await dashboard.until(`the dashboard's serving figures to be labelled ${source}`, seconds * 1000, async () => {
    figures = (await dashboard.figures()).filter((f) => SERVING_FIGURE.test(f.id));
    const counts = figures.filter((f) => f.id.startsWith('requests:'));
    const labelled = counts.length > 0 && counts.every((f) => f.source === source) && figures.every((f) => f.source === source || f.source === 'UNAVAILABLE');
    return labelled && (!withCounts || sameCounts(requestFigures(figures), mainStackOnly(world, await stackTotals(world))));
  });
  return { after: labelledSo ? (Date.now() - since) / 1000 : null, figures };
}

export async function checkDashboardFallsBack(world: UatWorld, seconds: number): Promise<void> {
  // the label and the cause only: whether the fallback counts are right is the next criterion's
  const { after, figures } = await waitForServingSource(world, 'LIVE:stack-metrics', seconds, false);
  const note = figures.find((f) => f.id.startsWith('requests:'))?.note ?? '';
  await world.attach(await (await openOrReuse(world)).screenshot(), { mediaType: 'image/png', fileName: 'dashboard-prometheus-down.png' });
  await world.check({
    id: 'dashboard-falls-back-when-prometheus-stops',
    statement: 'when Prometheus stops, the dashboard labels its serving figures LIVE:stack-metrics and names the cause',
    threshold: `<= ${seconds} s, note names Prometheus as unreachable`,
    measured: after ?? `> ${seconds}`,
    unit: 's',
    source: 'LIVE:browser',
    passed: after !== null && after <= seconds && /Prometheus .* unreachable/.test(note),
    details: { note, badges: figures.map((f) => `${f.id}=${f.source}`) },
  });
}

export async function checkFallbackCountsRequestsAnswered(world: UatWorld, seconds = 5): Promise<void> {
  const result = await settledCounts(world, 'LIVE:stack-metrics', seconds);
  await world.check({
    id: 'fallback-counts-requests-answered',
    statement: "in the fallback, each model's request count on the dashboard grew by exactly the requests the harness saw it answer, labelled LIVE:stack-metrics",
    threshold: '0 models missing, miscounted or mislabelled',
    measured: result.problems.length,
    unit: 'problems',
    source: 'LIVE:browser',
    passed: result.problems.length === 0,
    details: { answeredPerRouteHeader: result.answered, shown: result.shown, grewSincePrometheusBaseline: result.grew, problems: result.problems, refreshed: result.refreshed, stackMetricsNow: await stackTotals(world).catch((e: Error) => e.message) },
  });
}

export async function checkStillAnswering(world: UatWorld): Promise<void> {
  const dashboard = await openOrReuse(world);
  // the target's addresses as they are: a part that died is a problem counted here, not a step error
  const { dashboardUrl, inferenceUrl } = world.target;
  const health = await fetch(`${dashboardUrl}/healthz`).then((r) => r.status, () => 0);
  const api = await fetch(`${dashboardUrl}/api/dashboard?window=1m`).then((r) => r.status, () => 0);
  const ready = await new OipClient(inferenceUrl).isReady().catch(() => false);
  const problems = [
    ...(health === 200 ? [] : [`dashboard /healthz answered ${health || 'nothing'}`]),
    ...(api === 200 ? [] : [`dashboard API answered ${api || 'nothing'}`]),
    ...(ready ? [] : ['the platform is not ready']),
    ...dashboard.pageErrors.map((e) => `page error: ${e}`),
    ...world.target.deaths().map((d) => `died: ${d}`),
  ];
  await world.check({
    id: 'nothing-crashes-when-prometheus-stops',
    statement: 'with Prometheus stopped, the dashboard and the platform keep answering and the page raises no error',
    threshold: '0 problems',
    measured: problems.length,
    unit: 'problems',
    source: 'LIVE:browser',
    passed: problems.length === 0,
    details: { problems },
  });
}

export async function checkDashboardBackOnPrometheus(world: UatWorld, seconds: number): Promise<void> {
  const { after, figures } = await waitForServingSource(world, 'LIVE:prometheus', seconds, true);
  await world.check({
    id: 'dashboard-returns-to-prometheus',
    statement: "when Prometheus is back, the dashboard labels its serving figures LIVE:prometheus again, with the platform's counts",
    threshold: `<= ${seconds} s`,
    measured: after ?? `> ${seconds}`,
    unit: 's',
    source: 'LIVE:browser',
    passed: after !== null && after <= seconds,
    details: { badges: figures.map((f) => `${f.id}=${f.source}`) },
  });
}

