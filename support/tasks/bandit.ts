/**
 * The multi-armed bandit, proven on a market replay: each predictor's business value on every
 * held-out day is measured by asking it; seeded replays send held-out days to the bandit's
 * Experiment and feed each answer's business value back to the bandit controller (by the answer's
 * route), which rewrites the Experiment's weights as it learns; the criteria compare the replays'
 * regret with the static initial split's, check the weakest predictor's share of the last requests,
 * that the weights the controller set are the Experiment's, and that a restarted controller resumes.
 */
import { marketDataFor } from '../../fixtures/train-predictors.ts';
import { businessValueBp, replayDays } from '../../fixtures/market-replay.ts';
import { replayStep } from '../load/market-replay.ts';
import { readBanditState, type BanditStateView } from '../../bandit/client.ts';
import { empiricalRegret, pseudoRegret } from '../../bandit/replay.ts';
import { figureProblem, untilViewAgrees } from './live-metrics.ts';
import { experimentWeights } from '../k8s/manifest-reader.ts';
import { DEFAULT_TRAINING } from '../../fixtures/train-predictors.ts';
import { oneSidedTBound } from '../stats/t-bound.ts';
import type { BanditHandle } from '../targets/bandit-process.ts';
import type { UatWorld } from '../world.ts';
import { stepInputError } from '../feature-input.ts';
import { servedPredictions } from '../clients/served-predictions.ts';
import { readyAtGeneration } from '../k8s/manifest-objects.ts';

export interface ArmValues {
  arms: string[];
  /** values[arm][day]: business value in basis points of the arm's call on each held-out day. */
  values: number[][];
  means: number[];
  costBp: number;
}

export interface ReplayOutcome {
  seed: number;
  steps: number;
  /** The arm each request was routed to, in order. */
  routed: string[];
  /** The reward fed back for each of those requests. */
  rewards: number[];
  errors: number;
  regret: number;
  staticRegret: number;
  weightsAfter: Record<string, number>;
}

export interface OutageRecord {
  arm: string;
  /** When the arm was taken away (ms since the epoch). */
  removedAt: number;
  /** Per request after that: when it was sent (ms after the removal), who answered (null: no predictor), and whether the Experiment, read just before, was Ready (for its current generation) without the arm. */
  after: { atMs: number; answeredBy: string | null; splitWithoutArm: boolean }[];
  restored: boolean;
}

export interface BanditState {
  experiment?: string;
  initialWeights?: Record<string, number>;
  values?: ArmValues;
  replays?: ReplayOutcome[];
  /** A predictor taken away mid-replay: what each request after that met. */
  outage?: OutageRecord;
  /** When the last replay of the scenario ended. */
  replayedAt?: number;
  /** The controller's state just before a restart, and what it said when it came back. */
  restart?: { before: BanditStateView; resumed: Record<string, unknown> };
}

/** The running bandit controller; fails the step with the reason when there is none. */
function controllerOf(world: UatWorld): BanditHandle {
  const bandit = world.target.bandit;
  if ('problem' in bandit) throw new Error(`no bandit controller: ${bandit.problem}`);
  return bandit;
}

/** The bandit's Experiment is deployed and ready, its controller runs, and the feature's starting weights are the manifest's. */
export async function requireBandit(world: UatWorld, experiment: string, rows: { predictor: string; weight: number }[]): Promise<void> {
  const bandit = controllerOf(world);
  if (bandit.experiment !== experiment) throw new Error(`the bandit controller runs on ${bandit.experiment}, not ${experiment}`);
  const declared = Object.fromEntries(rows.map((r) => [r.predictor, r.weight]));
  const deployed = experimentWeights(world.run.config.manifests, experiment);
  if (JSON.stringify(declared) !== JSON.stringify(deployed)) throw stepInputError(world.step, `the feature starts ${experiment} at ${JSON.stringify(declared)}, but its manifest deploys ${JSON.stringify(deployed)}; change one of them`);
  world.bandit.experiment = experiment;
  world.bandit.initialWeights = declared;
}

