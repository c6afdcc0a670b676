/**
 * Deploying through the Kubernetes API (support/targets/kubernetes-deploy.ts) against the real local
 * kube-apiserver, with the embedded stack in operator mode writing Seldon's status: a dry run reports
 * what it would create and changes nothing; an apply creates the objects under the run label and they
 * become ready; a broken folder's refused object is named, and the objects that never become ready
 * fail within the deadline with their conditions and events; teardown leaves none of the run's objects.
 * Then the kubernetes target's adapter (support/targets/kubernetes-serving.ts) on the same cluster:
 * a start that fails on a resource never ready, a patched split, UAT_KEEP, `--dry-run`, and a
 * namespace per run (the stand-in serves every namespace, as `npm run cluster -- --namespace-per-run`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { featuresRequest, OipClient, routedModel } from '../support/clients/oip-client.ts';
import { ResourceStatusClient } from '../support/clients/resource-status-client.ts';
import { loadConfig, PROJECT_ROOT } from '../support/config.ts';
import { kubernetesServing, podLogs, readPodLog, runNamespace } from '../support/targets/kubernetes-serving.ts';
import { waitFor } from '../support/wait.ts';
import { applyObjects, labelledObjects, manifestObjects, NotReadyError, requireReady, RUN_LABEL, teardown } from '../support/targets/kubernetes-deploy.ts';
import { clusterWithOperator, NO_CLUSTER, type OperatedCluster } from './cluster-helpers.ts';
import { tempDir } from './helpers.ts';

const skip = NO_CLUSTER;
const namespace = 'uat-deploy';
let operated: OperatedCluster | undefined;
before(async () => {
  if (!skip) operated = await clusterWithOperator(namespace, { namespacePerRun: true });
});
after(async () => operated?.stop());

const AB = path.join(PROJECT_ROOT, 'k8s', 'ab-testing');
const BROKEN = path.join(PROJECT_ROOT, 'fixtures', 'deployments', 'partly-broken');

async function labelled(runId: string, where = namespace): Promise<string[]> {
  return (await labelledObjects(operated!.kc, where, `${RUN_LABEL}=${runId}`)).sort();
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
    assert.match(error.message, /Pipeline\/regime-pipeline: .*PipelineReady=False \(PipelineFailed\)/);
    assert.doesNotMatch(error.message, /steady-baseline:|steady-ab:/);
    return true;
  });
  assert.ok(Date.now() - started < 5_000 + 3_000, `failed after ${Date.now() - started} ms (deadline 5000 ms)`);
  assert.deepEqual(await teardown(kc, namespace, 'run-broken'), []);
  assert.deepEqual(await labelled('run-broken'), []);
});

/** The kubernetes target's serving adapter on this cluster, for `manifests`, with the environment the suite would get. */
async function adapter(manifests: string, env: Record<string, string> = {}, identity: 'admin' | 'harness' = 'admin') {
  const kubeconfig = path.join(tempDir('adapter'), 'kubeconfig');
  fs.writeFileSync(kubeconfig, identity === 'admin' ? operated!.cluster.kubeconfig() : fs.readFileSync(operated!.harnessKubeconfig, 'utf8'));
  const config = { ...loadConfig({ UAT_TARGET: 'kubernetes', KUBECONFIG: kubeconfig, UAT_NAMESPACE: namespace, UAT_INFERENCE_URL: operated!.stack.url, UAT_REPORTS_DIR: tempDir('adapter-reports'), ...env }), manifests: [manifests] };
  const lines: string[] = [];
  const serving = await kubernetesServing({ config, uatRunId: `run-${path.basename(manifests)}`, log: (l) => lines.push(l), logFile: () => fs.createWriteStream('/dev/null'), onDeath: () => () => undefined });
  return { serving, config, kubeconfig, lines, runId: `run-${path.basename(manifests)}` };
}

