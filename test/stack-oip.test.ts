import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { BAD_INPUTS } from '../fixtures/bad-inputs.ts';
import { DEFAULT_TRAINING, trainPredictors } from '../fixtures/train-predictors.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { featuresRequest, OipClient } from '../support/clients/oip-client.ts';
import { MetricsSnapshot } from '../support/clients/metrics-reader.ts';
import type { StackProcess } from '../support/targets/stack-process.ts';
import { referenceDir, runStack, SKIP_NO_REFERENCE, startStack, tempDir } from './helpers.ts';

const MANIFESTS = path.join(PROJECT_ROOT, 'k8s', 'ab-testing');
const store = tempDir('model-store');
let stack: StackProcess;
let oip: OipClient;
let heldOutRows: number[][];

before(async () => {
  const { predictors, heldOut } = trainPredictors({ seed: 42, ...DEFAULT_TRAINING });
  heldOutRows = heldOut.map((r) => r.features);
  for (const p of predictors) {
    const dir = path.join(store, 'predictors', p.spec.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, ARTIFACT_FILE), JSON.stringify(p.artifact));
  }
  stack = await startStack(['--manifests', MANIFESTS, '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
  oip = new OipClient(stack.url);
});

after(async () => {
  await stack?.stop();
  fs.rmSync(store, { recursive: true, force: true });
});

/** Validators for the OIP spec's component schemas. */
function oipSchemas(ref: string) {
  const spec = parse(fs.readFileSync(path.join(ref, 'conformance', 'oip', 'open_inference_rest.yaml'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'oip', components: spec.components });
  return (name: string) => ajv.getSchema(`oip#/components/schemas/${name}`)!;
}

test('responses validate against the Open Inference Protocol REST spec', async (t) => {
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const schema = oipSchemas(ref);
  const server = await oip.get('/v2');
  assert.equal(server.status, 200);
  assert.ok(schema('metadata_server_response')(server.body), JSON.stringify(schema('metadata_server_response').errors));
  const meta = await oip.get('/v2/models/enhanced-predictor');
  assert.ok(schema('metadata_model_response')(meta.body), JSON.stringify(schema('metadata_model_response').errors));
  const request = featuresRequest(heldOutRows.slice(0, 3), 'req-1');
  assert.ok(schema('inference_request')(request), 'the harness request itself must be valid OIP');
  const answer = await oip.infer('enhanced-predictor', request);
  assert.equal(answer.status, 200);
  assert.ok(schema('inference_response')(answer.body), JSON.stringify(schema('inference_response').errors));
  const body = answer.body as { id: string; outputs: { shape: number[]; data: number[] }[] };
  assert.equal(body.id, 'req-1');
  assert.deepEqual(body.outputs[0].shape, [3, 1]);
  for (const [name, input] of Object.entries(BAD_INPUTS)) {
    const bad = await oip.infer(input.target.replace('{model}', 'enhanced-predictor'), undefined, { rawBody: input.rawBody });
    assert.ok(bad.status >= 400 && bad.status < 500, `${name}: HTTP ${bad.status}`);
    assert.ok(schema('inference_error_response')(bad.body), `${name}: ${JSON.stringify(bad.body)}`);
  }
});

test('the experiment routes by weight, sets x-seldon-route, and honours a sticky route', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const r = await oip.infer('financial-ab-test.experiment', featuresRequest([heldOutRows[i]]));
    assert.equal(r.status, 200);
    counts[r.route ?? 'none'] = (counts[r.route ?? 'none'] ?? 0) + 1;
  }
  assert.deepEqual(Object.keys(counts).sort(), [':baseline-predictor_1:', ':enhanced-predictor_1:']);
  for (let i = 0; i < 20; i++) {
    const r = await oip.infer('baseline-predictor', featuresRequest([heldOutRows[i]]), { headers: { 'x-seldon-route': ':enhanced-predictor_1:' } });
    assert.equal(r.route, ':enhanced-predictor_1:');
  }
  const unknownExperiment = await oip.infer('nope.experiment', featuresRequest([heldOutRows[0]]));
  assert.equal(unknownExperiment.status, 404);
});

test('/metrics exposes Seldon v2 metric names, labels and latency buckets', async () => {
  const res = await fetch(`${stack.url}/metrics`);
  const { families } = await MetricsSnapshot.parse(await res.text());
  const names = Object.keys(families);
  for (const n of ['seldon_model_infer_total', 'seldon_model_infer_seconds_total', 'seldon_model_infer_api_seconds', 'seldon_model_aggregate_infer_total']) {
    assert.ok(names.includes(n), `missing ${n}`);
  }
  const total = families.seldon_model_infer_total.data[0];
  assert.deepEqual(Object.keys(total.labels).sort(), ['code', 'method_type', 'model', 'model_internal', 'server', 'server_replica']);
  const histogram = families.seldon_model_infer_api_seconds;
  assert.equal(histogram.type, 'histogram');
  assert.deepEqual(
    Object.keys((histogram.data[0] as { buckets: Record<string, number> }).buckets).map(Number).filter(Number.isFinite).sort((a, b) => a - b),
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  );
});

test('the stack refuses to start on a bad manifest, naming the field', async () => {
  const dir = tempDir('bad-manifest');
  fs.writeFileSync(
    path.join(dir, 'model.yaml'),
    'apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: m\nspec:\n  storageUri: gs://financial-mlops-models/x\n  replicaCount: 2\n',
  );
  const result = await runStack(['--manifests', dir, '--storage-map', `gs://financial-mlops-models/=${store}`]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unsupported field 'spec\.replicaCount'/);
  const unmapped = await runStack(['--manifests', MANIFESTS, '--storage-map', `s3://elsewhere/=${store}`]);
  assert.equal(unmapped.code, 2);
  assert.match(unmapped.stderr, /has no local mapping/);
  fs.rmSync(dir, { recursive: true, force: true });
});