/** Every predictor's call on every held-out day, asked through serving, valued against the next day's move. */
export async function measureArmValues(world: UatWorld, costBp: number): Promise<void> {
  const weights = world.bandit.initialWeights;
  if (!weights) throw new Error('the bandit experiment was not declared in this scenario');
  const arms = Object.keys(weights);
  const { heldOut } = marketDataFor({ seed: world.run.config.seed, ...DEFAULT_TRAINING });
  const values: number[][] = [];
  for (const arm of arms) {
    const predictions = await servedPredictions(world.oip, arm, heldOut.map((r) => r.features));
    values.push(predictions.map((p, day) => businessValueBp(p, heldOut[day].nextReturn, costBp)));
  }
  const means = values.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  world.bandit.values = { arms, values, means, costBp };
  await world.attach(JSON.stringify({ days: heldOut.length, costBp, meanBusinessValueBp: Object.fromEntries(arms.map((a, i) => [a, means[i]])), source: 'LIVE:oip (each predictor asked for every held-out day)' }, null, 2), { mediaType: 'application/json', fileName: 'bandit-arm-values.json' });
}

/**
 * A replay's start, where the feature says: the Experiment at its initial weights, a controller with
 * no history drawing from `seed`; then `steps` seeded held-out days, and what sends the i-th of them
 * (its business value fed back by the answer's route).
 */
async function startReplay(world: UatWorld, seed: number, steps: number) {
  const { experiment, initialWeights, values } = world.bandit;
  if (!experiment || !initialWeights || !values) throw new Error('measure the predictors\' business values before the replay');
  const bandit = controllerOf(world);
  await world.target.patchExperiment(experiment, Object.entries(initialWeights).map(([name, weight]) => ({ name, weight })));
  await bandit.reset(seed);
  const { heldOut } = marketDataFor({ seed: world.run.config.seed, ...DEFAULT_TRAINING });
  const days = replayDays(heldOut.length, steps, seed);
  const send = (i: number) => replayStep({ oip: world.oip, experiment, banditUrl: bandit.url, day: heldOut[days[i]], costBp: values.costBp, arms: values.arms });
  return { experiment, initialWeights, values, bandit, days, send };
}

/** Send `steps` held-out days to the bandit's Experiment, one at a time, feeding each answer's business value back by its route. */
async function replayOnce(world: UatWorld, seed: number, steps: number): Promise<ReplayOutcome> {
  const { initialWeights, values, bandit, send } = await startReplay(world, seed, steps);
  const routed: string[] = [];
  const rewards: number[] = [];
  let errors = 0;
  for (let i = 0; i < steps; i++) {
    const step = await send(i);
    if (step) {
      routed.push(step.arm);
      rewards.push(step.reward);
    } else errors += 1;
  }
  const expectedStatic = Object.entries(initialWeights).reduce((sum, [arm, w]) => sum + (w / 100) * (Math.max(...values.means) - values.means[values.arms.indexOf(arm)]), 0);
  const state = await readBanditState(bandit.url);
  return { seed, steps, routed, rewards, errors, regret: pseudoRegret(values.means, routed.map((arm) => values.arms.indexOf(arm))), staticRegret: expectedStatic * routed.length, weightsAfter: Object.fromEntries(state.arms.map((a) => [a.name, a.weight])) };
}

/**
 * `count` seeded replays of `steps` days (seeds: the run's seed and the next ones). The same replays
 * asked for again in this run are reused (they are seeded: running them again would give the same
 * figures), and the report says which scenario measured them.
 */
