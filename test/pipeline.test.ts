/**
 * The embedded pipeline gateway's execution of a Pipeline spec (stack/pipeline.ts), on Seldon's own
 * sample pipelines where they fit: the conditional pipeline (a step's output tensor picks the
 * branch; stepsJoin any), inputs and tensorMap, triggers that gate without passing data, joins,
 * a missing pipeline input as a 400, a step's error passed on, and the fields it does not run
 * named by their path.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseManifestDocuments, parseManifestText } from '../stack/manifests.ts';
import { concatenateTensors, memoryBatches, pipelineGraphProblem, PipelineError, runPipeline, unsupportedPipelineFields, type StepAnswer, type Tensor } from '../stack/pipeline.ts';
import type { PipelineSpec } from '../stack/manifests.ts';
import { referenceDir, SKIP_NO_REFERENCE, tempDir, trainedForTests } from './helpers.ts';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { deploy } from '../stack/deployment.ts';

const t1 = (name: string, value: number): Tensor => ({ name, datatype: 'FP64', shape: [1, 1], data: [value] });

/** Models by name: each returns tensors computed from its inputs, and records what it was given. */
function models(table: Record<string, (inputs: Tensor[]) => StepAnswer>): { call: (model: string, inputs: Tensor[]) => Promise<StepAnswer>; given: Record<string, string[]> } {
  const given: Record<string, string[]> = {};
  return {
    given,
    call: async (model, inputs) => {
      given[model] = inputs.map((t) => t.name);
      const f = table[model];
      return f ? f(inputs) : { status: 404, error: `no model ${model}` };
    },
  };
}

const value = (inputs: Tensor[], name: string): number => (inputs.find((t) => t.name === name)?.data as number[])[0];

function sample(file: string): { name: string; spec: PipelineSpec } | undefined {
  const ref = referenceDir();
  if (!ref) return undefined;
  const [r] = parseManifestText(fs.readFileSync(path.join(ref, 'conformance', 'seldon-samples', file), 'utf8'), file);
  assert.equal(r.kind, 'Pipeline');
  return { name: r.metadata.name, spec: r.spec as PipelineSpec };
}

test("Seldon's conditional sample: the branch whose input tensor the first step produced runs, tensorMap renames it, stepsJoin any answers with it", async (t) => {
  const p = sample('conditional.yaml');
  if (!p) return t.skip(SKIP_NO_REFERENCE);
  assert.deepEqual(unsupportedPipelineFields(p.spec), []);
  assert.equal(pipelineGraphProblem(p.name, p.spec), undefined);
  const m = models({
    // outputs OUTPUT0 when CHOICE is 0, OUTPUT1 otherwise (as tfsimple's conditional model)
    conditional: (inputs) => ({ outputs: [value(inputs, 'CHOICE') === 0 ? t1('OUTPUT0', value(inputs, 'INPUT0')) : t1('OUTPUT1', value(inputs, 'INPUT1'))] }),
    mul10: (inputs) => ({ outputs: [t1('OUTPUT', value(inputs, 'INPUT') * 10)] }),
    add10: (inputs) => ({ outputs: [t1('OUTPUT', value(inputs, 'INPUT') + 10)] }),
  });
  const zero = await runPipeline(p.name, p.spec, [t1('CHOICE', 0), t1('INPUT0', 3), t1('INPUT1', 4)], m.call);
  assert.deepEqual(zero.steps, ['conditional', 'mul10']);
  assert.deepEqual(zero.outputs.map((o) => [o.name, o.data]), [['OUTPUT', [30]]]);
  assert.deepEqual(m.given.mul10, ['INPUT'], 'conditional.outputs.OUTPUT0 mapped to INPUT');
  assert.deepEqual(m.given.conditional, ['CHOICE', 'INPUT0', 'INPUT1'], 'a step without inputs reads the pipeline inputs');
  const one = await runPipeline(p.name, p.spec, [t1('CHOICE', 1), t1('INPUT0', 3), t1('INPUT1', 4)], m.call);
  assert.deepEqual([one.steps, one.outputs.map((o) => o.data)], [['conditional', 'add10'], [[14]]]);
});

test("Seldon's income sample: the batched drift step runs, and an output may be one tensor of a step", (t) => {
  const p = sample('pipelines-income.yaml');
  if (!p) return t.skip(SKIP_NO_REFERENCE);
  assert.deepEqual(unsupportedPipelineFields(p.spec), []);
  assert.equal(pipelineGraphProblem(p.name, p.spec), undefined);
});

