/**
 * The project's Seldon CRDs on a real kube-apiserver (`npm run cluster`'s): they install and become
 * Established; the A/B stack's manifests apply server-side under the harness's field manager, a
 * server-side dry run creates nothing, an invalid quantity is refused with a 422 naming the field,
 * RBAC refuses an identity without the rights, and deleting by the run label leaves nothing.
 * Skips with how to get the binary when kube-apiserver has not been built on this machine.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiException, CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { LocalCluster } from '../support/cluster/local-cluster.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { readManifests } from '../support/k8s/manifest-reader.ts';
import { RUN_LABEL } from '../support/targets/kubernetes-deploy.ts';
import { clusterWithCrds, NO_CLUSTER } from './cluster-helpers.ts';

const skip = NO_CLUSTER;
let cluster: LocalCluster | undefined;
let kc: KubeConfig;
const runId = randomUUID();
const namespace = `uat-${runId.slice(0, 8)}`;

before(async () => {
  if (skip) return;
  ({ cluster, kc } = await clusterWithCrds(namespace, { users: [{ name: 'uat-outsider', groups: ['uat-outsiders'] }], labels: { [RUN_LABEL]: runId } }));
});
after(async () => cluster?.stop());

/** The A/B stack's resources as this run applies them: in the run's namespace, labelled with the run id. */
function runObjects(): KubernetesObject[] {
  return readManifests([path.join(PROJECT_ROOT, 'k8s', 'ab-testing')]).map((r) => ({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: r.kind,
    metadata: { name: r.name, namespace, labels: { [RUN_LABEL]: runId } },
    spec: r.spec,
  }) as KubernetesObject);
}

const listed = async (plural: string): Promise<string[]> => {
  const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural, labelSelector: `${RUN_LABEL}=${runId}` })) as { items: KubernetesObject[] };
  return list.items.map((i) => i.metadata!.name!).sort();
};

test('the Seldon CRDs serve Models and Experiments: a server-side dry run creates nothing, an apply creates them under the harness field manager', { skip }, async () => {
  assert.match(cluster!.version, /^v1\.20\./);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const o of runObjects()) await objects.patch(o, undefined, 'All', 'financial-mlops-uat', true, PatchStrategy.ServerSideApply);
  assert.deepEqual(await listed('models'), [], 'the dry run created models');
  for (const o of runObjects()) await objects.patch(o, undefined, undefined, 'financial-mlops-uat', true, PatchStrategy.ServerSideApply);
  const models = runObjects().filter((o) => o.kind === 'Model').map((o) => o.metadata!.name!).sort();
  assert.deepEqual(await listed('models'), models);
  assert.deepEqual(await listed('experiments'), ['financial-ab-test']);
  const read = await objects.read({ apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Experiment', metadata: { name: 'financial-ab-test', namespace } });
  assert.ok(read.metadata?.managedFields?.some((f) => f.manager === 'financial-mlops-uat' && f.operation === 'Apply'));
});

test('a Model with an invalid memory quantity is refused with a 422 naming spec.memory', { skip }, async () => {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const bad = { apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model', metadata: { name: 'bad-memory', namespace, labels: { [RUN_LABEL]: runId } }, spec: { storageUri: 'gs://x/y', memory: 'lots' } };
  await assert.rejects(objects.patch(bad, undefined, undefined, 'financial-mlops-uat', true, PatchStrategy.ServerSideApply), (error: unknown) => {
    assert.ok(error instanceof ApiException, String(error));
    assert.equal(error.code, 422);
    assert.match(JSON.stringify(error.body), /spec\.memory/);
    return true;
  });
});

test('RBAC refuses an identity without rights on Seldon resources (403)', { skip }, async () => {
  const outsider = new KubeConfig();
  outsider.loadFromString(cluster!.kubeconfig(cluster!.users[0]));
  await assert.rejects(outsider.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural: 'models' }), (error: unknown) => {
    assert.ok(error instanceof ApiException);
    assert.equal(error.code, 403);
    return true;
  });
});

test('deleting by the run label leaves none of the run\'s objects', { skip }, async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const plural of ['experiments', 'models']) {
    await custom.deleteCollectionNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural, labelSelector: `${RUN_LABEL}=${runId}` });
    assert.deepEqual(await listed(plural), []);
  }
});