export async function runReplays(world: UatWorld, count: number, steps: number): Promise<void> {
  world.run.shared ??= new Map();
  const key = `bandit-replays:${world.bandit.experiment}:${count}x${steps}`;
  const shared = world.run.shared.get(key) as { replays: ReplayOutcome[]; scenario: string } | undefined;
  let replays: ReplayOutcome[];
  if (shared) {
    replays = shared.replays;
    await world.attach(`The ${count} seeded replays of ${steps} days were measured in this run by the scenario "${shared.scenario}"; reused here.`, { mediaType: 'text/plain', fileName: 'bandit-replays-reused.txt' });
  } else {
    replays = [];
    for (let i = 0; i < count; i++) replays.push(await replayOnce(world, world.run.config.seed + i, steps));
    world.run.shared.set(key, { replays, scenario: world.scenario.name });
  }
  world.bandit.replays = replays;
  await world.attach(
    JSON.stringify(replays.map((r) => ({ seed: r.seed, steps: r.steps, errors: r.errors, regret: r.regret, staticRegret: r.staticRegret, weightsAfter: r.weightsAfter, requestsPerArm: Object.fromEntries(world.bandit.values!.arms.map((a) => [a, r.routed.filter((x) => x === a).length])) })), null, 2),
    { mediaType: 'application/json', fileName: 'bandit-replays.json' },
  );
}

const pct = (x: number): number => Math.round(x * 1e4) / 100;

export async function checkRegretBelowStatic(world: UatWorld, reductionPercent: number, confidencePercent: number): Promise<void> {
  const replays = world.bandit.replays;
  if (!replays) throw new Error('no replay was sent in this scenario');
  const alpha = 1 - confidencePercent / 100;
  const reductions = replays.map((r) => 1 - r.regret / r.staticRegret);
  const t = oneSidedTBound(reductions, alpha, 'lower');
  await world.check({
    id: 'mab-regret-below-static',
    statement: `the bandit's cumulative regret is at least ${reductionPercent} % below the static initial split's`,
    threshold: `${confidencePercent} % lower confidence bound of the mean regret reduction >= ${reductionPercent} %`,
    measured: pct(t.bound),
    unit: '% (lower bound of the mean reduction)',
    source: 'LIVE:oip',
    test: `one-sided one-sample t-test over ${t.n} seeded replays, alpha ${alpha.toFixed(2)}; regret = pseudo-regret against the best predictor's mean business value measured in this run; the static split's is its expected regret over the same number of requests`,
    passed: replays.every((r) => r.errors === 0) && t.bound >= reductionPercent / 100,
    details: { meanReduction: t.mean, sd: t.sd, perReplay: replays.map((r, i) => ({ seed: r.seed, regretBp: r.regret, staticRegretBp: r.staticRegret, reduction: reductions[i] })), failedRequests: replays.reduce((a, r) => a + r.errors, 0) },
  });
}

export async function checkWeakestStarved(world: UatWorld, maxSharePercent: number, window: number, confidencePercent: number): Promise<void> {
  const { replays, values } = world.bandit;
  if (!replays || !values) throw new Error('no replay was sent in this scenario');
  const alpha = 1 - confidencePercent / 100;
  const weakest = values.arms[values.means.indexOf(Math.min(...values.means))];
  const shares = replays.map((r) => r.routed.slice(-window).filter((a) => a === weakest).length / Math.min(window, r.routed.length));
  const t = oneSidedTBound(shares, alpha, 'upper');
  await world.check({
    id: 'mab-weakest-predictor-starved',
    statement: `the predictor with the lowest business value (${weakest}) receives at most ${maxSharePercent} % of the last ${window} requests of a replay`,
    threshold: `${confidencePercent} % upper confidence bound of its mean share <= ${maxSharePercent} %`,
    measured: pct(t.bound),
    unit: '% (upper bound of the mean share)',
    source: 'LIVE:oip',
    test: `one-sided one-sample t-test over ${t.n} seeded replays, alpha ${alpha.toFixed(2)}; shares counted from the answers' x-seldon-route`,
    passed: t.bound <= maxSharePercent / 100,
    details: { weakest, meanBusinessValueBp: Object.fromEntries(values.arms.map((a, i) => [a, values.means[i]])), sharePerReplay: Object.fromEntries(replays.map((r, i) => [r.seed, shares[i]])), meanShare: t.mean },
  });
}

