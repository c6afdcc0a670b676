import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { BAD_INPUTS } from '../fixtures/bad-inputs.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { featuresRequest, OipClient, routedModel } from '../support/clients/oip-client.ts';
import { MetricsSnapshot } from '../support/clients/metrics-reader.ts';
import type { StackProcess } from '../support/targets/stack-process.ts';
import { referenceDir, SKIP_NO_REFERENCE, startStack, tempDir, trainedForTests } from './helpers.ts';

const MANIFESTS = path.join(PROJECT_ROOT, 'k8s', 'ab-testing');
const store = tempDir('model-store');
let stack: StackProcess;
let oip: OipClient;
let heldOutRows: number[][];

before(async () => {
  const { predictors, heldOut } = trainedForTests();
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

test('responses validate against the Open Inference Protocol REST spec; runtime errors are OIP error objects', async (t) => {
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
  const body = answer.body as { id: string; model_name: string; outputs: { shape: number[]; data: number[] }[] };
  assert.equal(body.id, 'req-1');
  assert.equal(body.model_name, 'enhanced-predictor_1', 'MLServer knows the model by its internal name');
  assert.deepEqual(body.outputs[0].shape, [3, 1]);
  const wrongShape = await oip.infer('enhanced-predictor', undefined, { rawBody: BAD_INPUTS['a tensor of the wrong shape'].rawBody });
  assert.equal(wrongShape.status, 400);
  assert.ok(schema('inference_error_response')(wrongShape.body), JSON.stringify(wrongShape.body));
});

// MLServer: mlserver/rest/errors.py (MLServerError -> {"error"}), FastAPI's default
// RequestValidationError handler (422 {"detail": [...]}); Envoy router.cc: no route -> 404, empty body.
test('the error contract: 422 with FastAPI detail for an invalid body, 400 MLServer error from the runtime, Envoy 404 with an empty body for an unknown model', async () => {
  const send = (name: string) => oip.infer(BAD_INPUTS[name].target.replace('{model}', 'enhanced-predictor'), undefined, { rawBody: BAD_INPUTS[name].rawBody });
  const expected: Record<string, [number, 'detail' | 'error' | 'empty']> = {
    'a body that is not JSON': [422, 'detail'],
    'a request without inputs': [422, 'detail'],
    'a tensor of an unknown datatype': [422, 'detail'],
    'a tensor of the wrong shape': [400, 'error'],
    'a tensor whose data does not fill its shape': [400, 'error'],
    'a tensor of the wrong datatype': [400, 'error'],
    'a tensor holding text': [400, 'error'],
    'a request for an unknown model': [404, 'empty'],
    'an oversized body': [413, 'error'],
  };
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(BAD_INPUTS).sort(), 'every corpus entry has its expected answer here');
  for (const [name, [status, shape]] of Object.entries(expected)) {
    const r = await send(name);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    if (shape === 'empty') assert.equal(r.body, '', name);
    if (shape === 'error') assert.match(String((r.body as { error?: string }).error), /\S/, name);
    if (shape === 'detail') {
      const detail = (r.body as { detail?: { type: string; loc: unknown[]; msg: string }[] }).detail;
      assert.ok(Array.isArray(detail) && detail.length > 0 && detail.every((d) => d.loc[0] === 'body' && d.msg && d.type), `${name}: ${JSON.stringify(r.body)}`);
    }
  }
  const runtime = await send('a tensor of the wrong shape');
  assert.match(String((runtime.body as { error: string }).error), /^mlserver\.errors\.InferenceError: /, 'parallel workers prefix the class path (mlserver/parallel/errors.py WorkerError)');
});

// Envoy routes (scheduler/pkg/envoy/xdscache/resource.go): exact seldon-model, x-seldon-route absent,
// sticky routes only where a route has more than one cluster; agent rproxy.go addRequestIdToResponse.
test('routing headers: sticky sessions only on a split route, x-request-id on every proxied answer, metadata split for the default model', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const r = await oip.infer('financial-ab-test.experiment', featuresRequest([heldOutRows[i]]));
    assert.equal(r.status, 200);
    counts[r.route ?? 'none'] = (counts[r.route ?? 'none'] ?? 0) + 1;
  }
  assert.deepEqual(Object.keys(counts).sort(), [':baseline-predictor_1:', ':enhanced-predictor_1:']);
  for (const target of ['baseline-predictor', 'financial-ab-test.experiment']) {
    for (let i = 0; i < 10; i++) {
      const r = await oip.infer(target, featuresRequest([heldOutRows[i]]), { headers: { 'x-seldon-route': ':enhanced-predictor_1:' } });
      assert.equal(r.route, ':enhanced-predictor_1:', `${target} is sticky`);
    }
  }
  const plain = await oip.infer('ensemble-predictor', featuresRequest([heldOutRows[0]]), { headers: { 'x-seldon-route': ':ensemble-predictor_1:' } });
  assert.deepEqual([plain.status, plain.body], [404, ''], 'a plain model has no sticky route, and its normal route needs x-seldon-route absent');
  const foreign = await oip.infer('financial-ab-test.experiment', featuresRequest([heldOutRows[0]]), { headers: { 'x-seldon-route': ':ensemble-predictor_1:' } });
  assert.equal(foreign.status, 404, 'a route header naming no candidate of the experiment matches no route');
  const noModelHeader = await fetch(`${stack.url}/v2/models/enhanced-predictor/infer`, { method: 'POST', headers: { 'x-seldon-route': ':enhanced-predictor_1:', 'content-type': 'application/json' }, body: JSON.stringify(featuresRequest([heldOutRows[0]])) });
  assert.equal(noModelHeader.status, 404, 'with x-seldon-route the Lua filter does not take the model from the path');
  const unknownExperiment = await oip.infer('nope.experiment', featuresRequest([heldOutRows[0]]));
  assert.equal(unknownExperiment.status, 404);

  const echoed = await fetch(`${stack.url}/v2/models/enhanced-predictor/infer`, { method: 'POST', headers: { 'seldon-model': 'enhanced-predictor', 'x-request-id': 'trace-42' }, body: JSON.stringify(featuresRequest([heldOutRows[0]])) });
  assert.equal(echoed.headers.get('x-request-id'), 'trace-42');
  const generated = await fetch(`${stack.url}/v2/models/enhanced-predictor/infer`, { method: 'POST', headers: { 'seldon-model': 'enhanced-predictor' }, body: '{' });
  assert.equal(generated.status, 422);
  assert.match(String(generated.headers.get('x-request-id')), /^[0-9a-v]{20}$/, 'an xid, also on a refused request');

  const names = new Set<string>();
  for (let i = 0; i < 40; i++) names.add(((await oip.get('/v2/models/baseline-predictor')).body as { name: string }).name);
  assert.deepEqual([...names].sort(), ['baseline-predictor_1', 'enhanced-predictor_1'], 'metadata of the default model goes through the split, under internal names');
});

