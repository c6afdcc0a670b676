/**
 * The contextual market-regime router (k8s/router): a Pipeline whose router step reads the day's
 * market context (tensors `volatility` and `trend`) and triggers the predictor step of that regime.
 * The criteria check which predictor answered a day (from the answer's `x-seldon-route`, which
 * lists the steps that ran) and that a request without its context is refused with an error body.
 */
import { readManifests, routerShape } from '../k8s/manifest-reader.ts';
import { DEFAULT_TRAINING, marketDataFor } from '../../fixtures/train-predictors.ts';
import { evaluationDays, type MarketRow, type Regime } from '../../fixtures/market-data.ts';
import { pairedRatioBound } from '../stats/ratio-bound.ts';
import { servedPredictions } from '../clients/served-predictions.ts';
import { marketContext } from '../../fixtures/regime-router.ts';
import { untilViewAgrees } from './live-metrics.ts';
import { predictOutput, type OipClient, type OipResponse } from '../clients/oip-client.ts';
import { marketSnapshots } from './traffic.ts';
import type { UatWorld } from '../world.ts';

const READY_DEADLINE_MS = 60_000;

export interface RouterState {
  pipeline?: string;
  /** Days sent with their own context: the platform's counters before, and which predictor answered each (x-seldon-route). */
  sentDays?: { before: Record<string, number>; answered: Record<string, number>; days: number; at: number };
  answer?: OipResponse;
  context?: { volatility: number; trend: number };
  refused?: { missing: string; answer: OipResponse }[];
  /** Days of one market regime sent to the router and to the baseline alone: right (1) or wrong (0) per day. */
  compared?: { regime: Regime; baseline: string; routed: RoutedDay[]; routedRight: number[]; baselineRight: number[] };
}

/** The pipeline and the Models its steps name are Ready, and the pipeline gateway says it is ready. */
export async function requireRouter(world: UatWorld, pipeline: string): Promise<void> {
  const manifest = readManifests(world.run.config.manifests).find((r) => r.kind === 'Pipeline' && r.name === pipeline);
  if (!manifest) throw new Error(`no Pipeline ${pipeline} in the deployed manifests (${world.run.config.manifests.join(', ')})`);
  const steps = ((manifest.spec as { steps?: { name: string }[] }).steps ?? []).map((s) => s.name);
  await Promise.all([...steps.map((s) => world.status.waitFor('Model', s, 'Ready', 'True', READY_DEADLINE_MS)), world.status.waitFor('Pipeline', pipeline, 'Ready', 'True', READY_DEADLINE_MS)]);
  const ready = await world.oip.get(`/v2/pipelines/${encodeURIComponent(pipeline)}/ready`);
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
  const prediction = predictOutput(answer.body);
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

/** `count` held-out days, each with its own 20-day volatility and trend as context. */
export async function sendDaysWithOwnContext(world: UatWorld, count: number): Promise<void> {
  const { heldOut } = marketDataFor({ seed: world.target.seed, ...DEFAULT_TRAINING });
  if (count > heldOut.length) throw new Error(`only ${heldOut.length} held-out days`);
  const before = (await world.metrics.snapshot()).answeredPerModel();
  const answered: Record<string, number> = {};
  for (const day of await routeDays(world.oip, pipelineOf(world), heldOut.slice(0, count))) {
    if (day.status !== 200) throw new Error(`the router answered ${day.status}: ${JSON.stringify(day.body).slice(0, 200)}`);
    for (const model of day.steps) answered[model] = (answered[model] ?? 0) + 1;
  }
  world.router.sentDays = { before, answered, days: count, at: Date.now() };
}

/**
 * The dashboard's routing view, read in Chromium until it agrees (bounded): each figure labelled
 * LIVE:prometheus; the days routed and each regime's predictor count equal the platform's own
 * counters; and each grew from before the scenario's days by exactly the answers the harness saw.
 */
export async function checkDashboardRouting(world: UatWorld, seconds: number): Promise<void> {
  const sent = world.router.sentDays;
  if (!sent) throw new Error('no days were sent to the router in this scenario');
  const shape = routerShape(world.run.config.manifests);
  if (!shape) throw new Error('the manifests hold no router pipeline');
  const expectedFor = (id: string): string | undefined => (id === 'router-routed' ? shape.router : shape.routes.find((r) => `router-requests-${r.regime}` === id)?.predictor);
  let platform: Record<string, number> = {};
  // from the last day's answer: the page was opened within the time, not before it
  const { after, last } = await untilViewAgrees(world, 'router', "the dashboard's routing view to show the platform's counts", sent.at, seconds, 'dashboard-routing.png', async (dashboard) => {
    const figures = (await dashboard.figures()).filter((f) => f.id.startsWith('router-'));
    platform = (await world.metrics.snapshot()).answeredPerModel();
    const problems: string[] = [];
    const ids = ['router-routed', ...shape.routes.map((r) => `router-requests-${r.regime}`)];
    for (const id of ids) {
      const f = figures.find((x) => x.id === id);
      const model = expectedFor(id)!;
      if (!f) problems.push(`${id} not shown`);
      else if (f.source !== 'LIVE:prometheus') problems.push(`${id} labelled ${f.source}`);
      else if (f.value !== (platform[model] ?? 0)) problems.push(`${id} shows ${f.value}, the platform counted ${platform[model] ?? 0} for ${model}`);
      const grew = (platform[model] ?? 0) - (sent.before[model] ?? 0);
      if (grew !== (sent.answered[model] ?? 0)) problems.push(`${model} grew by ${grew}, the harness saw it answer ${sent.answered[model] ?? 0}`);
    }
    return { figures, problems };
  });
  await world.check({
    id: 'dashboard-shows-routing',
    statement: `the dashboard's routing view shows the days the router routed and each regime's requests, as the platform counted them`,
    threshold: `within ${seconds} s of the last day's answer: every routing figure labelled LIVE:prometheus and equal to the platform's counter, each grown by the ${sent.days} days' answers`,
    measured: after ?? `> ${seconds}`,
    unit: 's',
    source: 'LIVE:browser',
    test: 'the figures read in Chromium against the platform\'s /metrics counters and the answers the harness saw (x-seldon-route)',
    passed: after !== null && after <= seconds,
    details: { problems: last.problems, figures: last.figures.map((f) => ({ id: f.id, value: f.value, source: f.source })), platform, answered: sent.answered, before: sent.before },
  });
}

export interface RoutedDay {
  status: number;
  body: unknown;
  /** The steps that ran, in order (x-seldon-route): the router, then the predictor that answered. */
  steps: string[];
  prediction: number | null;
}

/** The predictor step that answered a routed day (the last step that ran), null when none did. */
export const answeredBy = (day: RoutedDay): string | null => day.steps.at(-1) ?? null;

const ROUTE_CONCURRENCY = 4;

/**
 * Each day sent to the pipeline with its own market context (a few requests in flight), in order:
 * who answered and what it predicted. `progress` is told how many have come back.
 */
export async function routeDays(oip: OipClient, pipeline: string, days: MarketRow[], progress?: (done: number, routed: RoutedDay[]) => void): Promise<RoutedDay[]> {
  const routed: RoutedDay[] = new Array(days.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < days.length) {
      const i = next++;
      const answer = await oip.infer(`${pipeline}.pipeline`, routerRequest(days[i].features, marketContext(days[i].features)));
      const prediction = answer.status === 200 ? predictOutput(answer.body)?.[0] : undefined;
      routed[i] = { status: answer.status, body: answer.body, steps: stepsRun(answer.route), prediction: prediction ?? null };
      done += 1;
      progress?.(done, routed);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ROUTE_CONCURRENCY, days.length) }, worker));
  return routed;
}

