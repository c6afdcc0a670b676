import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { checkReferences, loadManifests, ManifestError, parseManifestText, unsupportedReason } from '../stack/manifests.ts';
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
  checkReferences(resources);
  assert.deepEqual(resources.map(unsupportedReason).filter(Boolean), []);
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

test("Seldon's own experiment rules: default must be a candidate, candidates must exist", () => {
  const exp = (spec: string): string => `apiVersion: mlops.seldon.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: e\nspec:\n${spec}`;
  const models = parseManifestText(`${model('  storageUri: gs://b/m')}\n---\n${model('  storageUri: gs://b/n').replace('name: m', 'name: n')}`, 'm.yaml');
  const bad = parseManifestText(exp('  default: z\n  candidates:\n  - {name: m, weight: 1}\n  - {name: n, weight: 1}'), 'e.yaml');
  assert.throws(() => checkReferences([...models, ...bad]), /default model\/pipeline z not found in experiment e candidates/);
  const missing = parseManifestText(exp('  candidates:\n  - {name: m, weight: 1}\n  - {name: q, weight: 1}'), 'e.yaml');
  assert.throws(() => checkReferences([...models, ...missing]), /model 'q' is not defined/);
  const zero = parseManifestText(exp('  candidates:\n  - {name: m, weight: 0}\n  - {name: n, weight: 0}'), 'e.yaml');
  assert.throws(() => checkReferences([...models, ...zero]), /weights sum to zero/);
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