// Agent metrics (scheduler/pkg/metrics/agent.go with promhttp's sanitizeMethod/sanitizeCode);
// MLServer's starlette_exporter middleware (mlserver/rest/app.py) and parallel dispatcher queue.
test('client errors are counted under their own codes; method is the lower-case HTTP method; MLServer series carry its labels and buckets', async () => {
  const read = async (p: string) => MetricsSnapshot.parse(await (await fetch(`${stack.url}${p}`)).text());
  const before = await read('/metrics');
  const restBefore = await read('/metrics/mlserver');
  await oip.infer('decision-tree-predictor', undefined, { rawBody: '{not json' });
  await oip.infer('decision-tree-predictor', undefined, { rawBody: BAD_INPUTS['a tensor of the wrong shape'].rawBody });
  await oip.infer('decision-tree-predictor', featuresRequest([heldOutRows[0]]));
  const after = await read('/metrics');
  const restAfter = await read('/metrics/mlserver');
  const delta = (code: string) => after.sum('seldon_model_infer_total', { model: 'decision-tree-predictor', code }) - before.sum('seldon_model_infer_total', { model: 'decision-tree-predictor', code });
  assert.deepEqual([delta('422'), delta('400'), delta('200'), delta('500')], [1, 1, 1, 0]);
  const methods = Object.keys(after.sumBy('seldon_model_infer_api_seconds_count', 'method'));
  const histogram = after.families.seldon_model_infer_api_seconds.data as { labels: Record<string, string> }[];
  assert.ok(histogram.every((s) => s.labels.method === 'post' || s.labels.method === 'get'), JSON.stringify(histogram.map((s) => s.labels)));
  assert.ok(histogram.some((s) => s.labels.code === '422'), 'the 422 has its own latency series');
  void methods;
  const rest = restAfter.families.rest_server_request_duration_seconds;
  assert.equal(rest.type, 'histogram');
  const series = rest.data as { labels: Record<string, string>; buckets: Record<string, number> }[];
  assert.ok(series.every((s) => s.labels.app_name === 'mlserver'));
  assert.deepEqual(Object.keys(series[0].labels).sort(), ['app_name', 'method', 'path', 'status_code']);
  assert.deepEqual(Object.keys(series[0].buckets).map(Number).filter(Number.isFinite).sort((a, b) => a - b), [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  const restDelta = (code: string) =>
    restAfter.sum('rest_server_requests_total', { path: '/v2/models/{model_name}/infer', status_code: code }) - restBefore.sum('rest_server_requests_total', { path: '/v2/models/{model_name}/infer', status_code: code });
  assert.deepEqual([restDelta('422'), restDelta('400'), restDelta('200')], [1, 1, 1]);
  assert.equal(restAfter.families.parallel_request_queue?.type, 'histogram');
  assert.deepEqual(Object.keys((restAfter.families.parallel_request_queue.data[0] as { labels: object }).labels), []);
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

test('a schema-invalid manifest is refused alone, naming the field, and an unmapped storageUri leaves its Model ModelFailed', async () => {
  const dir = tempDir('bad-manifest');
  fs.writeFileSync(
    path.join(dir, 'model.yaml'),
    'apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: m\nspec:\n  storageUri: gs://financial-mlops-models/x\n  replicaCount: 2\n',
  );
  const started = await startStack(['--manifests', dir, '--manifests', MANIFESTS, '--storage-map', `gs://financial-mlops-models/=${store}`]);
  try {
    const refused = started.ready.refused as { message: string }[];
    assert.equal(refused.length, 1);
    assert.match(refused[0].message, /unsupported field 'spec\.replicaCount'/);
    assert.deepEqual((started.ready.models as string[]).sort(), ['baseline-predictor', 'decision-tree-predictor', 'enhanced-predictor', 'ensemble-predictor']);
  } finally {
    await started.stop();
  }
  const unmapped = await startStack(['--manifests', MANIFESTS, '--storage-map', `s3://elsewhere/=${store}`]);
  try {
    const status = await (await fetch(`${unmapped.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/models/enhanced-predictor`)).json() as { status: { conditions: { type: string; status: string; reason?: string; message?: string }[] } };
    const modelReady = status.status.conditions.find((c) => c.type === 'ModelReady');
    assert.equal(modelReady?.status, 'False');
    assert.equal(modelReady?.message, 'ModelFailed');
    assert.match(String(modelReady?.reason), /has no local mapping/);
  } finally {
    await unmapped.stop();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

// Envoy RequestMirrorPolicy with FractionalPercent{percent, HUNDRED} on the experiment's route
// (scheduler/pkg/envoy/xdscache/resource.go createMirrorRouteAction): fire and forget, before the
// answer is known, so refused requests are mirrored as often as answered ones.
test('the mirror receives its percentage of all requests on the route, refused ones included', async () => {
  const dir = tempDir('mirror');
  fs.copyFileSync(path.join(MANIFESTS, 'models.yaml'), path.join(dir, 'models.yaml'));
  fs.writeFileSync(
    path.join(dir, 'experiment.yaml'),
    'apiVersion: mlops.seldon.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: shadow-test\nspec:\n  candidates:\n  - {name: enhanced-predictor, weight: 100}\n  mirror: {name: ensemble-predictor, percent: 40}\n',
  );
  const shadow = await startStack(['--manifests', dir, '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '7']);
  try {
    const client = new OipClient(shadow.url);
    const n = 300;
    for (let i = 0; i < n; i++) {
      const r = i % 2 === 0 ? await client.infer('shadow-test.experiment', featuresRequest([heldOutRows[i]])) : await client.infer('shadow-test.experiment', undefined, { rawBody: '{"inputs": [' });
      assert.equal(r.route, ':enhanced-predictor_1:', 'the mirror never answers');
    }
    // Mirrored requests are fire and forget: give the last ones a moment to be counted.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const metrics = await MetricsSnapshot.parse(await (await fetch(`${shadow.url}/metrics`)).text());
    const mirrored = metrics.sumBy('seldon_model_infer_total', 'code', { model: 'ensemble-predictor' });
    const total = Object.values(mirrored).reduce((a, b) => a + b, 0);
    // Binomial(300, 0.4): mean 120, sd 8.49; two-sided 99.9 % normal interval (z = 3.29): 92..148.
    const sd = Math.sqrt(n * 0.4 * 0.6);
    assert.ok(Math.abs(total - n * 0.4) <= 3.29 * sd, `mirrored ${total} of ${n}`);
    assert.ok((mirrored['200'] ?? 0) > 0 && (mirrored['422'] ?? 0) > 0, `mirrored by code ${JSON.stringify(mirrored)}`);
    assert.equal(metrics.sum('seldon_model_infer_total', { model: 'enhanced-predictor' }), n, 'every request was answered by the candidate');
  } finally {
    await shadow.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('long inference work does not block health probes', async () => {
  // 6,500 rows (under the 1 MiB body limit) for the random forest, predicted in turns.
  const rows = Array.from({ length: 6500 }, (_, i) => heldOutRows[i % heldOutRows.length].map((v) => Math.round(v * 1000) / 1000));
  const body = JSON.stringify(featuresRequest(rows));
  assert.ok(body.length < 1024 * 1024, `${body.length} bytes`);
  let inferDone = 0;
  const started = performance.now();
  const infer = oip.infer('ensemble-predictor', undefined, { rawBody: body }).then((r) => {
    inferDone = performance.now() - started;
    return r;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const probe = await fetch(`${stack.url}/v2/health/live`);
  const probeDone = performance.now() - started;
  const answer = await infer;
  assert.equal(answer.status, 200);
  assert.equal(probe.status, 200);
  const timing = `probe answered at ${probeDone.toFixed(0)} ms, inference at ${inferDone.toFixed(0)} ms`;
  assert.ok(inferDone > 100, `the inference must take long enough for the check to mean something: ${timing}`);
  assert.ok(probeDone < inferDone, timing);
});

test('a served folder takes a JSON merge patch of an Experiment, as the API server does: the split changes at once, a new generation observed; a bad patch changes nothing', async () => {
  const patched = await startStack(['--manifests', MANIFESTS, '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
  try {
    const at = `${patched.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/experiments/financial-ab-test`;
    const patch = (body: string, contentType = 'application/merge-patch+json') => fetch(at, { method: 'PATCH', headers: { 'content-type': contentType }, body });
    const client = new OipClient(patched.url);
    const routes = async (): Promise<Set<string | null>> => {
      const seen = new Set<string | null>();
      for (let i = 0; i < 30; i++) seen.add(routedModel((await client.infer('financial-ab-test.experiment', featuresRequest([heldOutRows[0]]))).route));
      return seen;
    };
    assert.deepEqual([...(await routes())].sort(), ['baseline-predictor', 'enhanced-predictor'], 'the 70/30 split');

    const ok = await patch(JSON.stringify({ spec: { candidates: [{ name: 'baseline-predictor', weight: 0 }, { name: 'enhanced-predictor', weight: 100 }] } }));
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { spec: { candidates: unknown } }).spec.candidates, [{ name: 'baseline-predictor', weight: 0 }, { name: 'enhanced-predictor', weight: 100 }]);
    assert.deepEqual([...(await routes())], ['enhanced-predictor'], 'no restart: the next requests follow the new weights');
    const read = (await (await fetch(at)).json()) as { metadata: { generation: number }; spec: { candidates: { weight: number }[] }; status: { observedGeneration: number } };
    assert.deepEqual(read.spec.candidates.map((c) => c.weight), [0, 100], 'the status path serves the patched spec');
    assert.deepEqual([read.metadata.generation, read.status.observedGeneration], [2, 2], 'a spec change is a new generation, observed at once');
    const same = await patch(JSON.stringify({ spec: { candidates: [{ name: 'baseline-predictor', weight: 0 }, { name: 'enhanced-predictor', weight: 100 }] } }));
    assert.equal(((await same.json()) as { metadata: { generation: number } }).metadata.generation, 2, 'a patch that changes nothing keeps the generation');

    const invalid = await patch(JSON.stringify({ spec: { candidates: [{ name: 'baseline-predictor', weight: 'most' }] } }));
    assert.equal(invalid.status, 422);
    assert.match(((await invalid.json()) as { message: string }).message, /Experiment "financial-ab-test" is invalid: .*candidates/);
    assert.equal((await patch('{"metadata":{"name":"renamed"}}')).status, 422, 'the name cannot change');
    assert.equal((await patch('not json')).status, 400);
    assert.equal((await patch('{}', 'application/json')).status, 415, 'only merge patches');
    assert.equal((await fetch(at.replace('financial-ab-test', 'no-such'), { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{}' })).status, 404);
    assert.deepEqual([...(await routes())], ['enhanced-predictor'], 'refused patches changed nothing');
  } finally {
    await patched.stop();
  }
});

test('a served folder deletes a Model and creates it again through the API paths: the Model and the Experiment over it stop serving, then serve again', async () => {
  const served = await startStack(['--manifests', MANIFESTS, '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
  try {
    const api = `${served.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh`;
    const ready = async (path: string) => (await fetch(`${served.url}${path}`)).status;
    const model = (await (await fetch(`${api}/models/enhanced-predictor`)).json()) as Record<string, unknown>;
    assert.equal((await fetch(`${api}/models/enhanced-predictor`, { method: 'DELETE' })).status, 200);
    assert.equal(await ready('/v2/models/enhanced-predictor/ready'), 404, 'no route for a deleted Model');
    assert.equal((await fetch(`${api}/models/enhanced-predictor`)).status, 404);
    const experiment = (await (await fetch(`${api}/experiments/financial-ab-test`)).json()) as { status: { conditions: { type: string; status: string; reason: string }[] } };
    const condition = experiment.status.conditions.find((c) => c.type === 'ExperimentReady');
    assert.deepEqual([condition?.status, condition?.reason], ['False', 'no live replica for model enhanced-predictor for model route financial-ab-test.experiment']);
    assert.equal((await fetch(`${api}/models/enhanced-predictor`, { method: 'DELETE' })).status, 404, 'gone already');
    const create = (body: unknown) => fetch(`${api}/models`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await create({ ...model, spec: { ...(model.spec as object), memory: 'lots' } });
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { message: string }).message, /Model "enhanced-predictor" is invalid: .*memory/);
    assert.equal((await create({ apiVersion: model.apiVersion, kind: 'Model', metadata: { name: 'enhanced-predictor' }, spec: model.spec })).status, 201);
    assert.equal((await create({ apiVersion: model.apiVersion, kind: 'Model', metadata: { name: 'enhanced-predictor' }, spec: model.spec })).status, 409, 'it exists now');
    assert.equal(await ready('/v2/models/enhanced-predictor/ready'), 200);
    const client = new OipClient(served.url);
    assert.equal((await client.infer('financial-ab-test.experiment', featuresRequest([heldOutRows[0]]))).status, 200, 'the Experiment serves again');
    assert.equal((await fetch(`${api}/models`, { method: 'PUT', body: '{}' })).status, 405);
  } finally {
    await served.stop();
  }
});
