/**
 * Sending market snapshots to a predictor or an experiment, and what the platform says about them.
 */
import { DEFAULT_TRAINING, marketDataFor } from '../../fixtures/train-predictors.ts';
import { featuresRequest, routedModel, type OipResponse } from '../clients/oip-client.ts';
import type { UatWorld } from '../world.ts';

const snapshotCache = new Map<number, number[][]>();

/** Held-out market days of the seeded fixture, as feature rows: realistic inputs, same every run. */
export function marketSnapshots(seed: number): number[][] {
  let rows = snapshotCache.get(seed);
  if (!rows) {
    rows = marketDataFor({ seed, ...DEFAULT_TRAINING }).heldOut.map((r) => r.features);
    snapshotCache.set(seed, rows);
  }
  return rows;
}

const CONCURRENCY = 4;

/** Send `count` single-snapshot requests to a model (`name`) or experiment (`name.experiment`). */
export async function sendSnapshots(world: UatWorld, target: string, count: number): Promise<void> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`the number of snapshots must be a positive integer, got ${count}`);
  world.counters.before ??= await world.metrics.snapshot();
  const snapshots = marketSnapshots(world.target.seed);
  const oip = world.oip;
  const responses: OipResponse[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      responses[i] = await oip.infer(target, featuresRequest([snapshots[i % snapshots.length]], `snapshot-${i}`));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  world.traffic.sent.push({ target, responses });
}

export const experimentTarget = (experiment: string): string => `${experiment}.experiment`;

/** Responses per predictor, from the x-seldon-route header of each answer. */
export function routeCounts(responses: OipResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const model = routedModel(r.route) ?? '(no route)';
    counts[model] = (counts[model] ?? 0) + 1;
  }
  return counts;
}

export function allResponses(world: UatWorld): OipResponse[] {
  return world.traffic.sent.flatMap((t) => t.responses);
}

export async function checkEveryRequestAnswered(world: UatWorld): Promise<void> {
  const responses = allResponses(world);
  const failed = responses.filter((r) => r.status !== 200);
  await world.check({
    id: 'every-request-answered',
    statement: 'every request sent is answered with a prediction',
    threshold: '0 failed requests',
    measured: failed.length,
    unit: 'failed requests',
    source: 'LIVE:oip',
    passed: responses.length > 0 && failed.length === 0,
    details: { sent: responses.length, statuses: [...new Set(failed.map((r) => r.status))] },
  });
}

export async function checkAnswersComeFrom(world: UatWorld, predictor: string): Promise<void> {
  const responses = allResponses(world);
  const wrong = responses.filter((r) => {
    const body = r.body as { model_name?: string };
    return r.status !== 200 || routedModel(r.route) !== predictor || body.model_name !== `${predictor}_1`;
  });
  await world.check({
    id: `answers-come-from-${predictor}`,
    statement: `every answer to a request naming ${predictor} comes from ${predictor}`,
    threshold: '0 answers from another predictor',
    measured: wrong.length,
    unit: 'misrouted answers',
    source: 'LIVE:oip',
    passed: responses.length > 0 && wrong.length === 0,
    details: { sent: responses.length, routes: routeCounts(responses) },
  });
}

/** Per predictor, the platform's request counter grew by exactly the answers that predictor gave. */
export async function checkMetricsCountEachPredictor(world: UatWorld): Promise<void> {
  if (!world.counters.before) throw new Error('no traffic was sent in this scenario');
  const after = await world.metrics.snapshot();
  const routed = routeCounts(allResponses(world).filter((r) => r.status === 200));
  const before = world.counters.before.answeredPerModel();
  const now = after.answeredPerModel();
  const models = [...new Set([...Object.keys(routed), ...Object.keys(now)])];
  const differences = models
    .map((m) => ({ model: m, sent: routed[m] ?? 0, counted: (now[m] ?? 0) - (before[m] ?? 0) }))
    .filter((d) => d.sent !== d.counted);
  await world.check({
    id: 'metrics-count-each-predictor',
    statement: 'the platform metrics count, for each predictor, exactly the requests it answered',
    threshold: '0 predictors with a count different from the answers observed',
    measured: differences.length,
    unit: 'predictors',
    source: 'LIVE:stack-metrics',
    passed: Object.keys(routed).length > 0 && differences.length === 0,
    details: { metric: 'seldon_model_infer_total{code="200"} by model', answered: routed, differences },
  });
}

/** The total of the platform's request counter grew by exactly the requests the scenario sent. */
export async function checkMetricsTotalEqualsSent(world: UatWorld): Promise<void> {
  if (!world.counters.before) throw new Error('no traffic was sent in this scenario');
  const sent = allResponses(world).length;
  const after = await world.metrics.snapshot();
  const counted = after.sum('seldon_model_infer_total') - world.counters.before.sum('seldon_model_infer_total');
  await world.check({
    id: 'metrics-total-equals-requests-sent',
    statement: 'the request count in the platform metrics equals the requests sent',
    threshold: `counted == ${sent} sent`,
    measured: counted,
    unit: 'requests',
    source: 'LIVE:stack-metrics',
    passed: sent > 0 && counted === sent,
    details: { metric: 'sum(seldon_model_infer_total)', before: world.counters.before.takenAt, after: after.takenAt },
  });
}