test('a batched step collects batch.size requests, then runs once on their tensors joined along the first dimension, apart from the answer', async () => {
  const spec: PipelineSpec = { steps: [{ name: 'model' }, { name: 'detector', inputs: ['p.inputs.features'], batch: { size: 3 } }], output: { steps: ['model'] } };
  assert.equal(pipelineGraphProblem('p', spec), undefined);
  const m = models({ model: (inputs) => ({ outputs: [t1('predict', value(inputs, 'features'))] }) });
  const batches = memoryBatches();
  const runs: Tensor[][] = [];
  const row = (a: number): Tensor => ({ name: 'features', datatype: 'FP64', shape: [1, 2], data: [a, a + 0.5] });
  for (const a of [1, 2, 3, 4]) {
    const run = await runPipeline('p', spec, [row(a)], m.call, { batches, run: (step, tensors) => runs.push(tensors.map((t) => ({ ...t, name: `${step}:${t.name}` }))) });
    assert.deepEqual(run.steps, ['model'], 'the batched step is not part of the answer');
    assert.deepEqual(run.outputs.map((o) => o.data), [[a]]);
  }
  assert.deepEqual(runs, [[{ name: 'detector:features', datatype: 'FP64', shape: [3, 2], data: [1, 1.5, 2, 2.5, 3, 3.5] }]], 'one run, on the first three requests; the fourth starts the next batch');
  assert.deepEqual(concatenateTensors([[{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }], [{ name: 'x', datatype: 'FP32', shape: [2], data: [3, 4] }]]), [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }]);
  assert.match(pipelineGraphProblem('p', { steps: [{ name: 'd', batch: { size: 3 } }, { name: 'm', inputs: ['d'] }], output: { steps: ['m'] } }) ?? '', /step m reads the batched step d/);
  assert.match(pipelineGraphProblem('p', { steps: [{ name: 'd', batch: { size: 3 } }] }) ?? '', /output: 'd' names the batched step d/);
  assert.deepEqual(unsupportedPipelineFields({ steps: [{ name: 'd', batch: { size: 3, windowMs: 100, rolling: true } }] }), ['spec.steps[0].batch.windowMs', 'spec.steps[0].batch.rolling']);
});

const router: PipelineSpec = {
  steps: [
    { name: 'router', inputs: ['p.inputs.volatility', 'p.inputs.trend'] },
    { name: 'calm', inputs: ['p.inputs.features'], triggers: ['router.outputs.calm'] },
    { name: 'storm', inputs: ['p.inputs.features'], triggers: ['router.outputs.storm'] },
  ],
  output: { steps: ['calm', 'storm'], stepsJoin: 'any' },
};
const routerModels = () =>
  models({
    router: (inputs) => ({ outputs: [t1(value(inputs, 'volatility') > 0.3 ? 'storm' : 'calm', 1)] }),
    calm: (inputs) => ({ outputs: [t1('predict', value(inputs, 'features'))] }),
    storm: (inputs) => ({ outputs: [t1('predict', -value(inputs, 'features'))] }),
  });

test('triggers gate a step without passing their data; the step reads its own inputs', async () => {
  const m = routerModels();
  const storm = await runPipeline('p', router, [t1('features', 5), t1('volatility', 0.4), t1('trend', 0)], m.call);
  assert.deepEqual([storm.steps, storm.outputs.map((o) => o.data)], [['router', 'storm'], [[-5]]]);
  assert.deepEqual(m.given.storm, ['features'], 'the trigger tensor is not passed');
  assert.equal(m.given.calm, undefined, 'the other branch never called');
  const calm = await runPipeline('p', router, [t1('features', 5), t1('volatility', 0.1), t1('trend', 0)], m.call);
  assert.deepEqual(calm.steps, ['router', 'calm']);
});

test('a pipeline input the graph needs and the request lacks is a 400 naming it; a step\'s error passes on with its status', async () => {
  const m = routerModels();
  await assert.rejects(runPipeline('p', router, [t1('features', 5), t1('trend', 0)], m.call), (e: unknown) => e instanceof PipelineError && e.status === 400 && /needs the input tensor 'volatility' \(step router reads p\.inputs\.volatility\)/.test(e.message));
  const failing = models({ router: () => ({ status: 422, error: 'bad shape' }) });
  await assert.rejects(runPipeline('p', router, [t1('features', 5), t1('volatility', 0.1), t1('trend', 0)], failing.call), (e: unknown) => e instanceof PipelineError && e.status === 422 && /step router of pipeline p: bad shape/.test(e.message));
});