export async function checkWeightsVisible(world: UatWorld): Promise<void> {
  const experiment = world.bandit.experiment;
  if (!experiment || !world.bandit.replays) throw new Error('no replay was sent in this scenario');
  const bandit = controllerOf(world);
  const state = await readBanditState(bandit.url);
  const set = Object.fromEntries(state.arms.map((a) => [a.name, a.weight]));
  const object = (await world.status.get('Experiment', experiment)) as { spec?: { candidates?: { name: string; weight: number }[] } } | undefined;
  const inExperiment = Object.fromEntries((object?.spec?.candidates ?? []).map((c) => [c.name, c.weight]));
  const metrics = await (await fetch(`${bandit.url}/metrics`)).text();
  const inMetrics = Object.fromEntries(
    [...metrics.matchAll(/^financial_mlops_bandit_weight_percent\{experiment="([^"]+)",model="([^"]+)"\} (\S+)$/gm)].filter((m) => m[1] === experiment).map((m) => [m[2], Number(m[3])]),
  );
  const same = (a: Record<string, number>, b: Record<string, number>) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  const differing = Object.keys(set).filter((k) => inExperiment[k] !== set[k] || inMetrics[k] !== set[k]);
  await world.check({
    id: 'mab-weights-visible',
    statement: `the weights the bandit set are the weights of Experiment ${experiment} and of the bandit's metrics`,
    threshold: 'the same weight for every predictor in all three',
    measured: differing.length,
    unit: 'predictors whose weights differ',
    source: 'LIVE:bandit-controller',
    test: `exact comparison after ${state.updates} updates`,
    passed: state.updates > 0 && same(set, inExperiment) && same(set, inMetrics),
    details: { controller: set, experiment: inExperiment, metrics: inMetrics, updates: state.updates },
  });
}

/** Send `steps` days (seed: the run's), then restart the controller from its stored state. */
export async function replayThenRestart(world: UatWorld, steps: number): Promise<void> {
  world.bandit.replays = [await replayOnce(world, world.run.config.seed, steps)];
  const bandit = controllerOf(world);
  const before = await readBanditState(bandit.url);
  await bandit.restart({ fresh: false });
  world.bandit.restart = { before, resumed: bandit.ready.resumed as Record<string, unknown> };
}

export async function checkResumed(world: UatWorld): Promise<void> {
  const restart = world.bandit.restart;
  if (!restart) throw new Error('the bandit controller was not restarted in this scenario');
  const bandit = controllerOf(world);
  const after = await readBanditState(bandit.url);
  const rewardsBefore = restart.before.arms.reduce((a, arm) => a + arm.rewards, 0);
  const posteriorsKept = restart.before.arms.every((arm) => {
    const now = after.arms.find((a) => a.name === arm.name);
    return now !== undefined && now.rewards === arm.rewards && Math.abs(now.posteriorMean - arm.posteriorMean) < 1e-9;
  });
  const next = (await (await fetch(`${bandit.url}/update`, { method: 'POST' })).json()) as { update?: number };
  await world.check({
    id: 'mab-resumes-after-restart',
    statement: 'after a restart the bandit resumes from its stored posteriors and update count',
    threshold: `the same rewards (${rewardsBefore}) and posteriors per predictor, and the next update numbered ${restart.before.updates + 1}`,
    measured: Number(restart.resumed.rewards ?? 0),
    unit: 'rewards resumed',
    source: 'LIVE:bandit-controller',
    test: 'exact comparison of the state before and after the restart',
    passed: posteriorsKept && Number(restart.resumed.rewards) === rewardsBefore && Number(restart.resumed.updates) === restart.before.updates && next.update === restart.before.updates + 1,
    details: { before: restart.before, resumed: restart.resumed, after: after.arms, nextUpdate: next.update ?? null },
  });
}

