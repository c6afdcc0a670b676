/**
 * The embedded stack in operator mode against the real local kube-apiserver: it serves the Seldon
 * objects of a namespace as they are applied, changed and deleted, and writes their status
 * conditions through the status subresource. An Experiment applied before its Models is not ready
 * (Seldon's reason) until they are; a patched Experiment changes the split without a restart, seen
 * through a watch (the resync here is 60 s) and confirmed by status.observedGeneration; a
 * deleted Model stops being served and its Experiment turns not ready.
 * Skips with how to get the binary when kube-apiserver has not been built on this machine.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CustomObjectsApi, type KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { featuresRequest, OipClient, routedModel } from '../support/clients/oip-client.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { readManifests } from '../support/k8s/manifest-reader.ts';
import { applyCandidates, kubeExperimentAccess } from '../bandit/experiment-access.ts';
import { waitFor } from '../support/wait.ts';
import { clusterWithOperator, NO_CLUSTER, type OperatedCluster } from './cluster-helpers.ts';

const skip = NO_CLUSTER;
const namespace = 'uat-operator';
let operated: OperatedCluster | undefined;
let oip: OipClient;
let row: number[];
let kc: KubeConfig;

before(async () => {
  if (skip) return;
  // a resync far beyond the tests' waits: what the operator serves, it learned from its watches
  operated = await clusterWithOperator(namespace, { resyncSeconds: 60 });
  ({ kc, row } = operated);
  oip = new OipClient(operated.stack.url);
});
after(async () => operated?.stop());

const manifests = (kind: string): KubernetesObject[] =>
  readManifests([path.join(PROJECT_ROOT, 'k8s', 'ab-testing')])
    .filter((r) => r.kind === kind)
    .map((r) => ({ apiVersion: 'mlops.seldon.io/v1alpha1', kind: r.kind, metadata: { name: r.name, namespace }, spec: r.spec }) as KubernetesObject);

const apply = async (objects: KubernetesObject[]): Promise<void> => {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) await api.patch(o, undefined, undefined, 'financial-mlops-uat', true, PatchStrategy.ServerSideApply);
};

/** The conditions the operator wrote on the object, once its Ready condition says `status` for its latest generation (bounded wait). */
async function readyBecomes(plural: string, name: string, status: 'True' | 'False'): Promise<Record<string, { status: string; reason?: string }>> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  return waitFor(`${plural}/${name} Ready=${status}`, 15_000, async () => {
    const o = (await custom.getNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural, name })) as { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
    const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === status && o.status?.observedGeneration === o.metadata.generation ? Object.fromEntries(o.status.conditions!.map((c) => [c.type, c])) : undefined;
  }, 200);
}

async function answeredBy(target: string, count: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const answer = await oip.infer(target, featuresRequest([row]));
    const key = answer.status === 200 ? routedModel(answer.route) ?? '(none)' : `HTTP ${answer.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

test('an Experiment applied before its Models is not ready, then ready and serving once they are', { skip, timeout: 120_000 }, async () => {
  await apply(manifests('Experiment'));
  const waiting = await readyBecomes('experiments', 'financial-ab-test', 'False');
  assert.deepEqual([waiting.Ready.reason, waiting.CandidatesReady.status], ['Candidates not ready', 'False']);
  assert.match(waiting.ExperimentReady.reason ?? '', /^no live replica for model baseline-predictor for model route financial-ab-test\.experiment$/);
  assert.deepEqual(await answeredBy('financial-ab-test.experiment', 3), { 'HTTP 404': 3 });
  await apply(manifests('Model'));
  for (const m of manifests('Model')) await readyBecomes('models', m.metadata!.name!, 'True');
  await readyBecomes('experiments', 'financial-ab-test', 'True');
  const split = await answeredBy('financial-ab-test.experiment', 60);
  assert.deepEqual(Object.keys(split).sort(), ['baseline-predictor', 'enhanced-predictor'], JSON.stringify(split));
});

test('a patched Experiment changes the split without a restart, observed within seconds (a watch, not the resync); statuses that hold are not rewritten', { skip, timeout: 60_000 }, async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const at = { group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural: 'models', name: 'baseline-predictor' };
  const modelVersion = ((await custom.getNamespacedCustomObject(at)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const access = kubeExperimentAccess(kc, namespace, 'financial-mlops-uat');
  const applied = await applyCandidates(access, 'financial-ab-test', [{ name: 'baseline-predictor', weight: 0 }, { name: 'enhanced-predictor', weight: 100 }]);
  assert.ok('observedAfterMs' in applied, JSON.stringify(applied));
  assert.deepEqual(await answeredBy('financial-ab-test.experiment', 30), { 'enhanced-predictor': 30 });
  assert.ok(applied.observedAfterMs < 10_000, `observed after ${applied.observedAfterMs} ms`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = ((await custom.getNamespacedCustomObject(at)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  assert.equal(after, modelVersion, 'the Model\'s status held, so the operator did not write it again');
});

test('a deleted Model stops being served and its Experiment turns not ready', { skip, timeout: 60_000 }, async () => {
  await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural: 'models', name: 'enhanced-predictor' });
  const notReady = await readyBecomes('experiments', 'financial-ab-test', 'False');
  assert.match(notReady.ExperimentReady.reason ?? '', /^no live replica for model enhanced-predictor /);
  assert.deepEqual(await answeredBy('enhanced-predictor', 3), { 'HTTP 404': 3 });
  assert.deepEqual(await answeredBy('ensemble-predictor', 3), { 'ensemble-predictor': 3 });
});
