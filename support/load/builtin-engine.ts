/**
 * The built-in load engine: runs a load profile in a worker thread and returns a k6-shaped summary
 * (the handleSummary `metrics` shape: http_reqs, http_req_duration, http_req_failed, iterations),
 * so k6 and this engine feed the same assertions.
 */
import { Worker } from 'node:worker_threads';
import { quantileSorted } from 'd3-array';
import { max, mean, min } from 'simple-statistics';
import type { WorkerProfile, WorkerResult } from './load-worker.ts';

export interface LoadProfile {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  vus: number;
  iterations: number;
  maxDurationMs: number;
}

export interface K6LikeSummary {
  engine: 'builtin';
  state: { testRunDurationMs: number };
  metrics: {
    http_reqs: { type: 'counter'; contains: 'default'; values: { count: number; rate: number } };
    iterations: { type: 'counter'; contains: 'default'; values: { count: number; rate: number } };
    http_req_failed: { type: 'rate'; contains: 'default'; values: { rate: number; passes: number; fails: number } };
    http_req_duration: { type: 'trend'; contains: 'time'; values: Record<'avg' | 'min' | 'med' | 'max' | 'p(90)' | 'p(95)' | 'p(99)', number> };
  };
  statusCounts: Record<string, number>;
  errors: string[];
}

/**
 * The summary as a person reads it. k6's rate metric counts a failed request as a "pass" of
 * http_req_failed, which reads backwards: here it is "failed requests: N of M".
 */
export function describeLoad(summary: K6LikeSummary, virtualUsers: number): string {
  const { http_reqs: reqs, http_req_failed: failed, http_req_duration: d } = summary.metrics;
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const statuses = Object.entries(summary.statusCounts).map(([code, n]) => `${code}: ${n}`).join(', ') || 'none';
  return [
    `engine: ${summary.engine === 'builtin' ? 'built-in load engine (the k6 profile)' : summary.engine}`,
    `requests: ${reqs.values.count} from ${virtualUsers} virtual users in ${(summary.state.testRunDurationMs / 1000).toFixed(2)} s (${reqs.values.rate.toFixed(1)} requests/s)`,
    `failed requests: ${failed.values.passes} of ${reqs.values.count}`,
    `latency: median ${ms(d.values.med)}, p90 ${ms(d.values['p(90)'])}, p95 ${ms(d.values['p(95)'])}, p99 ${ms(d.values['p(99)'])}, max ${ms(d.values.max)}`,
    `status codes: ${statuses}`,
    ...(summary.errors.length > 0 ? [`errors: ${summary.errors.slice(0, 5).join('; ')}`] : []),
  ].join('\n');
}

function runWorker(profile: WorkerProfile): Promise<WorkerResult> {
  const worker = new Worker(new URL('./load-worker-entry.mjs', import.meta.url), { workerData: profile });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { ok: boolean; result?: WorkerResult; error?: string }) => {
      void worker.terminate();
      if (message.ok && message.result) resolve(message.result);
      else reject(new Error(`load worker failed: ${message.error}`));
    });
    worker.once('error', reject);
  });
}

/**
 * A percentile the way k6's trend sink computes it (lib/metrics/sink.go TrendSink.P): linear
 * interpolation at index p·(n-1) of the sorted values (R type 7), which is d3-array's
 * quantileSorted. The median is the same rule at 0.5. (jStat's percentile is not used: it returns
 * the second-highest value instead of interpolating near the top of the range.)
 */
export function k6Percentile(sorted: number[], p: number): number {
  return quantileSorted(sorted, p) ?? NaN;
}

export async function runBuiltinLoad(profile: LoadProfile): Promise<K6LikeSummary> {
  if (profile.vus < 1 || profile.iterations < 1) throw new Error('a load profile needs at least 1 VU and 1 iteration');
  const result = await runWorker({ ...profile, body: JSON.stringify(profile.body) });
  const sorted = [...result.durationsMs].sort((a, b) => a - b);
  const count = sorted.length;
  const failed = result.statuses.filter((s) => s < 200 || s >= 400).length;
  const seconds = result.elapsedMs / 1000;
  const statusCounts: Record<string, number> = {};
  for (const s of result.statuses) statusCounts[String(s)] = (statusCounts[String(s)] ?? 0) + 1;
  const q = (p: number): number => (count === 0 ? NaN : k6Percentile(sorted, p));
  return {
    engine: 'builtin',
    state: { testRunDurationMs: result.elapsedMs },
    metrics: {
      http_reqs: { type: 'counter', contains: 'default', values: { count, rate: count / seconds } },
      iterations: { type: 'counter', contains: 'default', values: { count, rate: count / seconds } },
      http_req_failed: { type: 'rate', contains: 'default', values: { rate: count === 0 ? 0 : failed / count, passes: failed, fails: count - failed } },
      http_req_duration: {
        type: 'trend',
        contains: 'time',
        values: count === 0
          ? { avg: NaN, min: NaN, med: NaN, max: NaN, 'p(90)': NaN, 'p(95)': NaN, 'p(99)': NaN }
          : { avg: mean(sorted), min: min(sorted), med: q(0.5), max: max(sorted), 'p(90)': q(0.9), 'p(95)': q(0.95), 'p(99)': q(0.99) },
      },
    },
    statusCounts,
    errors: result.errors,
  };
}
