/**
 * The embedded stack serves a kernel_shap explainer as MLServer's alibi-explain runtime does: one
 * BYTES output `explanation` with alibi's Explanation JSON, the explained model's `predict_proba`,
 * and OIP error bodies for what it cannot do.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { buildCounterfactualArtifact, buildExplainerArtifact } from '../fixtures/explainer-artifact.ts';
import { DEFAULT_TRAINING, marketDataFor } from '../fixtures/train-predictors.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { featuresRequest, OipClient } from '../support/clients/oip-client.ts';
import { parseExplanation } from '../support/clients/explanation.ts';
import type { StackProcess } from '../support/targets/stack-process.ts';
import { publishForTests, referenceDir, SKIP_NO_REFERENCE, startStack, tempDir, trainedForTests } from './helpers.ts';

const store = tempDir('explainer-store');
const extra = tempDir('explainer-extra');
let stack: StackProcess;
let oip: OipClient;
let rows: number[][];

before(async () => {
  rows = trainedForTests().heldOut.slice(0, 3).map((r) => r.features);
  await publishForTests(store);
  // the artifacts of the folder's own Models, beside the project's
  const { train } = marketDataFor({ seed: 42, ...DEFAULT_TRAINING });
  for (const [name, artifact] of [['orphan-explainer', buildExplainerArtifact('orphan-explainer', train, 42)], ['unbound-counterfactual', buildCounterfactualArtifact('unbound-counterfactual', train)]] as const) {
    fs.mkdirSync(path.join(store, 'explainers', name), { recursive: true });
    fs.writeFileSync(path.join(store, 'explainers', name, ARTIFACT_FILE), JSON.stringify(artifact));
  }
  const model = (name: string, explainer: string) =>
    `apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: ${name}\nspec:\n  storageUri: gs://financial-mlops-models/explainers/${name}\n  explainer:\n${explainer}`;
  fs.writeFileSync(
    path.join(extra, 'explainers.yaml'),
    [
      model('orphan-explainer', '    type: kernel_shap\n    modelRef: no-such-predictor\n'),
      model('anchor-explainer', '    type: anchor_tabular\n    modelRef: enhanced-predictor\n'),
      'apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: unbound-counterfactual\nspec:\n  storageUri: gs://financial-mlops-models/explainers/unbound-counterfactual\n  parameters:\n    - name: max_features\n      value: "30"\n',
    ].join('---\n'),
  );
  stack = await startStack(['--manifests', path.join(PROJECT_ROOT, 'k8s', 'ab-testing'), '--manifests', path.join(PROJECT_ROOT, 'k8s', 'explainer'), '--manifests', extra, '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
  oip = new OipClient(stack.url);
});

after(async () => {
  await stack?.stop();
  fs.rmSync(store, { recursive: true, force: true });
  fs.rmSync(extra, { recursive: true, force: true });
});

test('an explanation is one BYTES output holding alibi\'s Explanation; it adds up to the predict_proba the model serves', async (t) => {
  const answer = await oip.infer('enhanced-explainer', featuresRequest(rows, 'why-1'));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as { model_name: string; id: string; parameters: { headers: Record<string, string> }; outputs: { name: string; datatype: string; shape: number[]; parameters: object }[] };
  assert.equal(body.model_name, 'enhanced-explainer_1');
  assert.equal(body.id, 'why-1');
  assert.deepEqual(body.parameters.headers, { 'x-seldon-alibi-type': 'explanation', 'x-seldon-alibi-method': 'alibi.explainers.shap_wrappers' });
  assert.deepEqual(body.outputs.map((o) => [o.name, o.datatype, o.shape, o.parameters]), [['explanation', 'BYTES', [1, 1], { content_type: 'str' }]]);
  const explanation = parseExplanation(answer.body);
  assert.equal(explanation.meta.name, 'KernelShap');
  assert.equal(explanation.data.feature_names.length, 25);
  assert.deepEqual(explanation.data.shap_values.map((perClass) => [perClass.length, perClass[0].length]), [[3, 25], [3, 25]]);
  const proba = await oip.infer('enhanced-predictor', { ...featuresRequest(rows), outputs: [{ name: 'predict_proba' }] });
  const output = (proba.body as { outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] }).outputs[0];
  assert.deepEqual([output.name, output.datatype, output.shape], ['predict_proba', 'FP64', [3, 2]]);
  rows.forEach((_, i) => {
    for (const k of [0, 1]) {
      const sum = explanation.data.expected_value[k] + explanation.data.shap_values[k][i].reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - output.data[2 * i + k]) < 1e-9, `day ${i} class ${k}: ${sum} vs ${output.data[2 * i + k]}`);
    }
  });
  const predict = await oip.infer('enhanced-predictor', featuresRequest(rows));
  const labels = (predict.body as { outputs: { data: number[] }[] }).outputs[0].data;
  assert.deepEqual(labels, rows.map((_, i) => (output.data[2 * i + 1] > 0.5 ? 1 : 0)), 'predict is the argmax of predict_proba');
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const spec = parse(fs.readFileSync(path.join(ref, 'conformance', 'oip', 'open_inference_rest.yaml'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'oip', components: spec.components });
  for (const [name, value] of [['inference_response', answer.body], ['inference_response', proba.body], ['metadata_model_response', (await oip.get('/v2/models/enhanced-explainer')).body]] as const) {
    const validate = ajv.getSchema(`oip#/components/schemas/${name}`)!;
    assert.ok(validate(value), `${name}: ${JSON.stringify(validate.errors)}`);
  }
});

test('bad explain parameters, an output the explainer lacks and an explainer whose model is missing get OIP error bodies; an anchor explainer is not scheduled', async () => {
  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ['enhanced-explainer', { ...featuresRequest(rows), parameters: { explain_parameters: { nsamples: 1 } } }, 400, /explain_parameters\.nsamples must be an integer from 2 to 100000, got 1/],
    ['enhanced-explainer', { ...featuresRequest(rows), parameters: { explain_parameters: { threshold: 0.9 } } }, 400, /explain_parameters\.threshold is not an option of kernel_shap/],
    ['enhanced-explainer', { ...featuresRequest(rows), outputs: [{ name: 'predict' }] }, 400, /has no output 'predict' \(outputs: explanation\)/],
    ['ensemble-predictor', { ...featuresRequest(rows), outputs: [{ name: 'predict_proba' }] }, 400, /has no output 'predict_proba' \(outputs: predict\)/],
    ['orphan-explainer', featuresRequest(rows), 503, /the model no-such-predictor this explainer explains is not available/],
  ];
  for (const [model, body, status, message] of cases) {
    const answer = await oip.infer(model, body);
    assert.equal(answer.status, status, `${model}: ${JSON.stringify(answer.body)}`);
    assert.match(String((answer.body as { error?: string }).error), message);
  }
  const anchor = await fetch(`${stack.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/models/anchor-explainer`);
  const status = (await anchor.json()) as { status: { conditions: { type: string; status: string; reason?: string }[] } };
  assert.equal(status.status.conditions.find((c) => c.type === 'Ready')?.status, 'False');
});

test('a counterfactual explainer answers each day with the change that flips the call; one without a model_ref is not loaded, naming the parameter', async () => {
  const answer = await oip.infer('enhanced-counterfactual', featuresRequest(rows));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const outputs = Object.fromEntries((answer.body as { outputs: { name: string; shape: number[]; data: unknown[] }[] }).outputs.map((o) => [o.name, o]));
  assert.deepEqual(Object.keys(outputs), ['counterfactual', 'found', 'distance', 'original_probability', 'counterfactual_probability', 'changed_features']);
  assert.deepEqual(outputs.counterfactual.shape, [3, 25]);
  const metadata = (await oip.get('/v2/models/enhanced-counterfactual')).body as { outputs: { name: string }[] };
  assert.deepEqual(metadata.outputs.map((o) => o.name), Object.keys(outputs), 'the metadata lists what it answers');
  assert.deepEqual(outputs.found.data, [true, true, true]);
  rows.forEach((_, i) => {
    const [p0, p1] = [outputs.original_probability.data[i] as number, outputs.counterfactual_probability.data[i] as number];
    assert.notEqual(p0 > 0.5, p1 > 0.5, `day ${i}: ${p0} -> ${p1}`);
    assert.ok((JSON.parse(outputs.changed_features.data[i] as string) as unknown[]).length <= 3);
  });
  const status = (await (await fetch(`${stack.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/models/unbound-counterfactual`)).json()) as { status: { conditions: { type: string; status: string; message?: string; reason?: string }[] } };
  const ready = status.status.conditions.find((c) => c.type === 'ModelReady');
  assert.equal(ready?.status, 'False');
  assert.match(JSON.stringify(ready), /model_ref/);
});
