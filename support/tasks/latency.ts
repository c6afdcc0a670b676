/**
 * A short load on an endpoint, decided by thresholds on the k6-shaped summary.
 */
import { featuresRequest } from '../clients/oip-client.ts';
import { describeLoad, runBuiltinLoad } from '../load/builtin-engine.ts';
import type { UatWorld } from '../world.ts';
import { marketSnapshots } from './traffic.ts';

const MAX_LOAD_DURATION_MS = 60_000;

export async function runShortLoad(world: UatWorld, target: string, virtualUsers: number, requests: number): Promise<void> {
  const name = target.replace(/\.(experiment|pipeline)$/, '');
  const snapshot = marketSnapshots(world.target.seed)[0];
  world.traffic.load = await runBuiltinLoad({
    url: `${world.oip.baseUrl}/v2/models/${encodeURIComponent(name)}/infer`,
    headers: { 'content-type': 'application/json', 'seldon-model': target },
    body: featuresRequest([snapshot]),
    vus: virtualUsers,
    iterations: requests,
    maxDurationMs: MAX_LOAD_DURATION_MS,
  });
  await world.attach(describeLoad(world.traffic.load, virtualUsers), { mediaType: 'text/plain', fileName: 'load-summary.txt' });
  await world.attach(JSON.stringify(world.traffic.load, null, 2), { mediaType: 'application/json', fileName: 'load-summary.json' });
}

export async function checkP95Below(world: UatWorld, thresholdMs: number): Promise<void> {
  const summary = world.traffic.load;
  if (!summary) throw new Error('no load was run in this scenario');
  const p95 = summary.metrics.http_req_duration.values['p(95)'];
  await world.check({
    id: 'p95-latency',
    statement: '95th percentile of request latency under load',
    threshold: `p(95) < ${thresholdMs} ms`,
    measured: p95,
    unit: 'ms',
    source: 'LIVE:load-engine',
    passed: Number.isFinite(p95) && p95 < thresholdMs,
    details: { engine: summary.engine, requests: summary.metrics.http_reqs.values.count, rate: summary.metrics.http_reqs.values.rate, trend: summary.metrics.http_req_duration.values },
  });
}

export async function checkNoFailedRequests(world: UatWorld, expected: number): Promise<void> {
  const summary = world.traffic.load;
  if (!summary) throw new Error('no load was run in this scenario');
  const { passes: failed } = summary.metrics.http_req_failed.values;
  const completed = summary.metrics.http_reqs.values.count;
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
