/**
 * A worker thread of the built-in load engine: its share of a profile's load (support/load/plan.ts)
 * against one endpoint, over a keep-alive connection pool (undici), every latency recorded in HDR
 * histograms (the run's and one per second) instead of kept. Runs off the harness's event loop so
 * the harness does not distort what it measures.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { activeVus, arrivalsBy, type WorkerPlan } from './plan.ts';

export interface WorkerTarget {
  url: string;
  headers: Record<string, string>;
  /** The payload set: iteration i sends bodies[i % length]. */
  bodies: string[];
}

export interface WorkerInput {
  plan: WorkerPlan;
  target: WorkerTarget;
  /** Epoch ms all workers start at. */
  startAt: number;
}

export interface SecondStats {
  second: number;
  requests: number;
  failed: number;
  /** HDR histogram of the second's latencies (µs), compressed base64. */
  histogram: string;
}

export interface WorkerOutput {
  histogram: string;
  seconds: SecondStats[];
  statusCounts: Record<string, number>;
  errors: string[];
  requests: number;
  failed: number;
  checksPassed: number;
  iterations: number;
  dropped: number;
  maxInFlight: number;
  elapsedMs: number;
}

export interface WorkerProgress {
  requests: number;
  failed: number;
  dropped: number;
  inFlight: number;
}

/** Latencies in µs, up to an hour. */
export const newHistogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function run({ plan, target, startAt }: WorkerInput): Promise<WorkerOutput> {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: plan.maxConcurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const all = newHistogram();
  const perSecond = new Map<number, { requests: number; failed: number; histogram: hdr.Histogram }>();
  const statusCounts: Record<string, number> = {};
  const errors = new Set<string>();
  let requests = 0;
  let failed = 0;
  let checksPassed = 0;
  let iterations = 0;
  let dropped = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const path = url.pathname + url.search;

  await sleep(Math.max(0, startAt - Date.now()));
  const t0 = performance.now();
  const elapsed = (): number => performance.now() - t0;

  const iterate = async (): Promise<void> => {
    const body = target.bodies[iterations % target.bodies.length];
    iterations++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const started = performance.now();
    let status = 0;
    let ok = false;
    try {
      const res = await pool.request({ path, method: 'POST', headers: target.headers, body });
      const text = await res.body.text();
      status = res.statusCode;
      // the check k6's script makes: 200 with OIP outputs
      ok = status === 200 && text.includes('"outputs"');
    } catch (error) {
      if (errors.size < 5) errors.add((error as Error).message);
    } finally {
      inFlight--;
    }
    const micros = Math.max(1, Math.round((performance.now() - started) * 1000));
    const second = Math.floor((started - t0) / 1000);
    let bucket = perSecond.get(second);
    if (!bucket) perSecond.set(second, (bucket = { requests: 0, failed: 0, histogram: newHistogram() }));
    all.recordValue(micros);
    bucket.histogram.recordValue(micros);
    requests++;
    bucket.requests++;
    // k6's http_req_failed: anything outside 200-399, and no answer at all
    if (status < 200 || status >= 400) {
      failed++;
      bucket.failed++;
    }
    if (ok) checksPassed++;
    statusCounts[String(status)] = (statusCounts[String(status)] ?? 0) + 1;
  };

  const progress = setInterval(() => parentPort?.postMessage({ type: 'progress', progress: { requests, failed, dropped, inFlight } satisfies WorkerProgress }), 500);
  try {
    if (plan.model === 'open') {
      // arrival rate: iterations start on schedule whatever the answers; none free (maxVUs busy) = dropped, as k6 counts them
      const running = new Set<Promise<void>>();
      let started = 0;
      while (elapsed() < plan.durationMs) {
        const due = arrivalsBy(plan, elapsed());
        while (started < due) {
          started++;
          if (running.size >= plan.maxConcurrency) {
            dropped++;
            continue;
          }
          const p = iterate().finally(() => running.delete(p));
          running.add(p);
        }
        await sleep(1);
      }
      await Promise.race([Promise.all(running), sleep(plan.gracefulStopMs)]);
    } else {
      // closed model: each VU sends, waits for the answer, sends again, while the plan keeps it active
      let shared = 0;
      const vu = async (index: number): Promise<void> => {
        while (elapsed() < plan.durationMs) {
          if (index >= activeVus(plan, elapsed())) {
            await sleep(5);
            continue;
          }
          if (plan.iterations !== undefined && shared >= plan.iterations) return;
          shared++;
          await iterate();
        }
      };
      await Promise.race([Promise.all(Array.from({ length: plan.maxConcurrency }, (_, i) => vu(i))), sleep(plan.durationMs + plan.gracefulStopMs)]);
    }
  } finally {
    clearInterval(progress);
  }
  const elapsedMs = elapsed();
  await pool.close().catch(() => undefined);
  return {
    histogram: hdr.encodeIntoCompressedBase64(all),
    seconds: [...perSecond.entries()].sort((a, b) => a[0] - b[0]).map(([second, b]) => ({ second, requests: b.requests, failed: b.failed, histogram: hdr.encodeIntoCompressedBase64(b.histogram) })),
    statusCounts,
    errors: [...errors],
    requests,
    failed,
    checksPassed,
    iterations,
    dropped,
    maxInFlight,
    elapsedMs,
  };
}

if (parentPort) {
  run(workerData as WorkerInput).then(
    (output) => parentPort!.postMessage({ type: 'done', output }),
    (error: Error) => parentPort!.postMessage({ type: 'error', error: error.stack ?? error.message }),
  );
}