test('stepsJoin inner needs every output step; outer answers with those that ran; output.tensorMap renames', async () => {
  const m = routerModels();
  const request = [t1('features', 5), t1('volatility', 0.1), t1('trend', 0)];
  await assert.rejects(runPipeline('p', { ...router, output: { steps: ['calm', 'storm'], stepsJoin: 'inner' } }, request, m.call), /storm not produced \(stepsJoin inner; steps run: router, calm\)/);
  const outer = await runPipeline('p', { ...router, output: { steps: ['calm', 'storm'], stepsJoin: 'outer', tensorMap: { 'calm.outputs.predict': 'calm_call' } } }, request, m.call);
  assert.deepEqual(outer.outputs.map((o) => o.name), ['calm_call']);
  const lastStep = await runPipeline('p', { steps: [{ name: 'calm' }] }, [t1('features', 2)], m.call);
  assert.deepEqual(lastStep.outputs.map((o) => o.data), [[2]], 'no output section: the last step answers');
});

test('a graph that names nothing, repeats a step or loops is refused with the reason; fields it does not run are named', () => {
  assert.match(pipelineGraphProblem('p', { steps: [{ name: 'a', inputs: ['b.outputs'] }] }) ?? '', /step a: 'b\.outputs' names no step of pipeline p/);
  assert.match(pipelineGraphProblem('p', { steps: [{ name: 'a' }, { name: 'a' }] }) ?? '', /step a is defined twice/);
  assert.match(pipelineGraphProblem('p', { steps: [{ name: 'a', inputs: ['b'] }, { name: 'b', inputs: ['a'] }] }) ?? '', /a, b form a cycle/);
  assert.match(pipelineGraphProblem('p', { steps: [{ name: 'a' }], output: { steps: ['z'] } }) ?? '', /output: 'z' names no step/);
  assert.deepEqual(unsupportedPipelineFields({ steps: [{ name: 'a', joinWindowMs: 5 }], input: { externalInputs: ['q.outputs'] }, output: { steps: ['a'], joinWindowMs: 10 } }), ['spec.steps[0].joinWindowMs', 'spec.output.joinWindowMs', 'spec.input']);
});

test('a deployed Pipeline is ready and served when its steps are; one with a field the gateway does not run, or a missing step, is not, and its status says why', () => {
  const store = tempDir('pipeline-store');
  const baseline = trainedForTests().predictors.find((p) => p.spec.name === 'baseline-predictor')!;
  fs.mkdirSync(path.join(store, 'baseline-predictor'), { recursive: true });
  fs.writeFileSync(path.join(store, 'baseline-predictor', ARTIFACT_FILE), JSON.stringify(baseline.artifact));
  const doc = (name: string, step: string) => `apiVersion: mlops.seldon.io/v1alpha1\nkind: Pipeline\nmetadata:\n  name: ${name}\nspec:\n  steps:\n${step}`;
  const documents = [
    ...parseManifestDocuments('apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: baseline-predictor\nspec:\n  storageUri: gs://b/baseline-predictor\n  requirements: [mlserver, python]', 'm.yaml'),
    ...parseManifestDocuments(doc('served', '    - name: baseline-predictor'), 'p.yaml'),
    ...parseManifestDocuments(doc('batched', '    - name: baseline-predictor\n      batch:\n        size: 20\n        windowMs: 500'), 'p.yaml'),
    ...parseManifestDocuments(doc('missing', '    - name: no-such-model'), 'p.yaml'),
  ];
  const deployment = deploy(documents, [['gs://b/', store]]);
  assert.deepEqual(deployment.pipelines.map((p) => p.name), ['served']);
  const conditions = (name: string) => Object.fromEntries(deployment.resources.find((r) => r.resource.metadata.name === name)!.status.conditions.map((c) => [c.type, c]));
  assert.deepEqual([conditions('served').Ready.status, conditions('served').PipelineReady.status, conditions('served').ModelsReady.status], ['True', 'True', 'True']);
  assert.equal(conditions('batched').PipelineReady.message, 'the embedded pipeline gateway does not support spec.steps[0].batch.windowMs');
  assert.equal(conditions('batched').PipelineReady.reason, 'PipelineFailed');
  assert.deepEqual([conditions('missing').ModelsReady.status, conditions('missing').Ready.status], ['False', 'False']);
  fs.rmSync(store, { recursive: true, force: true });
});
