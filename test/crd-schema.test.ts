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
  for (const file of ['mlops.seldon.io_models.yaml', 'mlops.seldon.io_experiments.yaml', 'mlops.seldon.io_pipelines.yaml', 'mlops.seldon.io_servers.yaml']) {
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
  const docs = ['ab-testing', 'mab', 'router', 'explainer'].flatMap((folder) => documents(path.join(PROJECT_ROOT, 'k8s', folder)));
  assert.ok(docs.length >= 6);
  for (const { file, doc } of docs) {
    const validate = validators.get(String(doc.kind));
    assert.ok(validate, `${file}: no CRD for kind ${String(doc.kind)}`);
    assert.ok(validate(doc), `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

test("the runtime of a namespace per run: its Server validates against Seldon's verbatim CRD, its SeldonRuntime uses only the fields Seldon documents", (t) => {
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const validators = crdValidators(ref);
  const docs = documents(path.join(PROJECT_ROOT, 'k8s', 'runtime'));
  assert.deepEqual(docs.map((d) => d.doc.kind).sort(), ['SeldonRuntime', 'Server']);
  const server = docs.find((d) => d.doc.kind === 'Server')!.doc;
  const validate = validators.get('Server')!;
  assert.ok(validate(server), JSON.stringify(validate.errors));
  assert.equal(validate({ ...server, spec: { replicas: 1 } }), false, 'serverConfig is required');
  // no SeldonRuntime CRD in the reference: its spec fields as seldon-facts.md lists them
  const facts = fs.readFileSync(path.join(ref, 'seldon-facts.md'), 'utf8');
  const documented = /SeldonRuntime spec: (.*)\./.exec(facts)![1].match(/`([a-zA-Z]+)/g)!.map((f) => f.slice(1));
  const runtime = docs.find((d) => d.doc.kind === 'SeldonRuntime')!.doc as { apiVersion: string; spec: Record<string, unknown> };
  assert.equal(runtime.apiVersion, 'mlops.seldon.io/v1alpha1');
  for (const field of Object.keys(runtime.spec)) assert.ok(documented.includes(field), `${field} not among ${documented.join(', ')}`);
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
