/**
 * Prometheus, for real: the stack scraped by the `prometheus` binary, the named PromQL queries,
 * the API's error shapes, the /metrics fallback computing the same figures, and the PromQL of
 * Seldon's own Grafana dashboards returning data from the local target.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { featuresRequest, OipClient, routedModel } from '../support/clients/oip-client.ts';
import { bucketIncrease, histogramQuantile, MetricsReader } from '../support/clients/metrics-reader.ts';
import { PrometheusClient, PrometheusQueryError, PrometheusUnreachable } from '../support/clients/prometheus-client.ts';
import { LiveMetrics } from '../support/metrics/live-metrics.ts';
import { PROMQL } from '../support/metrics/promql.ts';
import { findPrometheusBinary, LOCAL_POD, startPrometheus, type PrometheusServer } from '../support/targets/prometheus-server.ts';
import type { StackProcess } from '../support/targets/stack-process.ts';
import { closedPort, referenceDir, SKIP_NO_REFERENCE, startStack, tempDir, trainedForTests } from './helpers.ts';

const MODELS = ['baseline-predictor', 'enhanced-predictor', 'ensemble-predictor', 'decision-tree-predictor'];
const NO_PROMETHEUS = 'the prometheus binary is not installed (apt-get install -y prometheus)';
const hasPrometheus = findPrometheusBinary(process.env.PROMETHEUS_BIN ?? 'prometheus') !== undefined;
const store = tempDir('prom-model-store');
let stack: StackProcess | undefined;
let prometheus: PrometheusServer | undefined;
let client: PrometheusClient;
let sent: Record<string, number> = {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  if (!hasPrometheus) return;
  const { predictors, heldOut } = trainedForTests();
  for (const p of predictors) {
    const dir = path.join(store, 'predictors', p.spec.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, ARTIFACT_FILE), JSON.stringify(p.artifact));
  }
  stack = await startStack(['--manifests', path.join(PROJECT_ROOT, 'k8s', 'ab-testing'), '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
  prometheus = await startPrometheus({ bin: process.env.PROMETHEUS_BIN ?? 'prometheus', stackUrl: stack.url });
  client = new PrometheusClient(prometheus.url);
  // traffic: 60 requests through the experiment, 10 direct to each model, 3 malformed
  const oip = new OipClient(stack.url);
  const rows = heldOut.slice(0, 1).map((r) => r.features);
  sent = {};
  // A series Prometheus first sees with a value has no earlier sample for rate(); create the
  // 422 series (MLServer's request validation) with one malformed request before the scrapes that the window compares.
  const malformed = () => oip.infer('enhanced-predictor', null, { rawBody: '{"inputs": "not a list"}' });
  await malformed();
  await sleep(1500);
  for (let i = 0; i < 60; i++) {
    const answer = await oip.infer('financial-ab-test.experiment', featuresRequest(rows, `e-${i}`));
    const model = routedModel(answer.route)!;
    sent[model] = (sent[model] ?? 0) + 1;
  }
  for (const model of MODELS) {
    for (let i = 0; i < 10; i++) {
      // plain traffic for baseline-predictor, the experiment's default, is split too (as in Seldon)
      const answer = await oip.infer(model, featuresRequest(rows, `${model}-${i}`));
      const served = routedModel(answer.route)!;
      sent[served] = (sent[served] ?? 0) + 1;
    }
  }
  for (let i = 0; i < 3; i++) await malformed();
  await sleep(2500); // two scrapes at the 1 s interval
});

after(async () => {
  await prometheus?.stop();
  await stack?.stop();
  fs.rmSync(store, { recursive: true, force: true });
});

test('histogram_quantile follows Prometheus rules on classic buckets', () => {
  const b = (pairs: [number, number][]) => new Map(pairs);
  assert.equal(histogramQuantile(0.5, b([[1, 10], [2, 20], [Infinity, 20]])), 1);
  assert.equal(histogramQuantile(0.75, b([[1, 10], [2, 20], [Infinity, 20]])), 1.5);
  assert.equal(histogramQuantile(0.25, b([[1, 10], [2, 20], [Infinity, 20]])), 0.5, 'first bucket interpolates from 0');
  assert.equal(histogramQuantile(0.99, b([[1, 10], [2, 10], [Infinity, 20]])), 2, 'rank in +Inf bucket gives the second-highest bound');
  assert.ok(Number.isNaN(histogramQuantile(0.5, b([[1, 10], [2, 20]]))), 'no +Inf bucket');
  assert.ok(Number.isNaN(histogramQuantile(0.5, b([[1, 0], [Infinity, 0]]))), 'no observations');
  assert.equal(histogramQuantile(-1, b([[1, 1], [Infinity, 1]])), -Infinity);
  assert.equal(histogramQuantile(0.5, b([[1, 10], [2, 8], [Infinity, 20]])), 1, 'non-monotonic counts are forced monotonic');
  assert.equal(histogramQuantile(0.5, b([[1, -10], [2, -10], [Infinity, -10]])), 2, 'no bucket reaching the rank: the +Inf bucket, as sort.Search gives');
});

test('a histogram increase counts a bucket that went down as reset, as increase() does', () => {
  const b = (pairs: [number, number][]) => new Map(pairs);
  assert.deepEqual([...bucketIncrease(b([[1, 15], [Infinity, 30]]), b([[1, 10], [Infinity, 20]]))], [[1, 5], [Infinity, 10]]);
  assert.deepEqual([...bucketIncrease(b([[1, 3], [Infinity, 4]]), b([[1, 10], [Infinity, 20]]))], [[1, 3], [Infinity, 4]], 'reset: the count now');
  assert.deepEqual([...bucketIncrease(b([[1, 3]]), b([]))], [[1, 3]], 'a new series: all of it');
});

test('an unreachable Prometheus is named as such', async () => {
  const dead = new PrometheusClient(`http://127.0.0.1:${await closedPort()}`);
  await assert.rejects(dead.query('up'), (e: unknown) => e instanceof PrometheusUnreachable && /ECONNREFUSED/.test((e as Error).message));
});

test('Prometheus scrapes every stack endpoint with the pod labels', { skip: !hasPrometheus && NO_PROMETHEUS }, async () => {
  const targets = await client.targets();
  assert.deepEqual(targets.map((t) => `${t.job}:${t.health}`).sort(), ['kubelet-cadvisor:up', 'mlserver:up', 'seldon-agent:up']);
  const up = await client.query('up{namespace="seldon-mesh"}');
  assert.equal(up.length, 3);
  assert.ok(up.every((s) => s.metric.pod === LOCAL_POD.pod && s.value === 1));
});

test('the named PromQL queries count every request under its model', { skip: !hasPrometheus && NO_PROMETHEUS }, async () => {
  const totals = await client.query(PROMQL.requestsTotalByModel({ namespace: 'seldon-mesh' }));
  const byModel = Object.fromEntries(totals.map((s) => [s.metric.model, s.value]));
  assert.deepEqual(byModel, sent);
  const errors = await client.query(PROMQL.requestsTotalByModelAndCode());
  const bad = errors.find((s) => s.metric.model === 'enhanced-predictor' && s.metric.code === '422');
  assert.equal(bad?.value, 4);
  const ratio = await client.query(PROMQL.errorRatio('1m'));
  assert.ok(ratio[0].value > 0 && ratio[0].value < 0.1, `error ratio ${ratio[0].value}`);
  const p95 = await client.query(PROMQL.p95LatencySeconds('1m'));
  assert.ok(p95[0].value > 0 && p95[0].value <= 10, `p95 ${p95[0].value}`);
  const filtered = await client.query(PROMQL.requestsTotalByModel({ models: ['enhanced-predictor'] }));
  assert.deepEqual(filtered.map((s) => s.metric.model), ['enhanced-predictor']);
});

test('Prometheus errors keep their errorType and status', { skip: !hasPrometheus && NO_PROMETHEUS }, async () => {
  await assert.rejects(client.query('sum by (model'), (e: unknown) => e instanceof PrometheusQueryError && e.httpStatus === 400 && e.errorType === 'bad_data');
});

test('the /metrics fallback gives the same totals and P95 as Prometheus', { skip: !hasPrometheus && NO_PROMETHEUS }, async () => {
  const viaPrometheus = await new LiveMetrics({ prometheusUrl: prometheus!.url }).view('1m');
  const fallback = await new LiveMetrics({ metricsUrl: `${stack!.url}/metrics` }).view('1m');
  assert.equal(viaPrometheus.source, 'LIVE:prometheus');
  // the series come from query_range: points for every model that answered, and P95 over time
  for (const model of Object.keys(sent)) assert.ok((viaPrometheus.rateSeries[model]?.length ?? 0) > 0, `no rate series for ${model}`);
  assert.ok(viaPrometheus.p95Series.length > 0 && viaPrometheus.p95Series.every((p) => p.value > 0));
  assert.equal(fallback.source, 'LIVE:stack-metrics');
  assert.match(fallback.note ?? '', /no Prometheus configured; figures computed from the stack's \/metrics/);
  assert.deepEqual(fallback.requestsTotal, viaPrometheus.requestsTotal);
  // Same buckets in, same quantile out: Prometheus over the scraped cumulative buckets against the
  // fallback's interpolation of the same counts read from /metrics.
  const cumulative = histogramQuantile(0.95, (await new MetricsReader(`${stack!.url}/metrics`).snapshot()).buckets('seldon_model_infer_api_seconds'));
  const [exact] = await client.query('histogram_quantile(0.95, sum by (le) (seldon_model_infer_api_seconds_bucket))');
  assert.equal(cumulative, exact.value);
  assert.equal(fallback.p95Seconds, cumulative, 'the fallback window covers all traffic since the stack started');
  // Over a window, rate() extrapolates each bucket a little differently: same bucket, within 1 %.
  const relative = Math.abs((viaPrometheus.p95Seconds ?? NaN) - cumulative) / cumulative;
  assert.ok(relative < 0.01, `prometheus ${viaPrometheus.p95Seconds} vs /metrics ${cumulative}`);
});

test('with neither source reachable the figures are simulated and say why', async () => {
  const port = await closedPort();
  const view = await new LiveMetrics({ prometheusUrl: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${port}/metrics`, weights: { a: 70, b: 30 } }).view('1m');
  assert.equal(view.source, 'SIMULATED');
  assert.match(view.note ?? '', /Prometheus at http:\/\/127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED.*stack metrics unreachable/);
  assert.deepEqual(Object.keys(view.requestsTotal), ['a', 'b']);
});

/** Grafana panels whose series a single REST-only mlserver pod cannot have, and why. */
const NOT_APPLICABLE: Record<string, string> = {
  'Memory Slots (triton)': 'the embedded stack runs no Triton server',
  'gRPC average latency (agent -> inference server -> agent) by (model, pod)': 'the embedded stack serves OIP over REST only',
};
const notApplicableExpr = (expr: string) => /server="triton"|container="triton"/.test(expr);