test('the kubernetes target does not start when a resource never becomes ready: the error names it, its conditions and its events, within the deadline, and the run leaves nothing', { skip, timeout: 60_000 }, async () => {
  const folder = tempDir('never-ready');
  fs.writeFileSync(path.join(folder, 'experiment.yaml'), 'apiVersion: mlops.seldon.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: never-ready\nspec:\n  candidates:\n    - name: no-such-model\n      weight: 100\n');
  // what a control plane records for it: the target reads the object's events, not only its status
  await operated!.kc.makeApiClient(CoreV1Api).createNamespacedEvent({ namespace, body: { metadata: { name: 'never-ready.1', namespace }, involvedObject: { kind: 'Experiment', name: 'never-ready', namespace }, reason: 'CandidatesMissing', message: 'no-such-model is not deployed', type: 'Warning' } });
  const { serving, runId } = await adapter(folder, { UAT_READY_DEADLINE_SECONDS: '3' });
  const started = Date.now();
  await assert.rejects(serving.up(), (error: unknown) => {
    assert.ok(error instanceof NotReadyError, String(error));
    assert.match(error.message, /not ready within 3 s in namespace uat-deploy/);
    assert.match(error.message, /Experiment\/never-ready: .*Ready=False .*events: Warning CandidatesMissing: no-such-model is not deployed/);
    return true;
  });
  assert.ok(Date.now() - started < 3_000 + 3_000, `failed after ${Date.now() - started} ms (deadline 3000 ms)`);
  assert.deepEqual(await labelled(runId), ['Experiment/never-ready'], 'applied under the run label');
  await serving.stop();
  assert.deepEqual(await labelled(runId), [], 'the target stopping deletes what it applied');
});

test('the kubernetes target serves the stack, changes an Experiment split by a patch without a restart, and UAT_KEEP=1 keeps the run\'s objects', { skip, timeout: 90_000 }, async () => {
  const { serving, runId, lines } = await adapter(AB, { UAT_KEEP: '1' });
  const up = await serving.up();
  assert.match(up.servedBy, /namespace uat-deploy of the Kubernetes API v1\.20/);
  assert.equal(ResourceStatusClient.condition(await up.status.get('Experiment', 'financial-ab-test'), 'Ready')?.status, 'True');
  const oip = new OipClient(up.inferenceUrl);
  const routes = async (): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(routedModel((await oip.infer('financial-ab-test.experiment', featuresRequest([operated!.row]))).route) ?? 'none');
    return seen;
  };
  assert.ok((await routes()).size > 1, 'the 70/30 split sends requests to both candidates');
  await up.patchExperiment('financial-ab-test', [{ name: 'baseline-predictor', weight: 0 }, { name: 'enhanced-predictor', weight: 100 }]);
  await waitFor('the patched split to serve', 10_000, async () => ((await routes()).size === 1 ? true : undefined));
  assert.deepEqual([...(await routes())], ['enhanced-predictor']);
  await assert.rejects(up.patchExperiment('financial-ab-test', [{ name: 'baseline-predictor', weight: -1 }]), /HTTP 422: .*candidates/);
  await serving.stop();
  assert.ok(lines.some((l) => l.includes('UAT_KEEP set')), lines.join('\n'));
  assert.equal((await labelled(runId)).length, 5, 'kept');
  assert.deepEqual(await teardown(operated!.kc, namespace, runId), []);
});

