/**
 * Worker thread of the built-in load engine: `vus` concurrent loops share `iterations` requests,
 * bounded by `maxDurationMs`. Runs off the cucumber event loop so its latencies are not distorted
 * by the harness.
 */
import { parentPort, workerData } from 'node:worker_threads';

export interface WorkerProfile {
  url: string;
  headers: Record<string, string>;
  body: string;
  vus: number;
  iterations: number;
  maxDurationMs: number;
}

export interface WorkerResult {
  durationsMs: number[];
  statuses: number[];
  errors: string[];
  startedAt: number;
  elapsedMs: number;
}

async function run(profile: WorkerProfile): Promise<WorkerResult> {
  const durationsMs: number[] = [];
  const statuses: number[] = [];
  const errors: string[] = [];
  const startedAt = Date.now();
  const deadline = performance.now() + profile.maxDurationMs;
  let issued = 0;
  const loop = async (): Promise<void> => {
    while (issued < profile.iterations && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      try {
        const res = await fetch(profile.url, { method: 'POST', headers: profile.headers, body: profile.body });
        await res.arrayBuffer();
        statuses.push(res.status);
      } catch (error) {
        statuses.push(0);
        if (errors.length < 5) errors.push((error as Error).message);
      }
      durationsMs.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: profile.vus }, loop));
  return { durationsMs, statuses, errors, startedAt, elapsedMs: performance.now() - t0 };
}

if (parentPort) {
  run(workerData as WorkerProfile).then(
    (result) => parentPort!.postMessage({ ok: true, result }),
    (error: Error) => parentPort!.postMessage({ ok: false, error: error.message }),
  );
}
