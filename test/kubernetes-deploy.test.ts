/**
 * Deploying through the Kubernetes API (support/targets/kubernetes-deploy.ts) against the real local
 * kube-apiserver, with the embedded stack in operator mode writing Seldon's status: a dry run reports
 * what it would create and changes nothing; an apply creates the objects under the run label and they
 * become ready; a broken folder's refused object is named, and the objects that never become ready
 * fail within the deadline with their conditions and events; teardown leaves none of the run's objects.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { PROJECT_ROOT } from '../support/config.ts';
import { applyObjects, manifestObjects, NotReadyError, requireReady, RUN_LABEL, teardown } from '../support/targets/kubernetes-deploy.ts';
import { clusterWithOperator, NO_CLUSTER, type OperatedCluster } from './cluster-helpers.ts';

const skip = NO_CLUSTER;
const namespace = 'uat-deploy';
let operated: OperatedCluster | undefined;
before(async () => {
  if (!skip) operated = await clusterWithOperator(namespace);
});
after(async () => operated?.stop());

const AB = path.join(PROJECT_ROOT, 'k8s', 'ab-testing');
const BROKEN = path.join(PROJECT_ROOT, 'fixtures', 'deployments', 'partly-broken');

async function labelled(runId: string): Promise<string[]> {
  const custom = operated!.kc.makeApiClient(CustomObjectsApi);
  const names: string[] = [];
  for (const plural of ['models', 'experiments', 'pipelines']) {
    const list = (await custom.listNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural, labelSelector: `${RUN_LABEL}=${runId}` })) as { items: KubernetesObject[] };
    names.push(...list.items.map((o) => `${o.kind}/${o.metadata?.name}`));
  }
  return names.sort();
}

test('a dry run reports every object it would create and creates none', { skip, timeout: 60_000 }, async () => {
  const objects = manifestObjects(AB, namespace, 'run-dry');
  assert.deepEqual(objects.map((o) => o.kind), ['Model', 'Model', 'Model', 'Model', 'Experiment'], 'Models first');
  const outcomes = await applyObjects(operated!.kc, objects, { dryRun: true });
  assert.deepEqual(outcomes.map((o) => o.outcome), ['created', 'created', 'created', 'created', 'created']);
  assert.deepEqual(await labelled('run-dry'), []);
});

test('applied objects become ready; applied again they are unchanged; a dry run names the field it would change', { skip, timeout: 60_000 }, async () => {
  const { kc } = operated!;
  const objects = manifestObjects(AB, namespace, 'run-ab');
  assert.ok((await applyObjects(kc, objects)).every((o) => o.outcome === 'created'));
  const states = await requireReady(kc, namespace, objects, 20_000);
  assert.equal(states.length, 5);
  assert.ok((await applyObjects(kc, objects)).every((o) => o.outcome === 'unchanged'));
  const experiment = objects.find((o) => o.kind === 'Experiment')!;
  const shifted = { ...experiment, spec: { ...(experiment.spec as object), candidates: [{ name: 'baseline-predictor', weight: 50 }, { name: 'enhanced-predictor', weight: 50 }] } };
  assert.deepEqual(await applyObjects(kc, [shifted], { dryRun: true }), [{ object: 'Experiment/financial-ab-test', outcome: 'changed', fields: ['spec.candidates'] }]);
  assert.deepEqual((await applyObjects(kc, [experiment], { dryRun: true }))[0].outcome, 'unchanged', 'the dry run left the weights as they were');
  assert.deepEqual(await teardown(kc, namespace, 'run-ab'), []);
  assert.deepEqual(await labelled('run-ab'), []);
});

test('a broken folder: the refused object is named, and what never becomes ready fails within the deadline with its conditions', { skip, timeout: 60_000 }, async () => {
  const { kc } = operated!;
  const objects = manifestObjects(BROKEN, namespace, 'run-broken');
  const outcomes = await applyObjects(kc, objects);
  const refused = outcomes.filter((o) => o.outcome === 'refused');
  assert.equal(refused.length, 1);
  assert.equal(refused[0].object, 'Model/oversized-memory');
  assert.match('message' in refused[0] ? refused[0].message : '', /^HTTP 422: .*spec\.memory/);
  const accepted = objects.filter((o) => o.metadata?.name !== 'oversized-memory');
  const started = Date.now();
  await assert.rejects(requireReady(kc, namespace, accepted, 5_000), (error: unknown) => {
    assert.ok(error instanceof NotReadyError);
    assert.match(error.message, /Model\/gpu-predictor: .*ModelReady=False \(Failed to schedule model as no matching servers are available\).*events: none/);
    assert.match(error.message, /Experiment\/regime-challenge: .*ExperimentReady=False \(no live replica for model missing-predictor/);
    assert.match(error.message, /Pipeline\/regime-pipeline: /);
    assert.doesNotMatch(error.message, /steady-baseline:|steady-ab:/);
    return true;
  });
  assert.ok(Date.now() - started < 5_000 + 3_000, `failed after ${Date.now() - started} ms (deadline 5000 ms)`);
  assert.deepEqual(await teardown(kc, namespace, 'run-broken'), []);
  assert.deepEqual(await labelled('run-broken'), []);
});
