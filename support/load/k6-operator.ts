/**
 * Distributed load on a Kubernetes cluster with the k6 operator (Grafana's k6-operator): a profile
 * of scenarios/ becomes a ConfigMap (the k6 script, scenarios/load-test.ts, and the payload set)
 * and a `TestRun` (k6.io/v1alpha1) with `parallelism` N. The operator mounts the ConfigMap at
 * /test, starts N runner pods (labels app=k6, k6_cr=<name>, runner=true), each running its
 * execution segment of the profile (the profile's rates and VUs are totals), and moves
 * `status.stage` through initialization, initialized, created, started, stopped to finished (or
 * error). Each runner prints its end-of-test summary to its log between marker lines; the harness
 * reads every runner's, and merges them into one summary:
 *  - counters (requests, iterations, dropped iterations) and rate passes/fails are summed, rates
 *    recomputed; vus_max summed; min of the minima, max of the maxima, the mean weighted by requests;
 *  - percentiles cannot be merged from summaries: the percentile of the whole lies between the
 *    smallest and the largest of the runners' (the mixture's distribution function is the weighted
 *    mean of theirs), so the merged one is the largest, an upper bound, and said to be one. A
 *    threshold on a percentile is decided on both bounds: it passes only when it holds for every
 *    value between them (`p(95)<100` on the largest, `p(95)>5` on the smallest), so a pass holds
 *    for the whole load.
 */
import { ApiException, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import fs from 'node:fs';
import { apiErrorMessage } from '../k8s/api-error.ts';
import { ConfigError } from '../config.ts';
import { FIELD_MANAGER } from '../targets/kubernetes-deploy.ts';
import { evaluateThresholds, parseThresholds, type ParsedThreshold, type ThresholdResult } from './thresholds.ts';
import { TREND_STATS, type LoadSummary, type SummaryMetric } from './builtin-engine.ts';
import { fromK6Summary, K6_SCRIPT } from './k6-runner.ts';
import { k6Options, type LoadProfile } from './profile.ts';
import { workerPlan } from './plan.ts';
import type { WorkerTarget } from './load-worker.ts';

export const SUMMARY_BEGIN = '----- k6 end-of-test summary (JSON) -----';
export const SUMMARY_END = '----- end of k6 summary -----';
export const TESTRUN_CRD = 'testruns.k6.io';
export const OPERATOR_INSTALL = `the k6 operator is not installed in this cluster (no CustomResourceDefinition ${TESTRUN_CRD}): install it from Grafana (https://grafana.com/docs/k6/latest/set-up/set-up-distributed-k6/install-k6-operator/: its bundle.yaml or the grafana/k6-operator Helm chart)`;
/** The stages a TestRun goes through (the operator's CRD: status.stage). */
export const STAGES = ['initialization', 'initialized', 'created', 'started', 'stopped', 'finished', 'error'] as const;
/** The image the runners run unless UAT_K6_IMAGE says otherwise (k6 0.57 and later run TypeScript). */
export const DEFAULT_K6_IMAGE = 'grafana/k6:1.0.0';

export interface DistributedOptions {
  name: string;
  namespace: string;
  parallelism: number;
  image?: string;
}

/** The ConfigMap and the TestRun of a profile against `target` (a URL the runner pods reach). */
export function testRunObjects(profile: LoadProfile, target: WorkerTarget, options: DistributedOptions): [KubernetesObject & { data: Record<string, string> }, KubernetesObject & { spec: Record<string, unknown> }] {
  if (!Number.isInteger(options.parallelism) || options.parallelism < 1) throw new Error(`parallelism must be a whole number of runners (1 or more), not ${options.parallelism}`);
  // each runner runs its segment of the profile's virtual users: one without any would run nothing
  const vus = workerPlan(profile.scenario, 1, 0).maxConcurrency;
  if (options.parallelism > vus) throw new Error(`parallelism ${options.parallelism} is more runners than profile ${profile.name} has virtual users (${vus}): each runner needs at least one; lower UAT_K6_PARALLELISM`);
  const labels = { 'app.kubernetes.io/managed-by': FIELD_MANAGER, 'financial-mlops-uat/profile': profile.name };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: options.name, namespace: options.namespace, labels },
    data: { 'load-test.ts': fs.readFileSync(K6_SCRIPT, 'utf8'), 'payloads.json': `[${target.bodies.join(',')}]` },
  };
  const env = {
    K6_OPTIONS: JSON.stringify(k6Options(profile)),
    TARGET_URL: target.url,
    SELDON_MODEL: target.headers['seldon-model'] ?? '',
    // the operator mounts the script's ConfigMap at /test
    PAYLOADS: '/test/payloads.json',
    SUMMARY_FILE: '/tmp/summary.json',
    SUMMARY_STDOUT: '1',
    K6_NO_USAGE_REPORT: 'true',
  };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: options.name, namespace: options.namespace, labels },
    spec: {
      parallelism: options.parallelism,
      script: { configMap: { name: options.name, file: 'load-test.ts' } },
      arguments: '--no-color',
      runner: { image: options.image ?? DEFAULT_K6_IMAGE, env: Object.entries(env).map(([name, value]) => ({ name, value })) },
    },
  };
  return [configMap, testRun];
}