/**
 * `count` days of `regime` from the evaluation history (never trained on), each sent to the router
 * with its own context, and the same days asked of `baseline` alone (pinned to it, in batches).
 */
export async function compareWithBaseline(world: UatWorld, count: number, regime: Regime, baseline: string): Promise<void> {
  const days = evaluationDays(world.target.seed, count, regime);
  const routed = await routeDays(world.oip, pipelineOf(world), days);
  const alone = await servedPredictions(world.oip, baseline, days.map((d) => d.features));
  world.router.compared = {
    regime,
    baseline,
    routed,
    routedRight: routed.map((r, i) => (r.status === 200 && r.prediction === days[i].label ? 1 : 0)),
    baselineRight: alone.map((p, i) => (p === days[i].label ? 1 : 0)),
  };
}

/** The routed accuracy is at least `upliftPercent` above the baseline's: one-sided lower confidence bound of the paired ratio. */
export async function checkUplift(world: UatWorld, upliftPercent: number, confidencePercent: number): Promise<void> {
  const compared = world.router.compared;
  if (!compared) throw new Error('no days were compared with the baseline in this scenario');
  const alpha = 1 - confidencePercent / 100;
  const bound = pairedRatioBound(compared.routedRight, compared.baselineRight, alpha);
  const unanswered = compared.routed.filter((r) => r.status !== 200 || r.prediction === null).length;
  const perPredictor: Record<string, { days: number; right: number }> = {};
  compared.routed.forEach((r, i) => {
    const of = (perPredictor[answeredBy(r) ?? 'none'] ??= { days: 0, right: 0 });
    of.days += 1;
    of.right += compared.routedRight[i];
  });
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  await world.check({
    id: `router-uplift-in-${compared.regime}`,
    statement: `on ${compared.regime} market days the routed accuracy is at least ${upliftPercent} % above ${compared.baseline}'s`,
    threshold: `${confidencePercent} % lower confidence bound of routed / ${compared.baseline} accuracy >= ${round(1 + upliftPercent / 100)}, every day answered`,
    measured: round(bound.lower),
    unit: `lower bound of the accuracy ratio (measured ${round(bound.ratio)})`,
    source: 'LIVE:oip',
    test: `one-sided z test on the paired ratio of accuracies (delta method), alpha ${round(alpha)}, ${bound.n} ${compared.regime} days of an evaluation history never trained on`,
    passed: unanswered === 0 && bound.lower >= 1 + upliftPercent / 100,
    details: { routedAccuracy: round(bound.meanA), baselineAccuracy: round(bound.meanB), ratio: round(bound.ratio), se: round(bound.se), unanswered, perPredictor },
  });
}

