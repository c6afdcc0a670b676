/**
 * The drift detectors (k8s/drift): Models of MLServer's alibi-detect runtime whose answer is
 * alibi-detect's verdict on a window of days (`is_drift`, `p_val`, `threshold`, `distance`). The
 * criteria check them against what is known about each window, not against their own output:
 * windows drawn from the training days the detector's reference did not take (the null holds, so
 * the share reported as drift is bounded by the detector's p_val), the same windows with a known
 * shift made to the volatility features, and windows whose features keep their marginal
 * distributions while one of them stops moving with the others.
 */
import jstat from 'jstat';
import seedrandom from 'seedrandom';
import { quantile, standardDeviation } from 'simple-statistics';
import { referenceSplit, VOLATILITY_FEATURES } from '../../fixtures/drift-artifact.ts';
import { FEATURE_NAMES } from '../../fixtures/market-data.ts';
import { DEFAULT_TRAINING, marketDataFor } from '../../fixtures/train-predictors.ts';
import { featuresRequest } from '../clients/oip-client.ts';
import { readManifests } from '../k8s/manifest-reader.ts';
import type { UatWorld } from '../world.ts';
import { waitFor } from '../wait.ts';
import { figureProblem, untilViewAgrees } from './live-metrics.ts';

const READY_DEADLINE_MS = 60_000;

/** alibi-detect's verdict on one window, as the detector answered it. */
export interface DriftVerdict {
  isDrift: boolean;
  pValues: number[];
  threshold: number[];
  distance: number[];
}

export interface DriftState {
  /** The verdicts of each detector on the windows sent in this scenario. */
  verdicts?: Map<string, DriftVerdict[]>;
  /** How long each detector took to answer for one window (ms, as the client saw it). */
  checkMs?: Map<string, number[]>;
  windows?: number;
  size?: number;
  /** What was done to the windows: the reference-like windows as drawn, or the change made. */
  change?: 'none' | 'volatility-shift' | 'correlation';
  shiftedFeatures?: string[];
  /** The days streamed through the drift monitoring pipeline in this scenario, and each detector topic's end offset before them. */
  stream?: { pipeline: string; days: number; startedAt: Date; windows: number; fromOffsets: Record<string, number> };
}

/** alibi-detect's output tensors read back by name; a missing one is an error naming it. */
export function parseDriftAnswer(body: unknown): DriftVerdict {
  const outputs = (body as { outputs?: { name: string; data: number[] }[] } | undefined)?.outputs ?? [];
  const get = (name: string): number[] => {
    const o = outputs.find((t) => t.name === name);
    if (!o || !Array.isArray(o.data)) throw new Error(`the detector's answer has no output '${name}' (outputs: ${outputs.map((t) => t.name).join(', ') || 'none'})`);
    return o.data;
  };
  return { isDrift: get('is_drift')[0] === 1, pValues: get('p_val'), threshold: get('threshold'), distance: get('distance') };
}

export async function requireDetectors(world: UatWorld, detectors: string[]): Promise<void> {
  await Promise.all(detectors.map((d) => world.status.waitFor('Model', d, 'Ready', 'True', READY_DEADLINE_MS)));
}

/**
 * The training days the detectors' reference did not take (their null distribution), and the shift
 * of a day's volatility features by a number of the reference's standard deviations.
 */
function trainingDays(seed: number): { unseen: number[][]; shiftVolatility: (row: number[], shiftSd: number) => number[] } {
  const { train } = marketDataFor({ seed, ...DEFAULT_TRAINING });
  const { reference, unseen } = referenceSplit(train, seed);
  const sd = new Map(VOLATILITY_FEATURES.map((f) => FEATURE_NAMES.indexOf(f)).map((j) => [j, standardDeviation(reference.map((r) => r.features[j]))]));
  return { unseen: unseen.map((r) => r.features), shiftVolatility: (row, shiftSd) => row.map((v, j) => (sd.has(j) ? v + shiftSd * sd.get(j)! : v)) };
}

/**
 * Days for a stream, in phases: each day drawn at random (with replacement, seeded) from the
 * training days the reference did not take, its volatility features moved by the phase's shift in
 * standard deviations of the reference.
 */