/** The summaries printed between the marker lines of runners' logs; a log without one is an error naming its pod. */
export function summariesFromLogs(logs: { pod: string; log: string }[]): { pod: string; summary: unknown }[] {
  return logs.map(({ pod, log }) => {
    const begin = log.lastIndexOf(SUMMARY_BEGIN);
    const end = log.indexOf(SUMMARY_END, begin);
    if (begin < 0 || end < 0) throw new Error(`runner pod ${pod} printed no end-of-test summary (its log ends: ${log.trim().split('\n').slice(-3).join(' | ') || '(empty)'})`);
    const text = log.slice(begin + SUMMARY_BEGIN.length, end).trim();
    try {
      return { pod, summary: JSON.parse(text) as unknown };
    } catch (error) {
      throw new Error(`runner pod ${pod}: its summary is not JSON (${(error as Error).message})`);
    }
  });
}

const PERCENTILES = ['med', 'p(90)', 'p(95)', 'p(99)'];

/** One summary of N runners' (see the header for what is exact and what is an upper bound). */
export function mergeRunnerSummaries(runners: LoadSummary[], profile: LoadProfile): LoadSummary & { runners: { metrics: Record<string, SummaryMetric> }[]; note: string } {
  if (runners.length === 0) throw new Error('no runner summary to merge');
  const names = [...new Set(runners.flatMap((r) => Object.keys(r.metrics)))];
  const metrics: Record<string, SummaryMetric> = {};
  /** Each trend's percentiles' lower bounds (the smallest of the runners'), for thresholds that bound them from below. */
  const lower: Record<string, Record<string, number>> = {};
  const durationMs = Math.max(...runners.map((r) => r.state.testRunDurationMs));
  const requestsOf = (r: LoadSummary): number => r.metrics.http_reqs?.values.count ?? 0;
  for (const name of names) {
    const present = runners.filter((r) => r.metrics[name]);
    const first = present[0].metrics[name];
    const all = present.map((r) => r.metrics[name].values);
    const sum = (k: string): number => all.reduce((s, v) => s + (v[k] ?? 0), 0);
    let values: Record<string, number>;
    if (first.type === 'counter') values = { count: sum('count'), rate: sum('count') / (durationMs / 1000) };
    else if (first.type === 'rate') values = { passes: sum('passes'), fails: sum('fails'), rate: sum('passes') + sum('fails') === 0 ? 0 : sum('passes') / (sum('passes') + sum('fails')) };
    else if (first.type === 'gauge') values = { value: sum('value'), min: Math.min(...all.map((v) => v.min ?? v.value)), max: sum('max') };
    else {
      const weights = present.map(requestsOf);
      const total = weights.reduce((s, w) => s + w, 0);
      values = {
        min: Math.min(...all.map((v) => v.min)),
        max: Math.max(...all.map((v) => v.max)),
        avg: total === 0 ? NaN : all.reduce((s, v, i) => s + v.avg * weights[i], 0) / total,
        // a percentile some runner did not report has no bound: it is left out
        ...Object.fromEntries(TREND_STATS.filter((s) => PERCENTILES.includes(s) && all.every((v) => Number.isFinite(v[s]))).map((s) => [s, Math.max(...all.map((v) => v[s]))])),
      };
      lower[name] = Object.fromEntries(TREND_STATS.filter((s) => s in values && PERCENTILES.includes(s)).map((s) => [s, Math.min(...all.map((v) => v[s]))]));
    }
    metrics[name] = { type: first.type, contains: first.contains, values };
  }
  const evaluated = evaluateBounded(parseThresholds(profile.thresholds), metrics, lower);
  for (const e of evaluated) {
    const m = metrics[e.metric];
    if (m) m.thresholds = { ...m.thresholds, [e.expression]: { ok: e.ok } };
  }
  return {
    engine: 'k6',
    profile: profile.name,
    executor: profile.scenario.executor,
    state: { testRunDurationMs: durationMs },
    startedAt: runners.map((r) => r.startedAt).sort()[0],
    endedAt: runners.map((r) => r.endedAt).sort().at(-1)!,
    metrics,
    statusCounts: {},
    errors: runners.flatMap((r) => r.errors).slice(0, 5),
    timeline: [],
    latencyBuckets: [],
    failedThresholds: evaluated.filter((e) => !e.ok).map((e) => `${e.metric}: ${e.expression}${e.observed === null ? '' : ` (measured ${+e.observed.toPrecision(4)})`}`),
    runners: runners.map((r) => ({ metrics: r.metrics })),
    note: `merged from ${runners.length} k6 operator runners: counts summed; each latency percentile is the largest of the runners' (an upper bound of the whole load's)`,
  };
}