/** Send `steps` days (seed: the run's), feeding each answer's business value back. */
export async function replayOne(world: UatWorld, steps: number): Promise<void> {
  world.bandit.replays = [await replayOnce(world, world.run.config.seed, steps)];
  world.bandit.replayedAt = Date.now();
}

/**
 * The dashboard's bandit view, read in Chromium until it agrees (bounded): every figure labelled
 * LIVE:bandit-controller; each predictor's weight and P(best) as the controller reports them; its
 * reward count and the cumulative regret as the rewards the harness fed back give them.
 */
export async function checkDashboardBandit(world: UatWorld, seconds: number): Promise<void> {
  const replay = world.bandit.replays?.[0];
  const at = world.bandit.replayedAt;
  if (!replay || at === undefined) throw new Error('no replay was sent in this scenario');
  const bandit = controllerOf(world);
  const fed = new Map<string, { n: number; sum: number }>();
  replay.routed.forEach((arm, i) => {
    const of = fed.get(arm) ?? { n: 0, sum: 0 };
    fed.set(arm, { n: of.n + 1, sum: of.sum + replay.rewards[i] });
  });
  const expectedRegret = empiricalRegret([...fed.values()]);
  const { after, last } = await untilViewAgrees(world, 'bandit', "the dashboard's bandit view to show the controller's allocation and the rewards fed back", at, seconds, 'dashboard-bandit.png', async (dashboard) => {
    const [figures, state] = await Promise.all([dashboard.figures().then((all) => all.filter((f) => f.id.startsWith('bandit-'))), readBanditState(bandit.url)]);
    const problems: string[] = [];
    const expect = (id: string, want: number | null, what: string): void => {
      const problem = figureProblem(figures, id, want, 'LIVE:bandit-controller', what);
      if (problem) problems.push(problem);
    };
    for (const arm of state.arms) {
      expect(`bandit-weight-${arm.name}`, arm.weight, 'the controller set');
      expect(`bandit-probability-best-${arm.name}`, arm.probabilityBest === null ? null : arm.probabilityBest * 100, 'the controller reports');
      expect(`bandit-rewards-${arm.name}`, fed.get(arm.name)?.n ?? 0, 'the harness fed back');
    }
    expect('bandit-cumulative-regret', expectedRegret, 'the rewards fed back give');
    return { figures, problems };
  });
  await world.check({
    id: 'dashboard-shows-bandit',
    statement: "the dashboard's bandit view shows each predictor's weight and P(best) as the controller set them, and the rewards and cumulative regret of the feedback",
    threshold: `within ${seconds} s of the last feedback: every bandit figure labelled LIVE:bandit-controller; weights and P(best) equal to the controller's; rewards per predictor and the cumulative regret equal to those of the ${replay.routed.length} rewards fed back`,
    measured: after ?? `> ${seconds}`,
    unit: 's',
    source: 'LIVE:browser',
    test: 'the figures read in Chromium against the controller\'s /state and the rewards the harness posted',
    passed: after !== null && after <= seconds && replay.errors === 0,
    details: { problems: last.problems, figures: last.figures.map((f) => ({ id: f.id, value: f.value, source: f.source })), expectedRegret, fed: Object.fromEntries(fed), failedRequests: replay.errors },
  });
}

/**
 * Days sent to the bandit's Experiment from the starting weights and a fresh controller, each
 * answer's business value fed back; after `before` of them `arm` is taken away (its Model
 * deleted), and days keep coming at `rate` a second for `seconds`, the Experiment read after each.
 * The arm is brought back at the end, whatever happened.
 */