function grafanaExpressions(file: string): { title: string; expr: string }[] {
  const out: { title: string; expr: string }[] = [];
  const walk = (panels: { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr) out.push({ title: panel.title ?? '', expr: target.expr });
      walk(panel.panels as typeof panels);
    }
  };
  walk(JSON.parse(fs.readFileSync(file, 'utf8')).panels);
  return out;
}

function fillTemplate(expr: string): string {
  const values: Record<string, string> = { namespace: LOCAL_POD.namespace, inference_pods: LOCAL_POD.pod, model: MODELS.join('|'), rate_window: '1m', __rate_interval: '1m' };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    if (!(name in values)) throw new Error(`unknown Grafana variable ${name} in ${expr}`);
    return values[name];
  });
}

test("the PromQL of Seldon's Grafana dashboards returns data from the local target", { skip: !hasPrometheus && NO_PROMETHEUS }, async (t) => {
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const dir = path.join(ref, 'conformance', 'prometheus-dashboards');
  const empty: string[] = [];
  let checked = 0;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const { title, expr } of grafanaExpressions(path.join(dir, file))) {
      const query = fillTemplate(expr);
      const result = await client.query(query); // a query Prometheus cannot parse throws here
      if (NOT_APPLICABLE[title] || notApplicableExpr(expr)) {
        assert.equal(result.length, 0, `${file} "${title}" was expected to be empty here: ${query}`);
        continue;
      }
      checked += 1;
      if (result.length === 0) empty.push(`${file} "${title}": ${query}`);
    }
  }
  assert.ok(checked >= 20, `only ${checked} expressions checked`);
  assert.deepEqual(empty, [], 'these dashboard queries returned no data');
});
