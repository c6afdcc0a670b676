/**
 * The embedded stack serves the drift detectors of k8s/drift as MLServer's alibi-detect runtime
 * does (one output per key of alibi-detect's `data`, its `meta` and the `x-seldon-alibi-*` headers),
 * and runs them on the batched branch of the drift monitoring Pipeline, their verdicts on each
 * detector's output topic.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { referenceSplit, VOLATILITY_FEATURES } from '../fixtures/drift-artifact.ts';
import { FEATURE_NAMES } from '../fixtures/market-data.ts';
import { DEFAULT_TRAINING, marketDataFor } from '../fixtures/train-predictors.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { featuresRequest, OipClient } from '../support/clients/oip-client.ts';
import type { StackProcess } from '../support/targets/stack-process.ts';
import { publishForTests, startStack, tempDir } from './helpers.ts';

const store = tempDir('drift-store');
let stack: StackProcess;
let oip: OipClient;
let unseen: number[][];

before(async () => {
  await publishForTests(store);
  unseen = referenceSplit(marketDataFor({ seed: 42, ...DEFAULT_TRAINING }).train, 42).unseen.map((r) => r.features);
  stack = await startStack(['--manifests', path.join(PROJECT_ROOT, 'k8s', 'ab-testing'), '--manifests', path.join(PROJECT_ROOT, 'k8s', 'drift'), '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
  oip = new OipClient(stack.url);
});

after(async () => {
  await stack?.stop();
  fs.rmSync(store, { recursive: true, force: true });
});

type Output = { name: string; datatype: string; shape: number[]; data: number[] };
const outputs = (body: unknown): Record<string, Output> => Object.fromEntries((body as { outputs: Output[] }).outputs.map((o) => [o.name, o]));

test("a window is answered in alibi-detect's shape: is_drift, per-feature distance and p_val, the Bonferroni threshold", async () => {
  const answer = await oip.infer('feature-drift-detector', featuresRequest(unseen.slice(0, 200), 'window-1'));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as { parameters: Record<string, unknown> };
  assert.deepEqual(body.parameters.headers, { 'x-seldon-alibi-type': 'drift', 'x-seldon-alibi-method': 'TabularDrift' });
  assert.equal(body.parameters.detector_type, 'drift');
  const o = outputs(answer.body);
  assert.deepEqual(Object.keys(o), ['is_drift', 'distance', 'p_val', 'threshold']);
  assert.deepEqual([o.is_drift.datatype, o.is_drift.shape], ['INT64', [1, 1]]);
  assert.deepEqual([o.p_val.shape, o.distance.shape], [[25], [25]]);
  assert.equal(o.threshold.data[0], 0.05 / 25);
  // half a standard deviation more in the volatility features: drift, and the smallest p-value is one of them
  const columns = VOLATILITY_FEATURES.map((f) => FEATURE_NAMES.indexOf(f));
  const sd = (j: number): number => Math.sqrt(unseen.reduce((s, r) => s + (r[j] - unseen.reduce((m, q) => m + q[j], 0) / unseen.length) ** 2, 0) / unseen.length);
  const shifted = unseen.slice(200, 400).map((r) => r.map((v, j) => (columns.includes(j) ? v + 0.5 * sd(j) : v)));
  const drifted = outputs((await oip.infer('feature-drift-detector', featuresRequest(shifted))).body);
  assert.equal(drifted.is_drift.data[0], 1);
  const strongest = drifted.p_val.data.indexOf(Math.min(...drifted.p_val.data));
  assert.ok(columns.includes(strongest), `the strongest drift is ${FEATURE_NAMES[strongest]}`);
});

test('MMD answers one p-value, the MMD² distance and its permutation threshold; a one-row window is a 400 naming the batch', async () => {
  const o = outputs((await oip.infer('volatility-mmd-detector', featuresRequest(unseen.slice(0, 200)))).body);
  assert.deepEqual(Object.keys(o), ['is_drift', 'distance', 'p_val', 'threshold', 'distance_threshold']);
  assert.equal(o.threshold.data[0], 0.05);
  const one = await oip.infer('volatility-mmd-detector', featuresRequest(unseen.slice(0, 1)));
  assert.equal(one.status, 400);
  assert.match(JSON.stringify(one.body), /needs a batch of at least 2 rows/);
});

test('the pipeline answers every request with the prediction and puts one verdict per 200 requests on each detector topic', async () => {
  for (let i = 0; i < 400; i++) {
    const answer = await oip.infer('financial-drift-monitoring.pipeline', featuresRequest([unseen[i]], `day-${i}`));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(Object.keys(outputs(answer.body)), ['predict']);
  }
  for (const detector of ['feature-drift-detector', 'volatility-mmd-detector']) {
    const read = await fetch(`${stack.url}/kafka/topics/seldon.seldon-mesh.model.${detector}.outputs?offset=0`);
    const topic = (await read.json()) as { records: { offset: number; key: string; headers: { pipeline: string }; value: { outputs: Output[] } }[]; next_offset: number };
    assert.deepEqual(topic.records.map((r) => [r.offset, r.key, r.headers.pipeline]), [[0, 'day-199', 'financial-drift-monitoring'], [1, 'day-399', 'financial-drift-monitoring']]);
    assert.equal(topic.next_offset, 2);
    assert.ok(topic.records.every((r) => r.value.outputs.some((o) => o.name === 'is_drift')));
    // a consumer that skips the backlog starts at the end
    const end = (await (await fetch(`${stack.url}/kafka/topics/seldon.seldon-mesh.model.${detector}.outputs?offset=end`)).json()) as { records: unknown[]; next_offset: number };
    assert.deepEqual([end.records.length, end.next_offset], [0, 2]);
  }
  const bad = await fetch(`${stack.url}/kafka/topics/seldon.seldon-mesh.model.feature-drift-detector.outputs?offset=-1`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /offset must be a whole number or 'end'/);
  assert.equal((await fetch(`${stack.url}/kafka/topics/some-topic`)).status, 404);
});
