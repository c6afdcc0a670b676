/**
 * Malformed inference requests are refused the way a correct Seldon Core v2 platform refuses them:
 * a client error with the body of the part that refused it (MLServer's request validation:
 * FastAPI's `{"detail": [...]}`; the model runtime: MLServer's `{"error": "..."}`; Envoy with no
 * route for the model: an empty body), the platform healthy afterwards, and every refused request
 * counted under its own status code, never as answered.
 */
import { BAD_INPUTS, badInput } from '../../fixtures/bad-inputs.ts';
import { cell, requireNamed, stepInputError, tableRows } from '../feature-input.ts';
import { featuresRequest, type OipResponse } from '../clients/oip-client.ts';
import { ResourceStatusClient } from '../clients/resource-status-client.ts';
import { PROMQL } from '../metrics/promql.ts';
import { waitFor, WaitTimeoutError } from '../wait.ts';
import type { UatWorld } from '../world.ts';
import { caughtUpBaseline } from './live-metrics.ts';
import { marketSnapshots } from './traffic.ts';

/** The error bodies a feature can name, and how each is recognised. */
export const ERROR_BODIES = {
  'a validation error': (body: unknown): boolean => {
    const detail = (body as { detail?: unknown } | null)?.detail;
    return Array.isArray(detail) && detail.length > 0 && detail.every((d) => Array.isArray(d?.loc) && typeof d?.msg === 'string' && d.msg.length > 0);
  },
  'an error message': (body: unknown): boolean => {
    const error = (body as { error?: unknown } | null)?.error;
    return typeof error === 'string' && error.length > 0;
  },
  'no body': (body: unknown): boolean => body === '',
} as const;
export type ErrorBody = keyof typeof ERROR_BODIES;

/** A malformed request the feature names must be one the harness knows how to send (fixtures/bad-inputs.ts). */
function requireBadInput(world: UatWorld, name: string): void {
  if (!(name in BAD_INPUTS)) throw stepInputError(world.step, `no malformed request "${name}" is known to the harness (fixtures/bad-inputs.ts: ${Object.keys(BAD_INPUTS).join('; ')})`);
}

export async function sendBadInput(world: UatWorld, name: string, model: string): Promise<OipResponse> {
  requireBadInput(world, name);
  requireNamed(world, 'Model', model);
  return sendOne(world, name, model);
}

async function sendOne(world: UatWorld, name: string, model: string): Promise<OipResponse> {
  const input = badInput(name);
  world.traffic.last = await world.oip.infer(input.target.replace('{model}', model), undefined, { rawBody: input.rawBody });
  return world.traffic.last;
}

export async function checkRefused(world: UatWorld, expectedStatus: number, errorBody: ErrorBody): Promise<void> {
  const response = world.traffic.last;
  if (!response) throw new Error('no request was sent in this scenario');
  const bodyOk = ERROR_BODIES[errorBody](response.body);
  await world.check({
    id: 'malformed-request-refused',
    statement: 'a malformed request is refused with the expected client error and the error body of the part that refused it',
    threshold: `HTTP ${expectedStatus} with ${errorBody}`,
    measured: response.status,
    unit: 'HTTP status',
    source: 'LIVE:oip',
    passed: response.status === expectedStatus && response.status >= 400 && response.status < 500 && bodyOk,
    details: { body: typeof response.body === 'string' ? response.body.slice(0, 300) : response.body, bodyMatches: bodyOk },
  });
}

export async function checkStillHealthy(world: UatWorld, model: string): Promise<void> {
  const status = await world.status.get('Model', model);
  const ready = ResourceStatusClient.condition(status, 'Ready')?.status === 'True';
  const answer = await world.oip.infer(model, featuresRequest([marketSnapshots(world.target.seed)[0]]));
  await world.check({
    id: 'healthy-after-malformed-request',
    statement: 'the model is still ready and answers a valid request after the malformed one',
    threshold: 'Ready=True and HTTP 200',
    measured: `${ready ? 'Ready=True' : 'not ready'}, HTTP ${answer.status}`,
    unit: '',
    source: 'LIVE:oip',
    passed: ready && answer.status === 200,
  });
}