export async function replayThroughOutage(world: UatWorld, before: number, arm: string, rate: number, seconds: number): Promise<void> {
  const { experiment, values, days, send: step } = await startReplay(world, world.run.config.seed, before + Math.ceil(rate * seconds));
  if (!values.arms.includes(arm)) throw stepInputError(world.step, `${arm} is not a candidate of ${experiment} (${values.arms.join(', ')})`);
  for (let i = 0; i < before; i++) await step(i);
  const record: OutageRecord = { arm, removedAt: Date.now(), after: [], restored: false };
  world.bandit.outage = record;
  try {
    await world.target.removeModel(arm);
    for (let i = before; i < days.length; i++) {
      // paced: request k leaves k/rate seconds after the removal
      const due = record.removedAt + ((i - before) * 1000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      // the Experiment is read before the request, so a request counts as sent after the split
      // only when the control plane had already reported the spec without the arm as Ready
      const object = await world.status.get('Experiment', experiment);
      const candidates = (object?.spec as { candidates?: { name: string }[] } | undefined)?.candidates ?? [];
      const splitWithoutArm = readyAtGeneration(object) && !candidates.some((c) => c.name === arm);
      const atMs = Date.now() - record.removedAt;
      const answered = await step(i);
      record.after.push({ atMs, answeredBy: answered?.arm ?? null, splitWithoutArm });
    }
  } finally {
    await world.target.restoreModel(arm);
    record.restored = true;
  }
}

const splitAgain = (outage: OutageRecord): number => outage.after.findIndex((r) => r.splitWithoutArm);

/** Once the Experiment splits again without the arm, no request fails; those that failed before are counted. */
export async function checkOutageNoErrors(world: UatWorld): Promise<void> {
  const outage = world.bandit.outage;
  if (!outage) throw new Error('no predictor was taken away in this scenario');
  const at = splitAgain(outage);
  const since = at < 0 ? [] : outage.after.slice(at);
  const failed = since.filter((r) => r.answeredBy === null).length;
  await world.check({
    id: 'mab-outage-no-client-errors',
    statement: `once the experiment splits again without ${outage.arm}, every request to it is answered`,
    threshold: '0 failed requests from the split on (and the split came back)',
    measured: at < 0 ? 'the split never came back' : failed,
    unit: `failed requests of ${since.length}`,
    source: 'LIVE:oip',
    test: `each answer's status and x-seldon-route, for the requests from the first one that found the Experiment Ready without ${outage.arm}`,
    passed: at >= 0 && since.length > 0 && failed === 0,
    details: { answeredSince: countBy(since.map((r) => r.answeredBy ?? 'failed')), failedBeforeTheSplit: outage.after.slice(0, Math.max(at, 0)).filter((r) => r.answeredBy === null).length, requestsBeforeTheSplit: Math.max(at, 0) },
  });
}

/** Within `seconds` of the arm going away the Experiment is Ready without it, and the others share the traffic. */
export async function checkOutageSplitResumes(world: UatWorld, seconds: number): Promise<void> {
  const outage = world.bandit.outage;
  if (!outage) throw new Error('no predictor was taken away in this scenario');
  const at = splitAgain(outage);
  const since = at < 0 ? [] : outage.after.slice(at);
  const answering = new Set(since.map((r) => r.answeredBy).filter((a): a is string => a !== null));
  const after = at < 0 ? null : outage.after[at].atMs / 1000;
  await world.check({
    id: 'mab-outage-split-resumes',
    statement: `within ${seconds} s of ${outage.arm} going away, the experiment splits the traffic again between the predictors that answer, none to ${outage.arm}`,
    threshold: `the Experiment Ready without ${outage.arm} within ${seconds} s, then answers from at least 2 predictors and none from ${outage.arm}`,
    measured: after ?? `not within ${((outage.after.at(-1)?.atMs ?? 0) / 1000).toFixed(1)}`,
    unit: 's',
    source: 'LIVE:oip',
    test: 'the Experiment read through the target after each request, and the answers\' x-seldon-route',
    passed: after !== null && after <= seconds && answering.size >= 2 && !answering.has(outage.arm),
    details: { answeredSince: countBy(since.map((r) => r.answeredBy ?? 'failed')), answeredBefore: countBy(outage.after.slice(0, Math.max(at, 0)).map((r) => r.answeredBy ?? 'failed')), restored: outage.restored },
  });
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}
