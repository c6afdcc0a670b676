/**
 * The built-in load engine: runs a load profile (support/load/profile.ts) across worker threads
 * (support/load/load-worker.ts) and returns a k6-shaped summary (the handleSummary `metrics`:
 * http_reqs, http_req_duration, http_req_failed, iterations, dropped_iterations, checks, vus_max,
 * each threshold evaluated as k6 does), so k6 and this engine feed the same assertions. Latencies
 * are merged from HDR histograms (3 significant digits: a percentile is within 0.1 % of the exact
 * one) rather than kept; a latency timeline per second and a latency histogram come with it.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { SingleBar } from 'cli-progress';
import * as hdr from 'hdr-histogram-js';
import { evaluateThresholds, parseThresholds } from './thresholds.ts';
import type { NormalizedMetric } from './k6-summary.ts';
import type { LoadProfile } from './profile.ts';
import { newHistogram, type WorkerInput, type WorkerOutput, type WorkerProgress, type WorkerTarget } from './load-worker.ts';
import { workerPlan } from './plan.ts';

/** A metric of the summary, as k6's handleSummary has it. */
export type SummaryMetric = NormalizedMetric;

export interface LoadSummary {
  engine: 'builtin' | 'k6';
  /** The profile that ran, and its executor. */
  profile: string;
  executor: string;
  state: { testRunDurationMs: number };
  /** When the load began and ended (ISO). */
  startedAt: string;
  endedAt: string;
  metrics: Record<string, SummaryMetric>;
  /** Responses by HTTP status (0: no answer). */
  statusCounts: Record<string, number>;
  errors: string[];
  /** Per second from the start: requests started, failed, and their P95 (ms). */
  timeline: { second: number; requests: number; failed: number; p95Ms: number | null }[];
  /** Latency histogram: requests per bucket (upper bound in ms). */
  latencyBuckets: { upToMs: number; requests: number }[];
  /** Thresholds that failed, as `metric: expression`. */
  failedThresholds: string[];
  /** How the figures were obtained, when not from one engine's run (k6 operator runners merged). */
  note?: string;
}

export const TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] as const;

/** A metric's values, or an error naming it when the summary has none. */
export function metricValues(summary: Pick<LoadSummary, 'metrics'>, name: string): Record<string, number> {
  const m = summary.metrics[name];
  if (!m) throw new Error(`the load summary has no metric ${name} (it has ${Object.keys(summary.metrics).join(', ')})`);
  return m.values;
}

/**
 * The summary as a person reads it. k6's rate metric counts a failed request as a "pass" of
 * http_req_failed, which reads backwards: here it is "failed requests: N of M".
 */