export function driftStreamDays(seed: number, phases: { days: number; shiftSd: number }[]): { row: number[]; shiftSd: number }[] {
  const { unseen, shiftVolatility } = trainingDays(seed);
  const random = seedrandom(`${seed}:drift-stream:${phases.map((p) => `${p.days}@${p.shiftSd}`).join(',')}`);
  return phases.flatMap((phase) =>
    Array.from({ length: phase.days }, () => ({
      row: shiftVolatility(unseen[Math.floor(random() * unseen.length)], phase.shiftSd),
      shiftSd: phase.shiftSd,
    })),
  );
}

/**
 * `windows` windows of `size` days, each a seeded random sample (without replacement) of the
 * training days the reference did not take, changed as asked, sent to each detector.
 */
export async function sendWindows(world: UatWorld, detectors: string[], windows: number, size: number, change: DriftState['change'], shiftSd = 0): Promise<void> {
  const { unseen, shiftVolatility } = trainingDays(world.target.seed);
  if (size > unseen.length) throw new Error(`a window of ${size} days needs more than the ${unseen.length} training days the reference did not take`);
  const random = seedrandom(`${world.target.seed}:drift-windows:${change}:${windows}x${size}`);
  const shuffledColumn = FEATURE_NAMES.indexOf('implied_vol');
  const verdicts = new Map<string, DriftVerdict[]>(detectors.map((d) => [d, []]));
  const checkMs = new Map<string, number[]>(detectors.map((d) => [d, []]));
  for (let w = 0; w < windows; w++) {
    const order = unseen.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let rows = order.slice(0, size).map((i) => [...unseen[i]]);
    if (change === 'volatility-shift') rows = rows.map((r) => shiftVolatility(r, shiftSd));
    if (change === 'correlation') {
      // the column keeps its values (its marginal distribution), in an order unrelated to the other features
      const column = rows.map((r) => r[shuffledColumn]);
      for (let i = column.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [column[i], column[j]] = [column[j], column[i]];
      }
      rows.forEach((r, i) => (r[shuffledColumn] = column[i]));
    }
    for (const detector of detectors) {
      const answer = await world.oip.infer(detector, featuresRequest(rows, `drift-window-${change}-${w}`));
      if (answer.status !== 200) throw new Error(`${detector} answered ${answer.status} for window ${w}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      verdicts.get(detector)!.push(parseDriftAnswer(answer.body));
      checkMs.get(detector)!.push(answer.latencyMs);
    }
  }
  world.drift.verdicts = verdicts;
  world.drift.checkMs = checkMs;
  world.drift.windows = windows;
  world.drift.size = size;
  world.drift.change = change;
  world.drift.shiftedFeatures = change === 'volatility-shift' ? [...VOLATILITY_FEATURES] : change === 'correlation' ? ['implied_vol'] : [];
}

function verdictsOf(world: UatWorld, detector: string): DriftVerdict[] {
  const v = world.drift.verdicts?.get(detector);
  if (!v?.length) throw new Error(`no window was sent to ${detector} in this scenario`);
  return v;
}

/** The median and 95th percentile of the time one drift check of a window took. */
function checkTimes(world: UatWorld, detector: string): { medianMs: number; p95Ms: number } | undefined {
  const times = world.drift.checkMs?.get(detector);
  if (!times?.length) return undefined;
  return { medianMs: round(quantile(times, 0.5)), p95Ms: round(quantile(times, 0.95)) };
}

/** The largest count of false alarms in n windows that a one-sided binomial test at `level` accepts for a true rate of p. */
export function binomialBound(n: number, p: number, level: number): number {
  for (let k = 0; k <= n; k++) if (jstat.jStat.binomial.cdf(k, n, p) >= 1 - level) return k;
  return n;
}

/** The one-sided Clopper-Pearson lower confidence bound of a rate, x successes in n. */
export function clopperPearsonLower(x: number, n: number, confidence: number): number {
  return x === 0 ? 0 : jstat.jStat.beta.inv(1 - confidence, x, n - x + 1);
}

const round = (x: number, digits = 4): number => Number(x.toPrecision(digits));

export async function checkFalseAlarms(world: UatWorld, detector: string, level: number, pVal: number): Promise<void> {
  const verdicts = verdictsOf(world, detector);
  const alarms = verdicts.filter((v) => v.isDrift).length;
  const bound = binomialBound(verdicts.length, pVal, level);
  await world.check({
    id: 'drift-false-alarm-rate',
    statement: `${detector} reports drift on no more reference-like windows than its p_val ${pVal} allows`,
    threshold: `false alarms <= ${bound} of ${verdicts.length} (${round(bound / verdicts.length)}): the one-sided binomial bound at ${level} for rate ${pVal}`,
    measured: round(alarms / verdicts.length),
    unit: 'share of windows',
    source: 'LIVE:oip',
    test: `one-sided exact binomial test, H0: false-alarm rate <= ${pVal}, alpha ${level}`,
    passed: alarms <= bound,
    details: { windows: verdicts.length, windowDays: world.drift.size, alarms, bound, correctedThreshold: verdicts[0].threshold[0], checkTime: checkTimes(world, detector) },
  });
}

export async function checkDetectionRate(world: UatWorld, detector: string, minimum: number, confidence: number): Promise<void> {
  const verdicts = verdictsOf(world, detector);
  const detected = verdicts.filter((v) => v.isDrift).length;
  const lower = clopperPearsonLower(detected, verdicts.length, confidence);
  const what = world.drift.change === 'volatility-shift' ? `the volatility features (${world.drift.shiftedFeatures!.join(', ')}) shifted` : 'implied volatility shuffled within the window (its marginal kept, its co-movement broken)';
  await world.check({
    id: world.drift.change === 'correlation' ? 'mmd-detects-correlation-change' : 'drift-detection-power',
    statement: `${detector} reports drift on windows with ${what}`,
    threshold: `detection rate >= ${minimum} at ${confidence * 100} % confidence (one-sided Clopper-Pearson lower bound)`,
    measured: round(lower),
    unit: 'detection rate (lower bound)',
    source: 'LIVE:oip',
    test: `one-sided Clopper-Pearson interval, ${confidence * 100} % confidence`,
    passed: lower >= minimum,
    details: { windows: verdicts.length, windowDays: world.drift.size, detected, observedRate: round(detected / verdicts.length), checkTime: checkTimes(world, detector) },
  });
}

/** Every window reported as drift has a shifted feature as the one with the smallest p-value. */
export async function checkNamesShiftedFeatures(world: UatWorld, detector: string): Promise<void> {
  const verdicts = verdictsOf(world, detector);
  const shifted = world.drift.shiftedFeatures ?? [];
  const detected = verdicts.filter((v) => v.isDrift);
  const strongest = detected.map((v) => FEATURE_NAMES[v.pValues.indexOf(Math.min(...v.pValues))]);
  const wrong = strongest.filter((f) => !shifted.includes(f));
  const flagged = new Map<string, number>();
  for (const v of detected) v.pValues.forEach((p, j) => p < v.threshold[0] && flagged.set(FEATURE_NAMES[j], (flagged.get(FEATURE_NAMES[j]) ?? 0) + 1));
  await world.check({
    id: 'drift-names-shifted-features',
    statement: `each window ${detector} reports as drift names a shifted feature (${shifted.join(', ')}) as its strongest drift`,
    threshold: 'windows whose smallest p-value is an unshifted feature = 0',
    measured: wrong.length,
    unit: 'windows',
    source: 'LIVE:oip',
    passed: detected.length > 0 && wrong.length === 0,
    details: { detected: detected.length, wronglyNamed: [...new Set(wrong)], flaggedFeatures: Object.fromEntries(flagged) },
  });
}

/** A per-feature detector on windows whose marginals are unchanged reports no more than its false-alarm bound. */
export async function checkMissedByFeatureTests(world: UatWorld, detector: string, level: number, pVal: number): Promise<void> {
  const verdicts = verdictsOf(world, detector);
  const alarms = verdicts.filter((v) => v.isDrift).length;
  const bound = binomialBound(verdicts.length, pVal, level);
  await world.check({
    id: 'feature-tests-blind-to-correlation',
    statement: `${detector}, which tests each feature on its own, cannot see the change: it reports drift on no more of these windows than its false-alarm bound`,
    threshold: `reported <= ${bound} of ${verdicts.length}: the one-sided binomial bound at ${level} for rate ${pVal}`,
    measured: round(alarms / verdicts.length),
    unit: 'share of windows',
    source: 'LIVE:oip',
    test: `one-sided exact binomial test, H0: rate <= ${pVal}, alpha ${level}`,
    passed: alarms <= bound,
    details: { windows: verdicts.length, alarms, bound },
  });
}

/**
 * Days streamed through the drift monitoring pipeline, one request each, in phases: reference-like
 * days (drawn at random, with replacement, from the training days the reference did not take),
 * then days with the volatility features shifted, then reference-like days again.
 */
export async function streamDays(world: UatWorld, pipeline: string, phases: { days: number; shiftSd: number }[]): Promise<void> {
  const days = driftStreamDays(world.target.seed, phases);
  // the topics may hold verdicts of earlier runs on the same cluster: this scenario's start after them
  const fromOffsets: Record<string, number> = {};
  for (const detector of batchedDetectors(world, pipeline)) fromOffsets[detector] = await topicEnd(world, detector);
  const startedAt = new Date();
  for (const [i, { row }] of days.entries()) {
    const answer = await world.oip.infer(`${pipeline}.pipeline`, featuresRequest([row], `stream-${i}`));
    if (answer.status !== 200) throw new Error(`${pipeline} answered ${answer.status} for day ${i}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
  world.drift.stream = { pipeline, days: days.length, startedAt, windows: Math.floor(days.length / batchSize(world, pipeline)), fromOffsets };
  world.drift.shiftedFeatures = [...VOLATILITY_FEATURES];
}

const pipelineSteps = (world: UatWorld, pipeline: string): { name: string; batch?: { size?: number } }[] =>
  (readManifests(world.run.config.manifests).find((r) => r.kind === 'Pipeline' && r.name === pipeline)?.spec as { steps?: { name: string; batch?: { size?: number } }[] } | undefined)?.steps ?? [];
const batchedDetectors = (world: UatWorld, pipeline: string): string[] => pipelineSteps(world, pipeline).filter((s) => s.batch?.size).map((s) => s.name);

function batchSize(world: UatWorld, pipeline: string): number {
  const size = pipelineSteps(world, pipeline).find((s) => s.batch?.size)?.batch?.size;
  if (!size) throw new Error(`Pipeline ${pipeline} has no batched step in the deployed manifests`);
  return size;
}

function streamed(world: UatWorld): NonNullable<DriftState['stream']> {
  if (!world.drift.stream) throw new Error('no day was streamed through the drift monitoring pipeline in this scenario');
  return world.drift.stream;
}

const topicPath = (world: UatWorld, detector: string, offset: number | 'end'): string => `/kafka/topics/${encodeURIComponent(`seldon.${world.target.namespace ?? 'seldon-mesh'}.model.${detector}.outputs`)}?offset=${offset}`;

async function topicEnd(world: UatWorld, detector: string): Promise<number> {
  const answer = await world.oip.get(topicPath(world, detector, 'end'));
  if (answer.status !== 200) throw new Error(`the topic of ${detector} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
  return (answer.body as { next_offset: number }).next_offset;
}

/** The verdicts a detector put on its output topic since this scenario's stream began, read from the serving mesh as the monitor reads them. */
async function topicRecords(world: UatWorld, detector: string): Promise<DriftVerdict[]> {
  const answer = await world.oip.get(topicPath(world, detector, streamed(world).fromOffsets[detector] ?? 0));
  if (answer.status !== 200) throw new Error(`the topic of ${detector} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
  return (answer.body as { records: { value: unknown }[] }).records.map((r) => parseDriftAnswer(r.value));
}
const topicVerdicts = async (world: UatWorld, detector: string): Promise<boolean[]> => (await topicRecords(world, detector)).map((v) => v.isDrift);

const firing = (world: UatWorld, pipeline: string, status: string) =>
  world.driftMonitor.alerts().filter((a) => a.body.status === status && a.body.alerts?.some((x) => x.labels?.pipeline === pipeline));

/** One firing alert for the episode (naming the shifted features first) and one resolved alert, within the deadline. */
export async function checkEpisodeAlerts(world: UatWorld, seconds: number): Promise<void> {
  const { pipeline, windows } = streamed(world);
  const shifted = world.drift.shiftedFeatures ?? [];
  let settled = false;
  try {
    await waitFor('a firing and a resolved drift alert', seconds * 1000, async () => (firing(world, pipeline, 'resolved').length > 0 ? true : undefined));
    settled = true;
  } catch {
    // reported below with what did arrive
  }
  const fired = firing(world, pipeline, 'firing');
  const resolved = firing(world, pipeline, 'resolved');
  const named = fired[0]?.body.alerts?.[0]?.annotations?.features?.split(',') ?? [];
  const leading = named.slice(0, shifted.length);
  await world.check({
    id: 'drift-alert-once-per-episode',
    statement: `one drift episode in ${windows} windows of ${pipeline} raises one firing alert naming the shifted features (${shifted.join(', ')}) first, and one resolved alert when it ends`,
    threshold: `firing alerts = 1, naming ${shifted.join(', ')} first; resolved alerts = 1; within ${seconds} s`,
    measured: fired.length,
    unit: 'firing alerts',
    source: 'LIVE:webhook',
    passed: settled && fired.length === 1 && resolved.length === 1 && shifted.every((f) => leading.includes(f)),
    details: { firing: fired.length, resolved: resolved.length, namedFeatures: named, episode: fired[0]?.body.alerts?.[0]?.annotations?.episode, receivedAt: fired.map((a) => a.receivedAt) },
  });
}

/** Prometheus's count of drifting windows equals the verdicts on the detector's topic; one episode opened. */
export async function checkDriftMetric(world: UatWorld, detector: string, seconds: number): Promise<void> {
  const { pipeline } = streamed(world);
  const verdicts = await topicVerdicts(world, detector);
  const expected = verdicts.filter(Boolean).length;
  const read = async (): Promise<{ windows: number; episodes: number }> => {
    const [w] = await world.prometheus.query(`sum(drift_monitor_windows_total{detector="${detector}",drift="true"})`);
    const [e] = await world.prometheus.query(`sum(drift_monitor_episodes_total{pipeline="${pipeline}"})`);
    return { windows: w?.value ?? 0, episodes: e?.value ?? 0 };
  };
  let last = await read();
  try {
    await waitFor('the drift metrics in Prometheus', seconds * 1000, async () => {
      last = await read();
      return last.windows === expected && last.episodes === 1 ? true : undefined;
    });
  } catch {
    // reported below with the last reading
  }
  await world.check({
    id: 'drift-metric-in-prometheus',
    statement: `Prometheus holds the drift monitor's count of drifting windows of ${detector}, equal to the verdicts on its output topic, and one episode of ${pipeline}`,
    threshold: `sum(drift_monitor_windows_total{detector="${detector}",drift="true"}) = ${expected} (the topic's) and sum(drift_monitor_episodes_total) = 1, within ${seconds} s`,
    measured: last.windows,
    unit: 'drifting windows',
    source: 'LIVE:prometheus',
    passed: expected > 0 && last.windows === expected && last.episodes === 1,
    details: { topicVerdicts: verdicts.map((v) => (v ? 1 : 0)).join(''), episodes: last.episodes },
  });
}

/** The episode's retraining: one MLflow run tagged with it, with a new version of the registered model; no other retraining. */
export async function checkRetrainedOnce(world: UatWorld, seconds: number): Promise<void> {
  const { retrainModel } = world.driftMonitor;
  const episode = firing(world, streamed(world).pipeline, 'firing')[0]?.body.alerts?.[0]?.annotations?.episode;
  type Run = Awaited<ReturnType<typeof world.store.runsTagged>>[number];
  let runs: Run[] = [];
  // a retraining job takes a few seconds: the count is read until it has not changed for 5 s
  let changedAt = Date.now();
  try {
    await waitFor('the retraining runs in MLflow to settle', seconds * 1000, async () => {
      const now = await world.store.runsTagged('uat.trigger', 'drift-episode');
      if (now.length !== runs.length) changedAt = Date.now();
      runs = now;
      return runs.length > 0 && runs.every((r) => r.version !== null) && Date.now() - changedAt >= 5000 ? true : undefined;
    });
  } catch {
    // reported below with what was logged
  }
  const ofEpisode = runs.filter((r) => r.tags['drift.episode'] === episode);
  await world.check({
    id: 'retraining-once-per-episode',
    statement: `the drift episode starts one retraining of ${retrainModel}: one MLflow run tagged with the episode, registering a new model version`,
    threshold: `retraining runs = 1, of episode ${episode ?? '(no alert)'}, with a model version; within ${seconds} s`,
    measured: runs.length,
    unit: 'retraining runs',
    source: 'LIVE:mlflow-postgres',
    passed: episode !== undefined && runs.length === 1 && ofEpisode.length === 1 && ofEpisode[0].version !== null && ofEpisode[0].tags['seldon.model'] === retrainModel,
    details: { runs: runs.map((r) => ({ run: r.runUuid, name: r.name, version: r.version, episode: r.tags['drift.episode'], features: r.tags['drift.features'] })) },
  });
}

/**
 * The dashboard's drift view against the detectors' topics and the alerts the harness received:
 * each detector's windows and drifting windows, the smallest p-value of its latest window, the
 * episodes opened; labelled LIVE:drift-monitor; the p-value chart drawn.
 */
export async function checkDashboardDrift(world: UatWorld, detectors: string[], seconds: number): Promise<void> {
  const { pipeline } = streamed(world);
  const at = Date.now();
  const { after, last } = await untilViewAgrees(world, 'drift', "the dashboard's drift view to show the detectors' verdicts", at, seconds, 'dashboard-drift.png', async (dashboard) => {
    const figures = (await dashboard.figures()).filter((f) => f.id.startsWith('drift-'));
    const problems: string[] = [];
    for (const detector of detectors) {
      const records = await topicRecords(world, detector);
      const lastMin = records.length > 0 ? Math.min(...records[records.length - 1].pValues) : null;
      for (const [id, want] of [[`drift-windows-${detector}`, records.length], [`drift-windows-drifting-${detector}`, records.filter((r) => r.isDrift).length], [`drift-last-min-p-${detector}`, lastMin]] as const) {
        const problem = figureProblem(figures, id, want, 'LIVE:drift-monitor', 'the topic gives');
        if (problem) problems.push(problem);
      }
    }
    const episodes = firing(world, pipeline, 'firing').length;
    const alerts = episodes + firing(world, pipeline, 'resolved').length;
    for (const [id, want] of [['drift-episodes', episodes], ['drift-alerts-sent', alerts]] as const) {
      const problem = figureProblem(figures, id, want, 'LIVE:drift-monitor', 'the alerts received give');
      if (problem) problems.push(problem);
    }
    if (!(await dashboard.drawnCharts()).includes('drift')) problems.push('the p-value chart is not drawn');
    return { figures, problems };
  });
  await world.check({
    id: 'dashboard-shows-drift',
    statement: "the dashboard's drift view shows each detector's windows, drifting windows and latest smallest p-value as its output topic holds them, and the episodes and alerts the harness's webhook received",
    threshold: `within ${seconds} s of the last window: each figure equal to the topic's (or the alerts'), labelled LIVE:drift-monitor, the p-value chart drawn`,
    measured: after ?? `> ${seconds}`,
    unit: 's',
    source: 'LIVE:browser',
    test: 'the figures read in Chromium against the topics read from the serving mesh and the alerts the harness received',
    passed: after !== null && after <= seconds,
    details: { problems: last.problems, figures: last.figures.map((f) => ({ id: f.id, value: f.value, source: f.source })) },
  });
}
