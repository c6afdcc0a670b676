/**
 * Load on the platform's endpoints with a profile of scenarios/ (k6 when installed, else the
 * built-in engine), decided by thresholds stated in the feature on the k6-shaped summary. The
 * summary, readable by people, its JSON, and the latency over time and the latency histogram as
 * charts are attached to the scenario.
 */
import { featuresRequest } from '../clients/oip-client.ts';
import { renderSvg, svgToPng } from '../charts/render-charts.ts';
import { latencyHistogramChart, latencyTimelineChart } from '../charts/chart-options.ts';
import { describeLoad, metricValues, type LoadSummary } from '../load/builtin-engine.ts';
import { runLoad, type LoadCluster } from '../load/engine.ts';
import { loadKubeConfig, targetNamespace } from '../k8s/kubeconfig.ts';
import { loadProfile, withOverrides, type ProfileOverrides } from '../load/profile.ts';
import type { WorkerTarget } from '../load/load-worker.ts';
import type { UatWorld } from '../world.ts';
import { stepInputError } from '../feature-input.ts';
import { HarnessInputError } from '../harness-input.ts';
import { marketSnapshots } from './traffic.ts';
import { caughtUpBaseline, promTotals, sameCounts, stackTotals } from './live-metrics.ts';
import { PROMQL } from '../metrics/promql.ts';
import { blockMeans, linearTrend } from '../stats/trend.ts';

/** The endpoint of a `name.experiment` / `name.pipeline` / model, with the seeded market snapshots as payloads. */
function endpoint(world: UatWorld, target: string): WorkerTarget {
  const name = target.replace(/\.(experiment|pipeline)$/, '');
  return {
    url: `${world.oip.baseUrl}/v2/models/${encodeURIComponent(name)}/infer`,
    headers: { 'content-type': 'application/json', 'seldon-model': target },
    bodies: marketSnapshots(world.target.seed).slice(0, 200).map((s) => JSON.stringify(featuresRequest([s]))),
  };
}

/** The cluster a distributed load (UAT_LOAD_ENGINE=k6-operator) runs in: the Kubernetes target's namespace. */
function loadCluster(world: UatWorld): LoadCluster {
  const config = world.run.config;
  if (config.target !== 'kubernetes') throw new Error('UAT_LOAD_ENGINE=k6-operator runs the load in a Kubernetes cluster: it needs UAT_TARGET=kubernetes');
  const kubeConfig = loadKubeConfig(config);
  return { kubeConfig, namespace: world.target.namespace ?? targetNamespace(config, kubeConfig) };
}

/**
 * Run a load, and stop it as soon as the target reports the stack dead: the step then fails naming
 * the death (which process, how, when, its last lines) instead of counting refused connections
 * until the profile's end.
 */
