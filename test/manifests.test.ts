import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { experimentRefusal, loadManifests, ManifestError, parseManifestDocuments, parseManifestText, unsupportedReason } from '../stack/manifests.ts';
import { deploy } from '../stack/deployment.ts';
import { readyCondition } from '../stack/resource-status.ts';
import { readyAtGeneration } from '../support/k8s/manifest-objects.ts';
import { referenceDir, SKIP_NO_REFERENCE } from './helpers.ts';

const OWN = path.join(PROJECT_ROOT, 'k8s', 'ab-testing');

test("the project's own manifests pass the schema, the reference rules and the serving check", () => {
  const resources = loadManifests([OWN]);
  assert.deepEqual(resources.map((r) => `${r.kind}/${r.metadata.name}`).sort(), [
    'Experiment/financial-ab-test',
    'Model/baseline-predictor',
    'Model/decision-tree-predictor',
    'Model/enhanced-predictor',
    'Model/ensemble-predictor',
  ]);
  assert.deepEqual(resources.map(unsupportedReason).filter(Boolean), []);
  const baselines = new Map<string, string>();
  assert.deepEqual(resources.flatMap((r) => (r.kind === 'Experiment' ? [experimentRefusal(r, baselines)] : [])), [undefined]);
});

const model = (spec: string): string => `apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: m\nspec:\n${spec}`;

test('an unknown kind, an unknown field and a bad value are refused with a message naming them', () => {
  assert.throws(() => parseManifestText('apiVersion: mlops.seldon.io/v1alpha1\nkind: SeldonDeployment\nmetadata: {name: x}\nspec: {}', 'x.yaml'), /unsupported kind 'SeldonDeployment'/);
  assert.throws(() => parseManifestText(model('  storageUri: gs://b/m\n  replica: 2'), 'x.yaml'), /unsupported field 'spec\.replica'/);
  assert.throws(() => parseManifestText(model('  storageUri: gs://b/m\n  replicas: two'), 'x.yaml'), /field 'spec\.replicas'/);
  assert.throws(() => parseManifestText(model('  replicas: 1'), 'x.yaml'), /field 'spec\.storageUri'/);
  assert.throws(() => parseManifestText('apiVersion: v1\nkind: Model\nmetadata: {name: x}\nspec: {}', 'x.yaml'), /unsupported apiVersion 'v1'/);
  assert.throws(() => parseManifestText('kind: [', 'x.yaml'), ManifestError);
});

test("Seldon's own experiment rules (scheduler/pkg/store/experiment/validate.go): the scheduler refuses the spec, reported as the operator does", () => {
  const exp = (spec: string): string => `apiVersion: mlops.seldon.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: e\nspec:\n${spec}`;
  const models = `${model('  storageUri: gs://b/m')}\n---\n${model('  storageUri: gs://b/n').replace('name: m', 'name: n')}`;
  const statusOf = (text: string) => {
    const deployment = deploy(parseManifestDocuments(text, 'x.yaml'), []);
    return deployment.resources.find((r) => r.resource.kind === 'Experiment')!.status;
  };
  const refused = statusOf(`${models}\n---\n${exp('  default: z\n  candidates:\n  - {name: m, weight: 1}\n  - {name: n, weight: 1}')}`);
  // experiment_controller.go updateStatusFromError writes a ModelReady condition (sic), leaving Ready Unknown.
  const condition = refused.conditions.find((c) => c.type === 'ModelReady');
  assert.equal(condition?.status, 'False');
  assert.equal(condition?.reason, 'rpc error: code = FailedPrecondition desc = default model/pipeline z not found in experiment e candidates');
  assert.equal(readyCondition(refused)?.status, 'Unknown');
  assert.match(String(statusOf(exp('  candidates: []')).conditions.find((c) => c.type === 'ModelReady')?.reason), /experiment e has no candidates or mirror/);
  assert.match(String(statusOf(exp('  candidates:\n  - {name: m, weight: 1}\n  mirror: {name: m, percent: 10}')).conditions.find((c) => c.type === 'ModelReady')?.reason), /must be unique but found resource m duplicated/);
});

