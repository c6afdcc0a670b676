import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig, maskUrl } from '../support/config.ts';

test('defaults: local target, seed 42, the bucket mapped under reports/', () => {
  const config = loadConfig({});
  assert.equal(config.target, 'local');
  assert.equal(config.seed, 42);
  assert.equal(config.storageMap[0][0], 'gs://financial-mlops-models/');
  assert.match(config.storageMap[0][1], /reports\/model-store$/);
});

test('a bad value fails with the name of the variable', () => {
  assert.throws(() => loadConfig({ UAT_SEED: 'abc' }), (e: Error) => e instanceof ConfigError && /UAT_SEED/.test(e.message));
  assert.throws(() => loadConfig({ UAT_TARGET: 'cloud' }), /UAT_TARGET/);
  assert.throws(() => loadConfig({ MLFLOW_DB_URL: 'not a url' }), /MLFLOW_DB_URL/);
  assert.throws(() => loadConfig({ UAT_STORAGE_MAP: 'gs://bucket' }), /UAT_STORAGE_MAP/);
});

test('a namespace per run: exclusive with UAT_NAMESPACE, and a runtime folder only with it, existing', () => {
  assert.equal(loadConfig({ UAT_NAMESPACE_PER_RUN: '1' }).namespacePerRun, true);
  assert.equal(loadConfig({}).namespacePerRun, false);
  assert.throws(() => loadConfig({ UAT_NAMESPACE_PER_RUN: '1', UAT_NAMESPACE: 'prod' }), /^ConfigError: environment variable UAT_NAMESPACE_PER_RUN: cannot be combined with UAT_NAMESPACE/);
  assert.throws(() => loadConfig({ UAT_RUNTIME_MANIFESTS: 'k8s/runtime' }), /environment variable UAT_RUNTIME_MANIFESTS: applies only to the namespace a run creates; set UAT_NAMESPACE_PER_RUN=1 too/);
  assert.throws(() => loadConfig({ UAT_NAMESPACE_PER_RUN: '1', UAT_RUNTIME_MANIFESTS: '/no/such/folder' }), /environment variable UAT_RUNTIME_MANIFESTS: \/no\/such\/folder does not exist/);
  assert.throws(() => loadConfig({ UAT_NAMESPACE_PER_RUN: 'yes' }), /UAT_NAMESPACE_PER_RUN/);
});

test('masked URLs hide the password', () => {
  assert.equal(maskUrl('postgres://u:s3cret@h:5432/db'), 'postgres://u:****@h:5432/db');
  assert.equal(maskUrl('nonsense'), '<unparseable url>');
});