/**
 * Thresholds on merged metrics: a percentile is known only between its lower and upper bound, so its
 * threshold passes when it holds on both (and, for `!=`, when the value lies outside them); the
 * observed value reported is the bound that decides (the upper for `<`, the lower for `>`).
 */
export function evaluateBounded(parsed: ParsedThreshold[], upper: Record<string, SummaryMetric>, lower: Record<string, Record<string, number>>): ThresholdResult[] {
  return parsed.map((t, i) => {
    const onUpper = evaluateThresholds([t], upper)[0];
    const low = lower[t.metric]?.[t.aggregation];
    if (low === undefined || !PERCENTILES.includes(t.aggregation)) return onUpper;
    const onLower = evaluateThresholds([t], { [t.metric]: { values: { [t.aggregation]: low } } })[0];
    const high = onUpper.observed ?? NaN;
    const outside = t.operator !== '!=' || t.value < low || t.value > high;
    const decides = t.operator.startsWith('>') ? onLower : onUpper;
    return { ...decides, ok: onUpper.ok && onLower.ok && outside, expression: parsed[i].expression };
  });
}

/** Parallelism from UAT_K6_PARALLELISM (2 when unset). */
export function parallelismFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.UAT_K6_PARALLELISM ?? '2';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new ConfigError(`environment variable UAT_K6_PARALLELISM: a whole number of runners from 1 to 100, not '${raw}'`);
  return n;
}

/** The last stage a TestRun reached, read with `get`. */
export type StageReader = () => Promise<string | undefined>;

/** Follow a TestRun's stage until finished; error and timeout are errors naming the stage. */
export async function followStage(read: StageReader, timeoutMs: number, pollMs = 2000, onStage: (stage: string) => void = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    const stage = await read();
    if (stage !== last && stage !== undefined) onStage(stage);
    last = stage ?? last;
    if (stage === 'finished') return;
    if (stage === 'error') throw new Error('the TestRun reached stage error (the operator could not run it: see its events and the initializer pod\'s log)');
    if (Date.now() >= deadline) throw new Error(`the TestRun did not finish within ${Math.round(timeoutMs / 1000)} s (last stage: ${last ?? 'none yet'})`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Run a profile distributed by the k6 operator in `namespace`; the objects are removed afterwards. */
export async function runDistributedLoad(kc: KubeConfig, profile: LoadProfile, target: WorkerTarget, options: DistributedOptions & { timeoutMs: number; log?: (line: string) => void }): Promise<LoadSummary> {
  // API discovery, which every authenticated identity may read (reading the CRD itself needs cluster rights the harness has not)
  const served = await kc.makeApiClient(CustomObjectsApi).getAPIResources({ group: 'k6.io', version: 'v1alpha1' }).then(
    (list) => list.resources.some((r) => r.name === 'testruns'),
    (error: unknown) => {
      if (error instanceof ApiException && error.code === 404) return false;
      throw new Error(`cannot tell whether the k6 operator is installed: ${apiErrorMessage(error)}`);
    },
  );
  if (!served) throw new Error(`${OPERATOR_INSTALL} (the API server serves no k6.io/v1alpha1 testruns)`);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const objects = testRunObjects(profile, target, options);
  try {
    for (const o of objects) await api.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    const read: StageReader = async () => ((await api.read({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: options.name, namespace: options.namespace } })) as { status?: { stage?: string } }).status?.stage;
    await followStage(read, options.timeoutMs, 2000, (stage) => options.log?.(`TestRun ${options.name}: ${stage}`));
    const pods = await core.listNamespacedPod({ namespace: options.namespace, labelSelector: `app=k6,k6_cr=${options.name},runner=true` });
    if (pods.items.length !== options.parallelism) throw new Error(`the TestRun finished with ${pods.items.length} runner pods, not the ${options.parallelism} asked for`);
    const logs = await Promise.all(pods.items.map(async (p) => ({ pod: p.metadata!.name!, log: await core.readNamespacedPodLog({ name: p.metadata!.name!, namespace: options.namespace }) })));
    const runners = summariesFromLogs(logs).map(({ pod, summary }) => fromK6Summary(summary, `runner pod ${pod}`, profile));
    return mergeRunnerSummaries(runners, profile);
  } finally {
    for (const o of [...objects].reverse()) await api.delete(o).catch(() => undefined);
  }
}