export function describeLoad(summary: LoadSummary): string {
  const reqs = metricValues(summary, 'http_reqs');
  const failed = metricValues(summary, 'http_req_failed');
  const d = metricValues(summary, 'http_req_duration');
  const dropped = summary.metrics.dropped_iterations?.values.count ?? 0;
  const fmt = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(1)} ms`);
  const statuses = Object.entries(summary.statusCounts).map(([code, n]) => `${code === '0' ? 'no answer' : code}: ${n}`).join(', ') || 'none';
  const engine = summary.engine === 'builtin' ? 'built-in load engine (the k6 profile)' : 'k6';
  return [
    `engine: ${engine}; profile ${summary.profile} (${summary.executor})`,
    `requests: ${reqs.count} in ${(summary.state.testRunDurationMs / 1000).toFixed(2)} s (${reqs.rate.toFixed(1)} requests/s), at most ${summary.metrics.vus_max?.values.value ?? 'n/a'} in flight`,
    `failed requests: ${failed.passes} of ${reqs.count}${dropped > 0 ? `; iterations dropped (no free virtual user): ${dropped}` : ''}`,
    `latency: median ${fmt(d.med)}, p90 ${fmt(d['p(90)'])}, p95 ${fmt(d['p(95)'])}, p99 ${fmt(d['p(99)'])}, max ${fmt(d.max)}`,
    `status codes: ${statuses}`,
    `thresholds: ${summary.failedThresholds.length === 0 ? 'all passed' : `crossed: ${summary.failedThresholds.join('; ')}`}`,
    ...(summary.errors.length > 0 ? [`errors: ${summary.errors.slice(0, 5).join('; ')}`] : []),
    ...(summary.note ? [`note: ${summary.note}`] : []),
  ].join('\n');
}

/** Worker threads for a run: UAT_LOAD_WORKERS, else half the cores (the platform under test shares the machine on loopback). */
export function defaultWorkers(): number {
  const given = Number(process.env.UAT_LOAD_WORKERS);
  return Number.isInteger(given) && given > 0 ? given : Math.max(1, Math.floor(os.availableParallelism() / 2));
}

function runWorker(input: WorkerInput, onProgress: (p: WorkerProgress) => void, signal?: AbortSignal): Promise<WorkerOutput> {
  const worker = new Worker(new URL('./load-worker-entry.mjs', import.meta.url), { workerData: input });
  return new Promise((resolve, reject) => {
    // stopped from outside (the platform died): the worker and its connections go at once
    signal?.addEventListener('abort', () => {
      void worker.terminate();
      reject(signal.reason);
    }, { once: true });
    worker.on('message', (message: { type: 'progress'; progress: WorkerProgress } | { type: 'done'; output: WorkerOutput } | { type: 'error'; error: string }) => {
      if (message.type === 'progress') return onProgress(message.progress);
      void worker.terminate();
      if (message.type === 'done') resolve(message.output);
      else reject(new Error(`load worker failed: ${message.error}`));
    });
    worker.once('error', reject);
  });
}

/** Requests per bucket of a latency histogram: about 20 buckets of equal width up to the P99.9 (the rest in the last). */
function bucketsOf(h: hdr.Histogram): { upToMs: number; requests: number }[] {
  if (h.totalCount === 0) return [];
  const top = h.getValueAtPercentile(99.9);
  const width = Math.max(1, Math.ceil(top / 20));
  const buckets: { upToMs: number; requests: number }[] = [];
  let below = 0;
  for (let upTo = width; ; upTo += width) {
    const last = upTo >= top;
    const upToCount = last ? h.totalCount : countBelow(h, upTo);
    buckets.push({ upToMs: +(upTo / 1000).toFixed(3), requests: upToCount - below });
    below = upToCount;
    if (last) return buckets;
  }
}

/** Recorded values at or below `micros`. */
function countBelow(h: hdr.Histogram, micros: number): number {
  // the histogram's percentile rank of a value, as a count
  let low = 0;
  let high = 100;
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    if (h.getValueAtPercentile(mid) <= micros) low = mid;
    else high = mid;
  }
  return Math.round((low / 100) * h.totalCount);
}

/** Run a profile against one endpoint with the built-in engine. */
export async function runBuiltinLoad(profile: LoadProfile, target: WorkerTarget, options: { workers?: number; progress?: boolean; signal?: AbortSignal } = {}): Promise<LoadSummary> {
  const thresholds = parseThresholds(profile.thresholds);
  const workers = options.workers ?? defaultWorkers();
  const plans = Array.from({ length: workers }, (_, i) => workerPlan(profile.scenario, workers, i)).filter((p) => p.maxConcurrency > 0);
  const startAt = Date.now() + 200;
  const latest = plans.map((): WorkerProgress => ({ requests: 0, failed: 0, dropped: 0, inFlight: 0 }));
  const expectedMs = Math.max(...plans.map((p) => p.durationMs));
  const bar = options.progress ?? process.stderr.isTTY ? new SingleBar({ format: `load ${profile.name} [{bar}] {percentage}% | {requests} requests, {failed} failed, {inFlight} in flight`, hideCursor: true, stream: process.stderr }) : undefined;
  bar?.start(100, 0, { requests: 0, failed: 0, inFlight: 0 });
  const ticker = bar ? setInterval(() => {
    const sum = (k: keyof WorkerProgress): number => latest.reduce((s, p) => s + p[k], 0);
    bar.update(Math.min(100, Math.round(((Date.now() - startAt) / expectedMs) * 100)), { requests: sum('requests'), failed: sum('failed'), inFlight: sum('inFlight') });
  }, 250) : undefined;
  let outputs: WorkerOutput[];
  try {
    outputs = await Promise.all(plans.map((plan, i) => runWorker({ plan, target, startAt }, (p) => (latest[i] = p), options.signal)));
  } finally {
    if (ticker) clearInterval(ticker);
    bar?.stop();
  }
  const all = newHistogram();
  for (const o of outputs) all.add(hdr.decodeFromCompressedBase64(o.histogram));
  const seconds = new Map<number, { requests: number; failed: number; histogram: hdr.Histogram }>();
  for (const o of outputs) {
    for (const s of o.seconds) {
      const at = seconds.get(s.second) ?? { requests: 0, failed: 0, histogram: newHistogram() };
      at.requests += s.requests;
      at.failed += s.failed;
      at.histogram.add(hdr.decodeFromCompressedBase64(s.histogram));
      seconds.set(s.second, at);
    }
  }
  const sum = (k: 'requests' | 'failed' | 'checksPassed' | 'iterations' | 'dropped'): number => outputs.reduce((s, o) => s + o[k], 0);
  const count = sum('requests');
  const failed = sum('failed');
  const elapsedMs = Math.max(...outputs.map((o) => o.elapsedMs));
  const peakInFlight = outputs.reduce((s, o) => s + o.maxInFlight, 0);
  const perSecond = (n: number): number => n / (elapsedMs / 1000);
  const ms = (micros: number): number => micros / 1000;
  const trend: Record<string, number> = count === 0
    ? Object.fromEntries(TREND_STATS.map((s) => [s, NaN]))
    : { avg: ms(all.mean), min: ms(all.minNonZeroValue), med: ms(all.getValueAtPercentile(50)), max: ms(all.maxValue), 'p(90)': ms(all.getValueAtPercentile(90)), 'p(95)': ms(all.getValueAtPercentile(95)), 'p(99)': ms(all.getValueAtPercentile(99)) };
  const metrics: Record<string, SummaryMetric> = {
    http_reqs: { type: 'counter', contains: 'default', values: { count, rate: perSecond(count) } },
    http_req_duration: { type: 'trend', contains: 'time', values: trend },
    http_req_failed: { type: 'rate', contains: 'default', values: { rate: count === 0 ? 0 : failed / count, passes: failed, fails: count - failed } },
    iterations: { type: 'counter', contains: 'default', values: { count: sum('iterations'), rate: perSecond(sum('iterations')) } },
    checks: { type: 'rate', contains: 'default', values: { rate: count === 0 ? 0 : sum('checksPassed') / count, passes: sum('checksPassed'), fails: count - sum('checksPassed') } },
    vus_max: { type: 'gauge', contains: 'default', values: { value: peakInFlight, min: 0, max: peakInFlight } },
  };
  // arrival-rate executors count the iterations they could not start (0 too: a threshold on it holds then)
  if (plans[0].model === 'open') metrics.dropped_iterations = { type: 'counter', contains: 'default', values: { count: sum('dropped'), rate: perSecond(sum('dropped')) } };
  const evaluated = evaluateThresholds(thresholds, metrics);
  for (const e of evaluated) {
    const m = metrics[e.metric];
    if (m) m.thresholds = { ...m.thresholds, [e.expression]: { ok: e.ok } };
  }
  const statusCounts: Record<string, number> = {};
  for (const o of outputs) for (const [k, n] of Object.entries(o.statusCounts)) statusCounts[k] = (statusCounts[k] ?? 0) + n;
  return {
    engine: 'builtin',
    profile: profile.name,
    executor: profile.scenario.executor,
    state: { testRunDurationMs: elapsedMs },
    startedAt: new Date(startAt).toISOString(),
    endedAt: new Date(startAt + elapsedMs).toISOString(),
    metrics,
    statusCounts,
    errors: [...new Set(outputs.flatMap((o) => o.errors))].slice(0, 5),
    timeline: [...seconds.entries()].sort((a, b) => a[0] - b[0]).map(([second, s]) => ({ second, requests: s.requests, failed: s.failed, p95Ms: s.histogram.totalCount > 0 ? ms(s.histogram.getValueAtPercentile(95)) : null })),
    latencyBuckets: bucketsOf(all),
    failedThresholds: evaluated.filter((e) => !e.ok).map((e) => `${e.metric}: ${e.expression}${e.observed === null ? '' : ` (measured ${+e.observed.toPrecision(4)})`}`),
  };
}