async function untilStackDies<T>(world: UatWorld, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const target = world.target;
  const watch = setInterval(() => {
    try {
      target.requireRunning('stack');
    } catch (error) {
      const died = /at (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec((error as Error).message)?.[1];
      const after = died ? ` ${((Date.now() - Date.parse(died)) / 1000).toFixed(1)} s after it died` : '';
      controller.abort(new Error(`the load was stopped${after}: ${(error as Error).message}`));
    }
  }, 100);
  try {
    return await run(controller.signal);
  } finally {
    clearInterval(watch);
  }
}

/** Run a profile of scenarios/ with a feature's numbers against `target`; the summary is attached. */
export async function runProfile(world: UatWorld, profileName: string, target: string, overrides: ProfileOverrides): Promise<LoadSummary> {
  let profile;
  try {
    profile = withOverrides(loadProfile(profileName), overrides);
  } catch (error) {
    // an unknown profile, a profile file the harness cannot use, or a number of the feature the profile does not take
    if (error instanceof HarnessInputError) throw stepInputError(world.step, error.message);
    throw error;
  }
  const summary = await untilStackDies(world, (signal) => runLoad(profile, endpoint(world, target), process.env, () => loadCluster(world), signal));
  world.traffic.load = summary;
  await world.attach(describeLoad(summary), { mediaType: 'text/plain', fileName: 'load-summary.txt' });
  await world.attach(JSON.stringify(summary, null, 2), { mediaType: 'application/json', fileName: 'load-summary.json' });
  // the charts of the run: latency over time and the latency histogram (the built-in engine keeps both)
  if (summary.timeline.length > 0) {
    for (const [name, option] of [['load-latency-over-time', latencyTimelineChart(summary)], ['load-latency-histogram', latencyHistogramChart(summary)]] as const) {
      await world.attach(svgToPng(renderSvg(option)), { mediaType: 'image/png', fileName: `${name}.png` });
    }
  }
  return summary;
}

export async function runShortLoad(world: UatWorld, target: string, virtualUsers: number, requests: number): Promise<void> {
  await runProfile(world, 'burst-experiment', target, { vus: virtualUsers, iterations: requests });
}

function summaryOf(world: UatWorld): LoadSummary {
  if (!world.traffic.load) throw new Error('no load was run in this scenario');
  return world.traffic.load;
}

export async function checkP95Below(world: UatWorld, thresholdMs: number): Promise<void> {
  const summary = summaryOf(world);
  const p95 = metricValues(summary, 'http_req_duration')['p(95)'];
  const reqs = metricValues(summary, 'http_reqs');
  await world.check({
    id: 'p95-latency',
    statement: `95th percentile of request latency under the ${summary.profile} load (${summary.executor})`,
    threshold: `p(95) < ${thresholdMs} ms`,
    measured: p95,
    unit: 'ms',
    source: 'LIVE:load-engine',
    test: summary.engine === 'builtin' ? 'built-in engine, HDR histogram at 3 significant digits' : (summary.note ?? `${summary.engine} end-of-test summary`),
    passed: Number.isFinite(p95) && p95 < thresholdMs,
    details: { engine: summary.engine, profile: summary.profile, requests: reqs.count, rate: reqs.rate, trend: metricValues(summary, 'http_req_duration') },
  });
}

export async function checkNoFailedRequests(world: UatWorld, expected: number): Promise<void> {
  const summary = summaryOf(world);
  const { passes: failed } = metricValues(summary, 'http_req_failed');
  const completed = metricValues(summary, 'http_reqs').count;
  await world.check({
    id: 'load-no-failed-requests',
    statement: 'no request fails under load, and every planned request was sent',
    threshold: `0 failed of ${expected} requests`,
    measured: failed + (expected - completed),
    unit: 'failed or unsent requests',
    source: 'LIVE:load-engine',
    passed: failed === 0 && completed === expected,
    details: { completed, failed, statusCounts: summary.statusCounts, errors: summary.errors },
  });
}

/** The arrival rate was sustained: every planned iteration started (none dropped) and the achieved rate is within 5 % of the plan. */
export async function checkRateSustained(world: UatWorld, rate: number, seconds: number): Promise<void> {
  const summary = summaryOf(world);
  const sent = metricValues(summary, 'http_reqs').count;
  const dropped = summary.metrics.dropped_iterations?.values.count ?? 0;
  const planned = rate * seconds;
  await world.check({
    id: 'load-rate-sustained',
    statement: `the load engine sent the planned ${rate} requests per second for ${seconds} s, none dropped for want of a free virtual user`,
    threshold: `>= ${Math.ceil(planned * 0.95)} of ${planned} requests sent, 0 dropped`,
    measured: `${sent} sent, ${dropped} dropped`,
    unit: '',
    source: 'LIVE:load-engine',
    passed: sent >= planned * 0.95 && dropped === 0,
    details: { sent, dropped, planned, timeline: summary.timeline.map((t) => t.requests) },
  });
}

/** The error ratio under load: failed requests (4xx, 5xx, no answer) over requests sent. */
export async function checkErrorRatio(world: UatWorld, maxPercent: number): Promise<void> {
  const summary = summaryOf(world);
  const { rate, passes } = metricValues(summary, 'http_req_failed');
  const count = metricValues(summary, 'http_reqs').count;
  await world.check({
    id: 'load-error-ratio',
    statement: 'the share of failed requests under load (4xx, 5xx or no answer)',
    threshold: `< ${maxPercent} %`,
    measured: +(rate * 100).toFixed(4),
    unit: '%',
    source: 'LIVE:load-engine',
    passed: count > 0 && rate * 100 < maxPercent,
    details: { failed: passes, requests: count, statusCounts: summary.statusCounts, errors: summary.errors },
  });
}

/** Every one of the concurrent users was answered: requests from all of them, none failed. */
export async function checkConcurrentUsersAnswered(world: UatWorld, users: number): Promise<void> {
  const summary = summaryOf(world);
  const inFlight = summary.metrics.vus_max?.values.value ?? 0;
  const { passes: failed } = metricValues(summary, 'http_req_failed');
  const count = metricValues(summary, 'http_reqs').count;
  await world.check({
    id: 'load-concurrent-users-answered',
    statement: `${users} users at once are all answered, none failed`,
    threshold: `${users} requests in flight at once at the peak, 0 failed`,
    measured: `${inFlight} in flight at the peak, ${failed} failed of ${count}`,
    unit: '',
    source: 'LIVE:load-engine',
    passed: inFlight >= users && failed === 0 && count >= users,
    details: { inFlight, failed, requests: count, statusCounts: summary.statusCounts, errors: summary.errors, p95Ms: metricValues(summary, 'http_req_duration')['p(95)'] },
  });
}

/**
 * The platform's own P95 (Prometheus: histogram_quantile over the agent's latency histogram for the
 * load's span) agrees with the load engine's. Prometheus cannot tell latencies apart within one
 * bucket of the histogram, so the tolerance is the width of the bucket that holds its P95.
 */
export async function checkPrometheusP95Agrees(world: UatWorld): Promise<void> {
  const summary = summaryOf(world);
  const engineMs = metricValues(summary, 'http_req_duration')['p(95)'];
  // Prometheus has scraped everything the load sent
  await caughtUpBaseline(() => promTotals(world), () => stackTotals(world), sameCounts);
  const end = new Date();
  const window = `${Math.ceil((end.getTime() - Date.parse(summary.startedAt)) / 1000)}s`;
  const scope = { namespace: world.target.namespace };
  const buckets = PROMQL.latencyBucketsIncrease(window, scope);
  const [quantile] = await world.prometheus.query(`histogram_quantile(0.95, ${buckets})`, end);
  const promMs = quantile ? quantile.value * 1000 : NaN;
  const bounds = (await world.prometheus.query(buckets, end)).map((b) => Number(b.metric.le)).filter(Number.isFinite).sort((a, b) => a - b).map((le) => le * 1000);
  const upper = bounds.find((le) => le >= promMs);
  const lower = upper === undefined ? undefined : ([...bounds].reverse().find((le) => le < upper) ?? 0);
  const widthMs = upper === undefined || lower === undefined ? NaN : upper - lower;
  const diff = Math.abs(engineMs - promMs);
  await world.check({
    id: 'load-p95-agrees-with-prometheus',
    statement: "the platform's own P95 latency (Prometheus, over the load's span) agrees with the load engine's",
    threshold: Number.isFinite(widthMs) ? `|engine - Prometheus| <= ${+widthMs.toFixed(3)} ms (the width of the histogram bucket holding Prometheus's P95, ${+lower!.toFixed(3)}-${+upper!.toFixed(3)} ms)` : "within the bucket of the platform's histogram that holds its P95",
    measured: Number.isFinite(diff) ? +diff.toFixed(3) : `no P95 from Prometheus over ${window}`,
    unit: 'ms',
    source: 'LIVE:prometheus',
    test: `histogram_quantile(0.95) of seldon_model_infer_api_seconds over ${window}, against the ${summary.engine} engine's P95`,
    passed: Number.isFinite(diff) && Number.isFinite(widthMs) && diff <= widthMs,
    details: { engineP95Ms: engineMs, prometheusP95Ms: promMs, bucketMs: [lower, upper], window, query: `histogram_quantile(0.95, ${buckets})` },
  });
}

/** Soak: the first tenth of the run is warm-up (compilation, pools, caches) and is left out of the trends. */
const WARM_UP_SHARE = 0.1;
/** Points of a trend are averaged over blocks of 10 s, so neighbouring points are nearly independent. */
const BLOCK_SECONDS = 10;
const TREND_ALPHA = 0.01;

/** The trend's test, said in the evidence. */
const trendTest = (what: string): string =>
  `least-squares trend of ${what} (10-s block means, first ${WARM_UP_SHARE * 100} % of the run left out as warm-up); one-sided ${100 - TREND_ALPHA * 100} % upper bound of the rise over the run (Student's t)`;

function trendOrReason(points: { x: number; y: number }[]): ReturnType<typeof linearTrend> | string {
  const blocks = blockMeans(points, BLOCK_SECONDS);
  if (blocks.length < 5) return `too short for a trend: ${blocks.length} blocks of ${BLOCK_SECONDS} s after the warm-up (at least 5)`;
  return linearTrend(blocks.map((b) => b.x), blocks.map((b) => b.y), TREND_ALPHA);
}

/**
 * Latency does not drift upward over a long load: the per-second P95 (the engine's HDR histograms)
 * rises by less than the tolerance, in milliseconds: a relative tolerance on a P95 of a millisecond
 * or two would judge jitter of a fraction of a millisecond, not a drift towards the latency bar.
 */
export async function checkLatencyDoesNotDrift(world: UatWorld, maxRiseMs: number): Promise<void> {
  const summary = summaryOf(world);
  const seconds = summary.timeline.filter((t) => t.p95Ms !== null);
  const last = summary.timeline.length;
  const points = seconds.filter((t) => t.second >= last * WARM_UP_SHARE).map((t) => ({ x: t.second, y: t.p95Ms! }));
  const trend = summary.timeline.length === 0 ? `the ${summary.engine} summary has no per-second latencies (run the soak with UAT_LOAD_ENGINE=builtin)` : trendOrReason(points);
  await world.check({
    id: 'load-latency-no-drift',
    statement: `the 95th percentile latency does not drift upward over the ${summary.profile} load`,
    threshold: `upper bound of the P95's rise over the run < ${maxRiseMs} ms`,
    measured: typeof trend === 'string' ? trend : +trend.riseUpper.toFixed(3),
    unit: 'ms',
    source: 'LIVE:load-engine',
    test: trendTest('the per-second P95'),
    passed: typeof trend !== 'string' && Number.isFinite(trend.riseUpper) && trend.riseUpper < maxRiseMs,
    details: typeof trend === 'string' ? { reason: trend } : { ...trend, startP95Ms: trend.start, riseMs: trend.rise, points: points.length },
  });
}

/** Memory does not grow over a long load: the inference servers' working set (Prometheus) has no rise beyond the tolerance. */
export async function checkMemoryDoesNotGrow(world: UatWorld, maxGrowthPercent: number): Promise<void> {
  const summary = summaryOf(world);
  const start = Date.parse(summary.startedAt);
  const end = Date.parse(summary.endedAt);
  const from = new Date(start + (end - start) * WARM_UP_SHARE);
  const query = PROMQL.serverMemoryBytes({ namespace: world.target.namespace });
  // every 5 s (a cluster scrapes cAdvisor every 15-30 s: the steps then repeat the latest sample, which the blocks average)
  const series = await world.prometheus.queryRange(query, from, new Date(end), 5);
  const points = (series[0]?.points ?? []).map((p) => ({ x: p.time - from.getTime() / 1000, y: p.value / 2 ** 20 }));
  const trend = series.length === 0 ? `no ${query} in Prometheus over the load` : trendOrReason(points);
  await world.check({
    id: 'load-memory-no-growth',
    statement: `the inference servers' memory does not grow over the ${summary.profile} load`,
    threshold: `upper bound of the working set's growth over the run < ${maxGrowthPercent} %`,
    measured: typeof trend === 'string' ? trend : +(trend.relativeRiseUpper * 100).toFixed(2),
    unit: '%',
    source: 'LIVE:prometheus',
    test: trendTest(`${query} (MiB)`),
    passed: typeof trend !== 'string' && Number.isFinite(trend.relativeRiseUpper) && trend.relativeRiseUpper * 100 < maxGrowthPercent,
    details: typeof trend === 'string' ? { reason: trend, query } : { ...trend, startMiB: trend.start, growthPercent: trend.relativeRise * 100, samples: points.length, query },
  });
}
