/**
 * Malformed inference requests are refused with a client error and an OIP error body, and the
 * platform stays healthy afterwards.
 */
import { badInput } from '../../fixtures/bad-inputs.ts';
import { featuresRequest } from '../clients/oip-client.ts';
import type { UatWorld } from '../world.ts';
import { marketSnapshots } from './traffic.ts';

export async function sendBadInput(world: UatWorld, name: string, model: string): Promise<void> {
  const input = badInput(name);
  world.lastResponse = await world.oip.infer(input.target.replace('{model}', model), undefined, { rawBody: input.rawBody });
}

export async function checkRefused(world: UatWorld, expectedStatus: number): Promise<void> {
  const response = world.lastResponse;
  if (!response) throw new Error('no request was sent in this scenario');
  const body = response.body as { error?: unknown };
  const hasErrorBody = typeof body === 'object' && body !== null && typeof body.error === 'string' && body.error.length > 0;
  await world.check({
    id: 'malformed-request-refused',
    statement: 'a malformed request is refused with the expected client error and an error message',
    threshold: `HTTP ${expectedStatus} with {"error": "..."}`,
    measured: response.status,
    unit: 'HTTP status',
    source: 'LIVE:oip',
    passed: response.status === expectedStatus && response.status >= 400 && response.status < 500 && hasErrorBody,
    details: { body: typeof response.body === 'string' ? response.body.slice(0, 300) : response.body },
  });
}

export async function checkStillHealthy(world: UatWorld, model: string): Promise<void> {
  const ready = await world.oip.isReady();
  const answer = await world.oip.infer(model, featuresRequest([marketSnapshots(world.target.seed)[0]]));
  await world.check({
    id: 'healthy-after-malformed-request',
    statement: 'the platform is ready and answers a valid request after the malformed one',
    threshold: 'ready and HTTP 200',
    measured: `${ready ? 'ready' : 'not ready'}, HTTP ${answer.status}`,
    unit: '',
    source: 'LIVE:oip',
    passed: ready && answer.status === 200,
  });
}
