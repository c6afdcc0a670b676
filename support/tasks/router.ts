/**
 * The contextual market-regime router (k8s/router): a Pipeline whose router step reads the day's
 * market context (tensors `volatility` and `trend`) and triggers the predictor step of that regime.
 * The criteria check which predictor answered a day (from the answer's `x-seldon-route`, which
 * lists the steps that ran) and that a request without its context is refused with an error body.
 */
import { readManifests } from '../k8s/manifest-reader.ts';
import { OipClient, type OipResponse } from '../clients/oip-client.ts';
import { marketSnapshots } from './traffic.ts';
import type { UatWorld } from '../world.ts';

const READY_DEADLINE_MS = 60_000;

export interface RouterState {
  pipeline?: string;
  answer?: OipResponse;
  context?: { volatility: number; trend: number };
  refused?: { missing: string; answer: OipResponse }[];
}

/** The pipeline and the Models its steps name are Ready, and the pipeline gateway says it is ready. */
export async function requireRouter(world: UatWorld, pipeline: string): Promise<void> {
  const manifest = readManifests(world.run.config.manifests).find((r) => r.kind === 'Pipeline' && r.name === pipeline);
  if (!manifest) throw new Error(`no Pipeline ${pipeline} in the deployed manifests (${world.run.config.manifests.join(', ')})`);
  const steps = ((manifest.spec as { steps?: { name: string }[] }).steps ?? []).map((s) => s.name);
  await Promise.all([...steps.map((s) => world.status.waitFor('Model', s, 'Ready', 'True', READY_DEADLINE_MS)), world.status.waitFor('Pipeline', pipeline, 'Ready', 'True', READY_DEADLINE_MS)]);
  const ready = await new OipClient(world.target.inferenceUrl).get(`/v2/pipelines/${encodeURIComponent(pipeline)}/ready`);
  if (ready.status !== 200) throw new Error(`GET /v2/pipelines/${pipeline}/ready answered ${ready.status}`);
  world.router.pipeline = pipeline;
}

/** A pipeline request: one day's features, and the context tensors given (any may be left out). */
export function routerRequest(features: number[], context: Partial<Record<'volatility' | 'trend', number>>): Record<string, unknown> {
  return {
    inputs: [
      { name: 'features', shape: [1, features.length], datatype: 'FP64', data: features },
      ...Object.entries(context).map(([name, value]) => ({ name, shape: [1], datatype: 'FP64', data: [value] })),
    ],
  };
}

const pipelineOf = (world: UatWorld): string => {
  if (!world.router.pipeline) throw new Error('the router pipeline was not declared in this scenario');
  return world.router.pipeline;
};

export async function sendDay(world: UatWorld, volatility: number, trend: number): Promise<void> {
  const [features] = marketSnapshots(world.target.seed);
  world.router.context = { volatility, trend };
  world.router.answer = await world.oip.infer(`${pipelineOf(world)}.pipeline`, routerRequest(features, { volatility, trend }));
}

/** The models a pipeline answer's `x-seldon-route` lists, in the order they ran (the pipeline's own entry left out). */
export function stepsRun(route: string | null): string[] {
  return [...(route ?? '').matchAll(/:([^:\s]+)_(\d+):/g)].map((m) => m[1]);
}

const slug = (x: number): string => String(x).replace('-', 'm').replace('.', 'p');

export async function checkAnsweredBy(world: UatWorld, predictor: string): Promise<void> {
  const { answer, context } = world.router;
  if (!answer || !context) throw new Error('no day was sent to the router in this scenario');
  const steps = stepsRun(answer.route);
  const answeredBy = steps.at(-1) ?? null;
  const prediction = (answer.body as { outputs?: { name: string; data: unknown[] }[] }).outputs?.find((o) => o.name === 'predict')?.data;
  await world.check({
    id: `router-answers-by-regime-v${slug(context.volatility)}-t${slug(context.trend)}`,
    statement: `a day with volatility ${context.volatility} and trend ${context.trend} is answered by ${predictor}`,
    threshold: `answered (HTTP 200, a prediction) by ${predictor}, after the router`,
    measured: answeredBy ?? `HTTP ${answer.status}`,
    unit: 'the predictor that answered',
    source: 'LIVE:oip',
    test: `the steps in the answer's x-seldon-route (${answer.route ?? 'none'})`,
    passed: answer.status === 200 && Array.isArray(prediction) && prediction.length === 1 && steps.length === 2 && answeredBy === predictor,
    details: { status: answer.status, route: answer.route, steps, body: answer.body },
  });
}

export async function sendWithout(world: UatWorld, missing: string[]): Promise<void> {
  const [features] = marketSnapshots(world.target.seed);
  world.router.refused = [];
  for (const name of missing) {
    const context = { volatility: 0.1, trend: 0, [name]: undefined };
    const given = Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined)) as Partial<Record<'volatility' | 'trend', number>>;
    world.router.refused.push({ missing: name, answer: await world.oip.infer(`${pipelineOf(world)}.pipeline`, routerRequest(features, given)) });
  }
}

export async function checkRefusedNamingContext(world: UatWorld): Promise<void> {
  const refused = world.router.refused;
  if (!refused || refused.length === 0) throw new Error('no request without its context was sent in this scenario');
  const outcome = refused.map(({ missing, answer }) => {
    const error = (answer.body as { error?: unknown } | undefined)?.error;
    return { missing, status: answer.status, error, ok: answer.status >= 400 && answer.status < 500 && typeof error === 'string' && error.includes(`'${missing}'`) };
  });
  await world.check({
    id: 'router-refuses-missing-context',
    statement: 'a request without its market context is refused with a 4xx and an error that names the missing tensor',
    threshold: 'every such request: HTTP 4xx, an OIP error body naming the tensor',
    measured: outcome.filter((o) => !o.ok).length,
    unit: 'requests not refused that way',
    source: 'LIVE:oip',
    test: `one request per missing tensor (${outcome.map((o) => o.missing).join(', ')})`,
    passed: outcome.every((o) => o.ok),
    details: { outcome },
  });
}