test('`npm run uat -- --dry-run` prints what it would create on the cluster and creates nothing', { skip, timeout: 60_000 }, async () => {
  const { kubeconfig } = await adapter(AB);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'uat.ts'), '--dry-run'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, UAT_TARGET: 'kubernetes', KUBECONFIG: kubeconfig, UAT_NAMESPACE: namespace, UAT_REPORTS_DIR: tempDir('dry-run') },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /Server-side dry run of k8s\/ab-testing, k8s\/mab, k8s\/router, k8s\/explainer, k8s\/drift in namespace uat-deploy .*\(nothing stored\)/);
  for (const name of ['Model/baseline-predictor', 'Model/enhanced-predictor', 'Model/ensemble-predictor', 'Model/decision-tree-predictor', 'Experiment/financial-ab-test', 'Experiment/financial-mab-experiment', 'Model/market-regime-router', 'Pipeline/contextual-financial-router', 'Model/enhanced-explainer', 'Model/baseline-explainer']) {
    assert.match(run.stdout, new RegExp(`${name}\\s+│ created`));
  }
  assert.deepEqual(await labelled('dry-run'), []);
  const custom = operated!.kc.makeApiClient(CustomObjectsApi);
  const models = (await custom.listNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace, plural: 'models' })) as { items: unknown[] };
  assert.equal(models.items.length, 0, 'nothing stored');
});

test('a failed scenario\'s diagnostics carry the namespace\'s pod logs, or why a log cannot be read', { skip, timeout: 30_000 }, async () => {
  const { kc } = operated!;
  assert.equal(await podLogs(kc, namespace), `no pods in ${namespace}`);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'default' } } }).catch(() => undefined); // no controller manager makes it
  await core.createNamespacedPod({ namespace, body: { metadata: { name: 'mlserver-0' }, spec: { automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'seldonio/seldon-agent' }, { name: 'mlserver', image: 'seldonio/mlserver' }] } } });
  try {
    const logs = await podLogs(kc, namespace);
    // no kubelet runs here: the pod never reaches a node, and the API server answers its log with nothing (204)
    assert.match(logs, /--- mlserver-0\/agent \(Pending\), last 30 lines:\n\(empty\)/);
    assert.match(logs, /--- mlserver-0\/mlserver \(Pending\), last 30 lines:\n\(empty\)/);
    // a pod that does not exist: the API server's reason
    await assert.rejects(readPodLog(kc, namespace, 'no-such-pod', 'agent'), /HTTP 404: pods "no-such-pod" not found/);
  } finally {
    await core.deleteNamespacedPod({ namespace, name: 'mlserver-0', gracePeriodSeconds: 0 });
  }
});

test('without UAT_INFERENCE_URL the target port-forwards to a ready pod behind seldon-mesh, and says why when it cannot', { skip, timeout: 60_000 }, async () => {
  const core = operated!.kc.makeApiClient(CoreV1Api);
  // no service yet
  await assert.rejects(adapter(AB, { UAT_INFERENCE_URL: '' }), /UAT_INFERENCE_URL is not set and seldon-mesh cannot be port-forwarded: service seldon-mesh in namespace uat-deploy not readable: HTTP 404/);
  await core.createNamespacedService({ namespace, body: { metadata: { name: 'seldon-mesh' }, spec: { selector: { app: 'seldon-envoy' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } } });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'default' } } }).catch(() => undefined);
  await core.createNamespacedPod({ namespace, body: { metadata: { name: 'seldon-envoy-0', labels: { app: 'seldon-envoy' } }, spec: { automountServiceAccountToken: false, containers: [{ name: 'envoy', image: 'envoyproxy/envoy', ports: [{ name: 'http', containerPort: 9000 }] }] } } });
  try {
    // the pod exists but no kubelet runs it: not a backend
    await assert.rejects(adapter(AB, { UAT_INFERENCE_URL: '' }), /no running and ready pod behind service seldon-mesh \(selector app=seldon-envoy\) in namespace uat-deploy; pods: seldon-envoy-0 \(Pending\)/);
    // marked running and ready (as a kubelet would), it is chosen, and the service's named targetPort resolves to the container port
    await core.patchNamespacedPodStatus({ namespace, name: 'seldon-envoy-0', body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const { serving, lines } = await adapter(AB, { UAT_INFERENCE_URL: '' });
    assert.ok(lines.some((l) => /^seldon-mesh: port-forward http:\/\/127\.0\.0\.1:\d+ -> pod seldon-envoy-0:9000 through the API server$/.test(l)), lines.join('\n'));
    // no node runs the pod here: the forwarded connection fails, and the target names the API server's reason
    // (the API server refuses the stream: the pod has no node to forward to)
    await assert.rejects(serving.up(), /seldon-mesh at http:\/\/127\.0\.0\.1:\d+ answers \/v2\/health\/ready.*the port-forward reported: port-forward to seldon-envoy-0:9000 failed: Unexpected server response: 400/s);
    await serving.stop();
    assert.deepEqual(await labelled('run-ab-testing'), []);
  } finally {
    await core.deleteNamespacedPod({ namespace, name: 'seldon-envoy-0', gracePeriodSeconds: 0 });
    await core.deleteNamespacedService({ namespace, name: 'seldon-mesh' });
  }
});