/** Calls per response code for one model: the platform's own counter, and Prometheus's. */
async function codesFromPlatform(world: UatWorld, model: string): Promise<Record<string, number>> {
  return (await world.metrics.snapshot()).sumBy('seldon_model_infer_total', 'code', { model });
}

async function codesFromPrometheus(world: UatWorld, model: string): Promise<Record<string, number>> {
  const samples = await world.prometheus.query(PROMQL.requestsTotalByModelAndCode({ namespace: world.target.namespace, models: [model] }));
  return Object.fromEntries(samples.map((s) => [s.metric.code, s.value]));
}

const difference = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries([...new Set([...Object.keys(after), ...Object.keys(before)])].map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]).filter(([, n]) => n !== 0));
const same = (a: Record<string, number>, b: Record<string, number>): boolean =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].every((k) => (a[k] ?? 0) === (b[k] ?? 0));

export interface RefusalAccounting {
  model: string;
  /** Requests sent per answered status code. */
  sent: Record<string, number>;
  platformBefore: Record<string, number>;
  prometheusBefore: Record<string, number>;
}

/** Send each malformed request `count` times, after taking both counters' baselines. */
export async function sendBadInputs(world: UatWorld, model: string, rows: { name: string; count: number }[]): Promise<RefusalAccounting> {
  // the rows come from the step's table: read as the feature wrote it, so a wrong column or value is named with its line
  if (world.step?.table) tableRows(world.step.table, { 'malformed request': cell.oneOf(Object.keys(BAD_INPUTS)), count: cell.number({ integer: true, min: 1 }) }, world.step);
  for (const row of rows) requireBadInput(world, row.name);
  requireNamed(world, 'Model', model);
  const platformBefore = await codesFromPlatform(world, model);
  const prometheusBefore = await caughtUpBaseline(() => codesFromPrometheus(world, model), () => codesFromPlatform(world, model), same);
  const sent: Record<string, number> = {};
  for (const { name, count } of rows) {
    for (let i = 0; i < count; i++) {
      const response = await sendOne(world, name, model);
      sent[String(response.status)] = (sent[String(response.status)] ?? 0) + 1;
    }
  }
  return { model, sent, platformBefore, prometheusBefore };
}

export async function checkPlatformCountsRefusals(world: UatWorld, accounting: RefusalAccounting): Promise<void> {
  const counted = difference(await codesFromPlatform(world, accounting.model), accounting.platformBefore);
  const allRefused = Object.keys(accounting.sent).every((code) => code.startsWith('4'));
  await world.check({
    id: 'refusals-counted-under-their-codes',
    statement: "the platform's request counter rises by exactly the refused requests, each under its own status code, and its answered (200) count does not rise",
    threshold: JSON.stringify(accounting.sent),
    measured: JSON.stringify(counted),
    unit: 'requests by code',
    source: 'LIVE:stack-metrics',
    passed: allRefused && same(counted, accounting.sent),
    details: { model: accounting.model, sentByAnsweredCode: accounting.sent, countedByCode: counted },
  });
}

export async function checkPrometheusCountsRefusals(world: UatWorld, accounting: RefusalAccounting, seconds: number): Promise<void> {
  let counted: Record<string, number> = {};
  let caughtUp = true;
  try {
    await waitFor(`Prometheus to count ${JSON.stringify(accounting.sent)}`, seconds * 1000, async () => {
      counted = difference(await codesFromPrometheus(world, accounting.model), accounting.prometheusBefore);
      return same(counted, accounting.sent) ? counted : undefined;
    }, 250);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    caughtUp = false;
  }
  await world.check({
    id: 'prometheus-counts-refusals-under-their-codes',
    statement: `within ${seconds} s Prometheus counts the refused requests under their status codes and no more answered requests`,
    threshold: JSON.stringify(accounting.sent),
    measured: JSON.stringify(counted),
    unit: 'requests by code',
    source: 'LIVE:prometheus',
    passed: caughtUp && same(counted, accounting.sent),
    details: { query: PROMQL.requestsTotalByModelAndCode({ namespace: world.target.namespace, models: [accounting.model] }) },
  });
}