test('a missing candidate is accepted and reported through the Experiment conditions (operator/scheduler/experiment.go)', () => {
  const text = `${model('  storageUri: gs://b/m')}\n---\napiVersion: mlops.seldon.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: e\nspec:\n  candidates:\n  - {name: m, weight: 1}\n  - {name: q, weight: 1}`;
  const deployment = deploy(parseManifestDocuments(text, 'x.yaml'), []);
  const experiment = deployment.resources.find((r) => r.resource.kind === 'Experiment')!.status;
  const byType = Object.fromEntries(experiment.conditions.map((c) => [c.type, c]));
  assert.equal(byType.CandidatesReady.status, 'False');
  assert.equal(byType.CandidatesReady.reason, 'Candidates not ready');
  assert.equal(byType.MirrorReady.reason, 'Mirror ready');
  assert.equal(byType.ExperimentReady.status, 'False');
  assert.equal(byType.ExperimentReady.reason, 'no live replica for model m for model route e.experiment');
  assert.equal(byType.Ready.status, 'False');
  assert.equal(deployment.experiments.length, 0, 'an experiment that is not active has no route');
  // The model m has no artifact under an empty storage map: ModelFailed, with the cause.
  const m = deployment.resources.find((r) => r.resource.kind === 'Model')!.status.conditions.find((c) => c.type === 'ModelReady');
  assert.equal(m?.message, 'ModelFailed');
  assert.match(String(m?.reason), /has no local mapping/);
});

test('a schema-invalid object is refused alone, naming the field; the CRD quantity pattern guards spec.memory', () => {
  const docs = parseManifestDocuments(`${model('  storageUri: gs://b/m\n  memory: lots')}\n---\n${model('  storageUri: gs://b/n\n  memory: 100Ki').replace('name: m', 'name: n')}`, 'x.yaml');
  assert.equal(docs.length, 2);
  assert.ok('refused' in docs[0] && /Model m: field 'spec\.memory': must be a Kubernetes quantity/.test(docs[0].refused), JSON.stringify(docs[0]));
  assert.ok('resource' in docs[1]);
  for (const ok of ['100Ki', '1Mi', '2G', '1.5e3', '+10', '.5M']) assert.ok('resource' in parseManifestDocuments(model(`  storageUri: gs://b/m\n  memory: ${ok}`), 'x.yaml')[0], ok);
  for (const bad of ['1 Mi', 'Mi', '10KB', '1.2.3']) assert.ok('refused' in parseManifestDocuments(model(`  storageUri: gs://b/m\n  memory: "${bad}"`), 'x.yaml')[0], bad);
});

test("every Seldon sample manifest passes the schema check, or is refused naming the unsupported field, kind or runtime", (t) => {
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const dir = path.join(ref, 'conformance', 'seldon-samples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 10);
  const outcomes: Record<string, string> = {};
  for (const file of files) {
    const resources = parseManifestText(fs.readFileSync(path.join(dir, file), 'utf8'), file);
    assert.ok(resources.length > 0, `${file}: no resource`);
    for (const r of resources) {
      const reason = unsupportedReason(r);
      if (reason !== null) assert.match(reason, /unsupported (field|kind|runtime|field value) '[^']+'/, `${file}: ${reason}`);
      outcomes[file] = reason ?? 'servable';
    }
  }
  // Spot checks on what the embedded stack says about Seldon's samples.
  assert.match(outcomes['models-add10.yaml'], /unsupported runtime 'triton'/);
  assert.match(outcomes['income-explainer.yaml'], /spec\.explainer/);
  assert.match(outcomes['pipelines-income.yaml'], /unsupported kind 'Pipeline'/);
  assert.equal(outcomes['ab-default-model.yaml'], 'servable');
});

test('an object counts as ready only when its Ready condition was written for its current generation', () => {
  const object = (generation: number, observedGeneration: number | undefined, ready: 'True' | 'False') => ({
    kind: 'Experiment',
    metadata: { name: 'financial-mab-experiment', generation },
    status: { observedGeneration, conditions: [{ type: 'Ready', status: ready }] },
  });
  assert.equal(readyAtGeneration(object(3, 3, 'True')), true);
  assert.equal(readyAtGeneration(object(4, 3, 'True')), false, 'a Ready left over from the spec before the last patch');
  assert.equal(readyAtGeneration(object(3, 3, 'False')), false);
  assert.equal(readyAtGeneration(object(3, undefined, 'True')), false, 'a status that does not say which generation it describes');
  assert.equal(readyAtGeneration(undefined), false);
});
