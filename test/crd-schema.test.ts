import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../support/config.ts';
import { referenceDir, SKIP_NO_REFERENCE } from './helpers.ts';

/** A validator per kind, compiled from the verbatim CRD's openAPIV3Schema. */
function crdValidators(ref: string): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  const out = new Map<string, ValidateFunction>();
  for (const file of ['mlops.seldon.io_models.yaml', 'mlops.seldon.io_experiments.yaml', 'mlops.seldon.io_pipelines.yaml']) {
    const crd = parse(fs.readFileSync(path.join(ref, 'seldon-crds', file), 'utf8'));
    const version = crd.spec.versions.find((v: { name: string }) => v.name === 'v1alpha1');
    out.set(crd.spec.names.kind, ajv.compile(version.schema.openAPIV3Schema));
  }
  return out;
}

function documents(dir: string): { file: string; doc: Record<string, unknown> }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => ({ file: f, doc: d.toJS() as Record<string, unknown> })));
}

test("the project's manifests validate against Seldon's verbatim CRD schemas", (t) => {
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const validators = crdValidators(ref);
  const docs = documents(path.join(PROJECT_ROOT, 'k8s', 'ab-testing'));
  assert.ok(docs.length >= 5);
  for (const { file, doc } of docs) {
    const validate = validators.get(String(doc.kind));
    assert.ok(validate, `${file}: no CRD for kind ${String(doc.kind)}`);
    assert.ok(validate(doc), `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

test('the CRD check has teeth: a wrong type or a missing required field is rejected', (t) => {
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const validators = crdValidators(ref);
  const model = validators.get('Model')!;
  const experiment = validators.get('Experiment')!;
  assert.equal(model({ apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model', metadata: { name: 'm' }, spec: { replicas: 1 } }), false);
  assert.equal(model({ apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model', metadata: { name: 'm' }, spec: { storageUri: 'gs://x', replicas: 'one' } }), false);
  assert.equal(experiment({ apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Experiment', metadata: { name: 'e' }, spec: { candidates: [{ name: 'a' }] } }), false);
});
