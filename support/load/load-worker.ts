/**
 * A worker thread of the built-in load engine: its share of a profile's load (support/load/plan.ts)
 * against one endpoint, every latency recorded in HDR histograms (the run's and one per second)
 * instead of kept. Runs off the harness's event loop so the harness does not distort what it
 * measures. Requests go over a keep-alive connection pool (undici), dispatched with callbacks
 * rather than promises and streams (a fifth more requests a second from one thread).
 *
 * autocannon is faster still, but it does not fit: when the server closes a connection with a
 * request in flight, autocannon reconnects without reporting that request, and times the next
 * answer from the lost request's start. A platform that drops connections would look clean.
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

/** What a worker counts, whichever client sends the requests. */
class Recorder {
  readonly all = newHistogram();
  readonly perSecond = new Map<number, { requests: number; failed: number; histogram: hdr.Histogram }>();
  readonly statusCounts: Record<string, number> = {};
  readonly errors = new Set<string>();
  requests = 0;
  failed = 0;
  checksPassed = 0;
  iterations = 0;
  dropped = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly t0 = performance.now();
  private elapsedMs: number | undefined;

  elapsed(): number {
    return this.elapsedMs ?? performance.now() - this.t0;
  }

  /** The run is over: what ends later (an interrupted request) is not counted, as k6 does not count it. */
  finish(): void {
    this.elapsedMs ??= performance.now() - this.t0;
  }

  /**
   * One request ended: its HTTP status (0: no answer), whether k6's check held (200 with OIP
   * outputs), when it started (performance.now()) and its duration in ms (undefined when there was
   * no answer and no time to keep, as with a connection that failed before the request was sent).
   */
  ended(status: number, ok: boolean, startedAt: number, durationMs: number | undefined, error?: string): void {
    if (this.elapsedMs !== undefined) return;
    if (error !== undefined && this.errors.size < 5) this.errors.add(error);
    const second = Math.max(0, Math.floor((startedAt - this.t0) / 1000));
    let bucket = this.perSecond.get(second);
    if (!bucket) this.perSecond.set(second, (bucket = { requests: 0, failed: 0, histogram: newHistogram() }));
    if (durationMs !== undefined) {
      const micros = Math.max(1, Math.round(durationMs * 1000));
      this.all.recordValue(micros);
      bucket.histogram.recordValue(micros);
    }
    this.requests++;
    bucket.requests++;
    // k6's http_req_failed: anything outside 200-399, and no answer at all
    if (status < 200 || status >= 400) {
      this.failed++;
      bucket.failed++;
    }
    if (ok) this.checksPassed++;
    this.statusCounts[String(status)] = (this.statusCounts[String(status)] ?? 0) + 1;
  }

  progress(): WorkerProgress {
    return { requests: this.requests, failed: this.failed, dropped: this.dropped, inFlight: this.inFlight };
  }

  output(): WorkerOutput {
    return {
      histogram: hdr.encodeIntoCompressedBase64(this.all),
      seconds: [...this.perSecond.entries()].sort((a, b) => a[0] - b[0]).map(([second, b]) => ({ second, requests: b.requests, failed: b.failed, histogram: hdr.encodeIntoCompressedBase64(b.histogram) })),
      statusCounts: this.statusCounts,
      errors: [...this.errors],
      requests: this.requests,
      failed: this.failed,
      checksPassed: this.checksPassed,
      iterations: this.iterations,
      dropped: this.dropped,
      maxInFlight: this.maxInFlight,
      elapsedMs: this.elapsed(),
    };
  }
}

/** The check k6's script makes: 200 with OIP outputs. */
const answered = (status: number, body: string): boolean => status === 200 && body.includes('"outputs"');

async function run({ plan, target, startAt }: WorkerInput): Promise<WorkerOutput> {
  await sleep(Math.max(0, startAt - Date.now()));
  const rec = new Recorder();
  const progress = setInterval(() => parentPort?.postMessage({ type: 'progress', progress: rec.progress() }), 500);
  try {
    await runWithPool(plan, target, rec);
  } finally {
    clearInterval(progress);
  }
  return rec.output();
}

/** Any executor, over an undici keep-alive pool. */
async function runWithPool(plan: WorkerPlan, target: WorkerTarget, rec: Recorder): Promise<void> {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: plan.maxConcurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const path = url.pathname + url.search;
  const elapsed = (): number => rec.elapsed();

  /** One request; resolves when it ended, answered or not (never rejects). */
  const iterate = (): Promise<void> => new Promise((resolve) => {
    const body = target.bodies[rec.iterations % target.bodies.length];
    rec.iterations++;
    rec.inFlight++;
    rec.maxInFlight = Math.max(rec.maxInFlight, rec.inFlight);
    const started = performance.now();
    let status = 0;
    const chunks: Buffer[] = [];
    const end = (failure?: Error): void => {
      rec.inFlight--;
      const ok = failure === undefined && answered(status, Buffer.concat(chunks).toString());
      rec.ended(failure === undefined ? status : 0, ok, started, performance.now() - started, failure?.message);
      resolve();
    };
    // undici's Pool takes handlers of the callback form (onHeaders, onData, onComplete, onError)
    pool.dispatch({ path, method: 'POST', headers: target.headers, body }, {
      onConnect: () => undefined,
      onHeaders: (statusCode) => {
        status = statusCode;
        return true;
      },
      onData: (chunk) => {
        chunks.push(chunk);
        return true;
      },
      onComplete: () => end(),
      onError: (error) => end(error),
    });
  });

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
            rec.dropped++;
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
    // requests still unanswered after gracefulStop are interrupted
    rec.finish();
    await pool.destroy().catch(() => undefined);
  }
}

if (parentPort) {
  run(workerData as WorkerInput).then(
    (output) => parentPort!.postMessage({ type: 'done', output }),
    (error: Error) => parentPort!.postMessage({ type: 'error', error: error.stack ?? error.message }),
  );
}
