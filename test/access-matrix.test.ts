/**
 * The platform's RBAC on a real kube-apiserver (`npm run cluster`'s, RBAC authorisation,
 * ServiceAccount token signing): every object of k8s/security applies by server-side apply; the
 * API server's SubjectAccessReview answers equal the declared matrix (the table of
 * features/security/access-control.feature) cell by cell; real requests made with a
 * ServiceAccount's own token (TokenRequest) are refused with 403 where the matrix says denied and
 * succeed where it says allowed; a Role widened to a wildcard flips exactly the denied cells it
 * reaches, and the comparison names each one. NetworkPolicies are stored, not enforced (no CNI):
 * test/policy.test.ts checks them statically.
 * Skips with how to get the binary when kube-apiserver has not been built on this machine.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { installSeldonCrds } from '../support/cluster/crd-install.ts';
import { cachedBinary } from '../support/cluster/kube-apiserver-build.ts';
import { startLocalCluster, type LocalCluster } from '../support/cluster/local-cluster.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { ACCESS_MATRIX_FEATURE, applyObjects, cellsFromRows, describeCell, evaluateMatrix, kubeConfigWithToken, matrixDifferences, readAccessMatrix, securityObjects, serviceAccountToken, statusOf, type AccessCell } from '../support/security/access-matrix.ts';
import { checkPolicies } from '../support/security/policy.ts';
import { NO_CLUSTER } from './cluster-helpers.ts';
import { tempDir } from './helpers.ts';

const skip = NO_CLUSTER;
let cluster: LocalCluster | undefined;
let kc: KubeConfig;
let applied: string[] = [];
const matrix = readAccessMatrix();

before(async () => {
  if (skip) return;
  cluster = await startLocalCluster({ apiserverBin: cachedBinary()! });
  kc = new KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  await installSeldonCrds(kc);
  applied = await applyObjects(kc, securityObjects());
});
after(async () => cluster?.stop());

const cell = (subject: string, verb: string, resource: string, namespace: string, name?: string): AccessCell | undefined =>
  matrix.find((c) => c.subject === subject && c.verb === verb && c.resource === resource && c.namespace === namespace && c.name === name);

test('the declared matrix covers the cases the security review asked for, with no wildcard anywhere', () => {
  assert.ok(matrix.length >= 20, `${matrix.length} cells`);
  const expect = (subject: string, verb: string, resource: string, namespace: string, expected: string, name?: string): void =>
    assert.equal(cell(subject, verb, resource, namespace, name)?.expected, expected, `${subject} ${verb} ${resource} ${name ?? ''} in ${namespace}`);
  expect('seldon-mesh/bandit-controller', 'patch', 'mlops.seldon.io/experiments', 'seldon-mesh', 'allowed');
  expect('seldon-mesh/bandit-controller', 'patch', 'mlops.seldon.io/experiments', 'financial-inference', 'denied');
  expect('financial-inference/inference-client', 'get', 'core/secrets', 'financial-inference', 'denied');
  expect('financial-inference/inference-client', 'list', 'core/secrets', 'financial-inference', 'denied');
  expect('financial-mlops-pytorch/training-job', 'get', 'core/secrets', 'financial-mlops-pytorch', 'allowed', 'mlflow-db-credentials');
  expect('financial-mlops-pytorch/training-job', 'get', 'core/secrets', 'financial-mlops-pytorch', 'denied', 'mlflow-admin-credentials');
  // every subject has denied cells a wildcard would turn to allowed
  for (const subject of new Set(matrix.map((c) => c.subject))) assert.ok(matrix.some((c) => c.subject === subject && c.expected === 'denied'), subject);
  // and the manifests hold no wildcard (the static check over the same folder)
  assert.deepEqual(checkPolicies(path.join(PROJECT_ROOT, 'k8s', 'security')).violations, []);
});

test('a matrix table that is not well formed is refused naming where it is, the row, the column and the value', () => {
  const row = { subject: 'seldon-mesh/bandit-controller', verb: 'patch', resource: 'mlops.seldon.io/experiments', name: '', namespace: 'seldon-mesh', expected: 'allowed' };
  assert.throws(() => cellsFromRows([{ ...row, verb: '*' }, { ...row, subject: 'bandit', resource: 'experiments', expected: 'maybe' }], 'the table', [30, 31]), (error: Error) => {
    assert.match(error.message, /^the table: row 1 \(line 30\): column verb: a Kubernetes verb \(no wildcard\) \(value "\*"\); row 2 \(line 31\): column subject: namespace\/serviceaccount \(value "bandit"\); row 2 \(line 31\): column resource: group\/resource\[\/subresource\].*\(value "experiments"\); row 2 \(line 31\): column expected: .*\(value "maybe"\)$/);
    return true;
  });
  const { expected: _dropped, ...noExpected } = row;
  assert.throws(() => cellsFromRows([{ ...noExpected, verbs: 'get' }], 'the table'), /: the table: column expected missing \(the columns are subject, verb, resource, name, namespace, expected\); unknown column verbs/);
  // the feature file itself: a broken line is named by its line in the file
  const dir = tempDir('matrix');
  try {
    const feature = path.join(dir, 'access.feature');
    fs.writeFileSync(feature, fs.readFileSync(ACCESS_MATRIX_FEATURE, 'utf8').replace('| seldon-mesh/bandit-controller        | get    |', '| seldon-mesh/bandit-controller        | GET    |'));
    const line = fs.readFileSync(feature, 'utf8').split('\n').findIndex((l) => l.includes('| GET ')) + 1;
    assert.throws(() => readAccessMatrix(feature), new RegExp(`: row 1 \\(line ${line}\\): column verb: a Kubernetes verb \\(no wildcard\\) \\(value "GET"\\)$`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every object of k8s/security applies to a real API server by server-side apply, namespaces and identities first', { skip, timeout: 60_000 }, () => {
  assert.match(cluster!.version, /^v1\.20\./);
  assert.deepEqual(applied.slice(0, 3), ['Namespace/financial-inference', 'Namespace/seldon-mesh', 'Namespace/financial-mlops-pytorch']);
  for (const id of ['ServiceAccount/seldon-mesh/bandit-controller', 'Role/seldon-mesh/bandit-controller', 'RoleBinding/financial-mlops-pytorch/training-job', 'NetworkPolicy/seldon-mesh/default-deny', 'Deployment/seldon-mesh/drift-monitor', 'Job/financial-mlops-pytorch/train-predictors']) assert.ok(applied.includes(id), id);
  assert.equal(applied.length, securityObjects().length);
  assert.ok(!applied.some((id) => id.startsWith('Secret/')), 'k8s/security holds a Secret');
});

test('the API server answers every cell of the declared matrix as declared', { skip, timeout: 60_000 }, async () => {
  const evaluated = await evaluateMatrix(kc, matrix);
  assert.equal(evaluated.length, matrix.length);
  assert.deepEqual(matrixDifferences(evaluated), []);
  // the allowed cells are allowed by the intended binding, not by something broader
  const reasonOf = (c: AccessCell | undefined): string => evaluated.find((e) => c !== undefined && describeCell(e) === describeCell(c))?.reason ?? '';
  assert.match(reasonOf(cell('seldon-mesh/bandit-controller', 'patch', 'mlops.seldon.io/experiments', 'seldon-mesh')), /^RBAC: allowed by RoleBinding "bandit-controller\/seldon-mesh" of Role "bandit-controller" to ServiceAccount "bandit-controller\/seldon-mesh"$/);
  assert.match(reasonOf(cell('financial-mlops-pytorch/training-job', 'get', 'core/secrets', 'financial-mlops-pytorch', 'mlflow-db-credentials')), /^RBAC: allowed by RoleBinding "training-job\/financial-mlops-pytorch" of Role "training-job" to ServiceAccount "training-job\/financial-mlops-pytorch"$/);
});

test("requests made with a ServiceAccount's own token: 403 for Secrets it may not read and for another namespace, success where the matrix allows", { skip, timeout: 60_000 }, async () => {
  const admin = kc.makeApiClient(CoreV1Api);
  // the Secrets an operator creates out of band (never in k8s/), with throwaway values
  for (const [namespace, name] of [['financial-mlops-pytorch', 'mlflow-db-credentials'], ['financial-mlops-pytorch', 'mlflow-admin-credentials'], ['seldon-mesh', 'mlflow-db-credentials']]) {
    await admin.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: { username: 'mlflow', password: randomBytes(12).toString('hex') } } });
  }
  const as = async (subject: string): Promise<KubeConfig> => kubeConfigWithToken(kc, await serviceAccountToken(kc, subject), subject.replace('/', '-'));
  const client = (await as('financial-inference/inference-client')).makeApiClient(CoreV1Api);
  assert.equal(await statusOf(client.listNamespacedSecret({ namespace: 'financial-inference' })), 403);
  assert.equal(await statusOf(client.readNamespacedSecret({ namespace: 'financial-mlops-pytorch', name: 'mlflow-db-credentials' })), 403);
  const refusal = await client.listNamespacedSecret({ namespace: 'seldon-mesh' }).catch((error: { code: number; body: string }) => error);
  assert.equal((refusal as { code: number }).code, 403);
  // authenticated as the ServiceAccount (a 403, not a 401): the server names it
  assert.match(String((refusal as { body: string }).body), /system:serviceaccount:financial-inference:inference-client/);

  const training = (await as('financial-mlops-pytorch/training-job')).makeApiClient(CoreV1Api);
  assert.equal(await statusOf(training.readNamespacedSecret({ namespace: 'financial-mlops-pytorch', name: 'mlflow-db-credentials' })), 200);
  assert.equal(await statusOf(training.readNamespacedSecret({ namespace: 'financial-mlops-pytorch', name: 'mlflow-admin-credentials' })), 403);
  assert.equal(await statusOf(training.listNamespacedSecret({ namespace: 'financial-mlops-pytorch' })), 403);
  assert.equal(await statusOf(training.readNamespacedSecret({ namespace: 'seldon-mesh', name: 'mlflow-db-credentials' })), 403);

  // the bandit's own request: patching the Experiment's weights, in seldon-mesh and across namespaces
  const experiment = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'k8s', 'mab', 'experiment.yaml'), 'utf8')) as KubernetesObject & { spec: { candidates: { name: string; weight: number }[] } };
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const namespace of ['seldon-mesh', 'financial-inference']) await objects.create({ ...experiment, metadata: { ...experiment.metadata, namespace } });
  const bandit = KubernetesObjectApi.makeApiClient(await as('seldon-mesh/bandit-controller'));
  const weights = (namespace: string): KubernetesObject => ({ apiVersion: experiment.apiVersion, kind: 'Experiment', metadata: { name: experiment.metadata!.name, namespace }, spec: { candidates: experiment.spec.candidates.map((c, i) => ({ ...c, weight: i === 0 ? 70 : 10 })) } } as KubernetesObject);
  assert.equal(await statusOf(bandit.patch(weights('seldon-mesh'), undefined, undefined, 'bandit-controller', undefined, PatchStrategy.MergePatch)), 200);
  const patched = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'mlops.seldon.io', version: 'v1alpha1', namespace: 'seldon-mesh', plural: 'experiments', name: experiment.metadata!.name! })) as { spec: { candidates: { weight: number }[] } };
  assert.equal(patched.spec.candidates[0].weight, 70);
  assert.equal(await statusOf(bandit.patch(weights('financial-inference'), undefined, undefined, 'bandit-controller', undefined, PatchStrategy.MergePatch)), 403);
  assert.equal(await statusOf(bandit.delete({ ...weights('seldon-mesh') })), 403);
});

test('a Role widened to a wildcard turns the denied cells it reaches to allowed, and the comparison names each one', { skip, timeout: 60_000 }, async () => {
  const original = securityObjects().find((m) => m.object.kind === 'Role' && m.object.metadata?.name === 'bandit-controller')!;
  const role = original.object as KubernetesObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  const widened = { ...role, rules: [{ ...role.rules[0], resources: ['*'], verbs: ['*'] }] };
  await applyObjects(kc, [{ file: original.file, object: widened }]);
  try {
    assert.deepEqual(matrixDifferences(await evaluateMatrix(kc, matrix)).map((d) => d.replace(/ \(.*\)$/, '')), [
      'seldon-mesh/bandit-controller create mlops.seldon.io/experiments in seldon-mesh: expected denied, the API server says allowed',
      'seldon-mesh/bandit-controller delete mlops.seldon.io/experiments in seldon-mesh: expected denied, the API server says allowed',
      'seldon-mesh/bandit-controller patch mlops.seldon.io/experiments/status in seldon-mesh: expected denied, the API server says allowed',
      'seldon-mesh/bandit-controller patch mlops.seldon.io/models in seldon-mesh: expected denied, the API server says allowed',
    ]);
  } finally {
    await applyObjects(kc, [original]);
  }
  assert.deepEqual(matrixDifferences(await evaluateMatrix(kc, matrix)), [], 'the original Role, applied again, restores the declared matrix');
});