test('with UAT_NAMESPACE_PER_RUN the target, as the harness identity, creates the run\'s namespace labelled with the run id, serves the stack there, and at the end deletes its objects and the namespace', { skip, timeout: 90_000 }, async () => {
  const { serving, runId, lines } = await adapter(AB, { UAT_NAMESPACE: '', UAT_NAMESPACE_PER_RUN: '1' }, 'harness');
  const own = runNamespace(runId);
  assert.equal(own, 'financial-mlops-uat-run-ab-testing');
  const core = operated!.kc.makeApiClient(CoreV1Api);
  assert.equal((await core.readNamespace({ name: own })).metadata?.labels?.[RUN_LABEL], runId, 'created by the adapter, before the stacks');
  const up = await serving.up();
  assert.equal(up.namespace, own);
  assert.match(up.servedBy, new RegExp(`^namespace ${own} of the Kubernetes API`));
  assert.equal(ResourceStatusClient.condition(await up.status.get('Experiment', 'financial-ab-test'), 'Ready')?.status, 'True', 'the stand-in wrote the status in the run\'s namespace');
  const answer = await new OipClient(up.inferenceUrl).infer('financial-ab-test.experiment', featuresRequest([operated!.row]));
  assert.ok(routedModel(answer.route), 'served');
  assert.equal((await labelled(runId, own)).length, 5);
  assert.deepEqual(await labelled(runId), [], 'nothing of this run in the given namespace');
  await serving.stop();
  assert.deepEqual(await labelled(runId, own), [], 'the run\'s objects deleted first');
  // no namespace controller runs here: the namespace is marked for deletion, and stays Terminating
  const after = await core.readNamespace({ name: own });
  assert.ok(after.metadata?.deletionTimestamp, 'deletion requested');
  assert.equal(after.status?.phase, 'Terminating');
  assert.ok(lines.some((l) => l.startsWith(`deleted namespace ${own}`)), lines.join('\n'));
});

test('with UAT_NAMESPACE_PER_RUN, a runtime the API server does not serve fails the start naming each refused object, and the run\'s namespace is deleted', { skip, timeout: 60_000 }, async () => {
  const runtime = path.join(PROJECT_ROOT, 'k8s', 'runtime');
  await assert.rejects(adapter(BROKEN, { UAT_NAMESPACE: '', UAT_NAMESPACE_PER_RUN: '1', UAT_RUNTIME_MANIFESTS: runtime }, 'harness'), (error: unknown) => {
    // the local API server has no SeldonRuntime or Server types (no Seldon operator installs them)
    assert.match(String(error), /the API server refused the runtime of UAT_RUNTIME_MANIFESTS \(.*k8s\/runtime\) in financial-mlops-uat-run-partly-broken: SeldonRuntime\/seldon: .*; Server\/mlserver: /);
    return true;
  });
  const left = await operated!.kc.makeApiClient(CoreV1Api).readNamespace({ name: 'financial-mlops-uat-run-partly-broken' });
  assert.ok(left.metadata?.deletionTimestamp, 'deletion requested');
});
