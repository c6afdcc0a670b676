/**
 * `npm run doctor` with UAT_TARGET=kubernetes against the real local API server: an identity bound
 * to k8s/rbac/harness-role.yaml passes the Kubernetes checks; one whose Role lacks a verb fails,
 * and the doctor names that verb; an API server without the Seldon CRDs is named as such.
 * Skips with how to get the binary when kube-apiserver has not been built on this machine.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { cachedBinary } from '../support/cluster/kube-apiserver-build.ts';
import { startLocalCluster, type LocalCluster } from '../support/cluster/local-cluster.ts';
import { runDoctorProgram } from '../support/doctor/doctor-program.ts';
import { checkKubernetes, describePermission, HARNESS_CLUSTER_ROLE_FILE, HARNESS_ROLE_FILE, harnessPermissions } from '../support/doctor/kubernetes-checks.ts';
import { loadConfig } from '../support/config.ts';
import { applyObjects, SECURITY_AUDITOR_FILE, securityObjects } from '../support/security/access-matrix.ts';
import { clusterWithCrds, NO_CLUSTER } from './cluster-helpers.ts';
import { tempDir } from './helpers.ts';

const skip = NO_CLUSTER;
const namespace = 'uat-doctor';
let cluster: LocalCluster | undefined;
let kc: KubeConfig;
const dir = tempDir('doctor-k8s');

before(async () => {
  if (skip) return;
  ({ cluster, kc } = await clusterWithCrds(namespace, { users: [{ name: 'uat-ci', groups: ['financial-mlops-uat'] }, { name: 'uat-limited', groups: ['uat-limited'] }, { name: 'uat-per-run', groups: ['uat-per-run'] }] }));
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const docs = parseAllDocuments(fs.readFileSync(HARNESS_ROLE_FILE, 'utf8')).map((d) => d.toJS() as KubernetesObject & { rules?: { apiGroups: string[]; verbs: string[] }[]; subjects?: { name: string }[]; roleRef?: { name: string } });
  for (const doc of docs) await objects.create({ ...doc, metadata: { ...doc.metadata, namespace } });
  // the same Role without `delete` on Seldon's resources, bound to the limited identity
  const role = docs.find((d) => d.kind === 'Role')!;
  const binding = docs.find((d) => d.kind === 'RoleBinding')!;
  const limited = { ...role, metadata: { name: 'uat-limited', namespace }, rules: role.rules!.map((r) => (r.apiGroups.includes('mlops.seldon.io') ? { ...r, verbs: r.verbs.filter((v) => v !== 'delete') } : r)) };
  await objects.create(limited);
  await objects.create({ ...binding, metadata: { name: 'uat-limited', namespace }, roleRef: { ...binding.roleRef!, name: 'uat-limited' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'uat-limited' }] } as KubernetesObject);
  // the ClusterRole of a namespace per run, bound to its own identity only
  const perRun = parseAllDocuments(fs.readFileSync(HARNESS_CLUSTER_ROLE_FILE, 'utf8')).map((d) => d.toJS() as KubernetesObject & { subjects?: unknown[] });
  for (const doc of perRun) await objects.create(doc.kind === 'ClusterRoleBinding' ? { ...doc, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'uat-per-run' }] } : doc);
});
after(async () => {
  await cluster?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function kubeconfigOf(user: string): string {
  const file = path.join(dir, `kubeconfig-${user}`);
  fs.writeFileSync(file, cluster!.kubeconfig(cluster!.users.find((u) => u.name === user)));
  return file;
}

const environment = (user: string) => ({ UAT_TARGET: 'kubernetes', KUBECONFIG: kubeconfigOf(user), UAT_NAMESPACE: namespace });
const kubernetesRows = async (user: string) => Object.fromEntries((await checkKubernetes(loadConfig({ ...process.env, ...environment(user) }))).map((r) => [r.name, r]));

test('the harness Role grants every verb the doctor asks about', () => {
  const verbs = harnessPermissions().map((p) => `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}`);
  for (const needed of ['create models', 'patch experiments', 'watch models', 'deletecollection experiments', 'get models/status', 'list events', 'get pods/log', 'get services', 'create pods/portforward']) assert.ok(verbs.includes(needed), needed);
});

test('the per-run ClusterRole grants every verb of the harness Role, and creating and deleting namespaces', () => {
  const granted = new Set(harnessPermissions(HARNESS_CLUSTER_ROLE_FILE).map(describePermission));
  for (const p of harnessPermissions()) assert.ok(granted.has(describePermission(p)), describePermission(p));
  for (const needed of ['create namespaces', 'delete namespaces', 'create seldonruntimes.mlops.seldon.io', 'create servers.mlops.seldon.io']) assert.ok(granted.has(needed), needed);
});

test('with a namespace per run the doctor asks every verb cluster-wide: an identity bound to the Role only misses the namespace verbs, one bound to the ClusterRole has them all', { skip, timeout: 120_000 }, async () => {
  const perRun = { UAT_NAMESPACE: '', UAT_NAMESPACE_PER_RUN: '1' };
  const roleOnly = Object.fromEntries((await checkKubernetes(loadConfig({ ...process.env, ...environment('uat-ci'), ...perRun }))).map((r) => [r.name, r]));
  assert.equal(roleOnly.Permissions.ok, false);
  assert.match(roleOnly.Permissions.target, /^every namespace \(UAT_NAMESPACE_PER_RUN\), \d+ verbs of k8s\/rbac\/harness-clusterrole\.yaml$/);
  assert.match(roleOnly.Permissions.problem, /^missing: get namespaces, create namespaces, delete namespaces, .*create models\.mlops\.seldon\.io.*; bind the ClusterRole in k8s\/rbac\/harness-clusterrole\.yaml to this identity$/);
  const bound = Object.fromEntries((await checkKubernetes(loadConfig({ ...process.env, ...environment('uat-per-run'), ...perRun }))).map((r) => [r.name, r]));
  const all = harnessPermissions(HARNESS_CLUSTER_ROLE_FILE).length;
  assert.deepEqual([bound.Permissions.ok, bound.Permissions.version, bound.Permissions.problem], [true, `${all} of ${all} granted`, '']);
});

test('an identity bound to the harness Role passes the Kubernetes checks', { skip, timeout: 120_000 }, async () => {
  const rows = await kubernetesRows('uat-ci');
  assert.deepEqual([rows['Kubernetes API'].ok, rows['Kubernetes API'].version], [true, 'v1.20.2']);
  assert.deepEqual([rows['Seldon CRDs'].ok, rows['Seldon CRDs'].version], [true, 'models, experiments, pipelines']);
  const all = harnessPermissions().length;
  assert.deepEqual([rows.Permissions.ok, rows.Permissions.version, rows.Permissions.problem], [true, `${all} of ${all} granted`, '']);
  // the security audit's rights are asked too, and only named while missing: the other categories do not need them
  assert.deepEqual([rows['Security audit'].ok, rows['Security audit'].required, rows['Security audit'].version], [false, false, '0 of 5 granted']);
  assert.match(rows['Security audit'].problem, /^missing: create subjectaccessreviews\.authorization\.k8s\.io, create serviceaccounts\/token bandit-controller in seldon-mesh, .*; bind the ClusterRole in k8s\/rbac\/harness-security-auditor\.yaml to this identity/);
  await applyObjects(kc, securityObjects(path.dirname(SECURITY_AUDITOR_FILE)).filter((m) => m.file === SECURITY_AUDITOR_FILE));
  const bound = await kubernetesRows('uat-ci');
  assert.deepEqual([bound['Security audit'].ok, bound['Security audit'].version, bound['Security audit'].problem], [true, '5 of 5 granted', '']);
});

test('an identity whose Role lacks a verb fails the doctor, which names the verb', { skip, timeout: 120_000 }, async () => {
  const rows = await kubernetesRows('uat-limited');
  assert.equal(rows.Permissions.ok, false);
  assert.equal(rows.Permissions.problem, 'missing: delete models.mlops.seldon.io, delete experiments.mlops.seldon.io, delete pipelines.mlops.seldon.io; bind the Role in k8s/rbac/harness-role.yaml to this identity');
  const run = runDoctorProgram(environment('uat-limited'));
  assert.equal(run.exitCode, 1, run.output);
  assert.match(run.output, /Permissions\s+│ FAIL/);
  assert.match(run.output, /required check\(s\) failed: Permissions/);
});

test('an API server without the Seldon CRDs is named as such', { skip, timeout: 120_000 }, async () => {
  const bare = await startLocalCluster({ apiserverBin: cachedBinary()! });
  try {
    const file = path.join(dir, 'kubeconfig-bare');
    fs.writeFileSync(file, bare.kubeconfig());
    const rows = Object.fromEntries((await checkKubernetes(loadConfig({ ...process.env, UAT_TARGET: 'kubernetes', KUBECONFIG: file }))).map((r) => [r.name, r]));
    assert.equal(rows['Seldon CRDs'].ok, false);
    assert.match(rows['Seldon CRDs'].problem, /^not served: models\.mlops\.seldon\.io\/v1alpha1, experiments\.mlops\.seldon\.io\/v1alpha1, pipelines\.mlops\.seldon\.io\/v1alpha1; install Seldon Core v2/);
  } finally {
    await bare.stop();
  }
});

test('seldon-mesh for UAT_TARGET=kubernetes without UAT_INFERENCE_URL is checked through a port-forward, and a namespace without it is named', { skip: NO_CLUSTER, timeout: 30_000 }, async () => {
  const { checkStack } = await import('../support/doctor/checks.ts');
  const missing = await checkStack(loadConfig({ ...process.env, ...environment('uat-ci'), UAT_STACK_URL: '', UAT_INFERENCE_URL: '' }));
  assert.equal(missing.ok, false);
  assert.equal(missing.target, 'port-forward to svc/seldon-mesh in uat-doctor');
  assert.match(missing.problem, /^service seldon-mesh in namespace uat-doctor not readable: HTTP 404: .*; or set UAT_INFERENCE_URL to seldon-mesh's address$/);
});

test('with a namespace per run and no UAT_INFERENCE_URL, seldon-mesh is created by each run: the doctor says so, and says what is missing when nothing would create it', async () => {
  const { checkStack } = await import('../support/doctor/checks.ts');
  const base = { ...process.env, UAT_TARGET: 'kubernetes', UAT_NAMESPACE: '', UAT_STACK_URL: '', UAT_INFERENCE_URL: '', UAT_NAMESPACE_PER_RUN: '1' };
  const nothing = await checkStack(loadConfig(base));
  assert.deepEqual([nothing.ok, nothing.required], [false, true]);
  assert.match(nothing.problem, /nothing creates seldon-mesh in a run's namespace: set UAT_RUNTIME_MANIFESTS \(k8s\/runtime for Seldon Core v2\) or UAT_INFERENCE_URL/);
  const runtime = await checkStack(loadConfig({ ...base, UAT_RUNTIME_MANIFESTS: 'k8s/runtime' }));
  assert.deepEqual([runtime.ok, runtime.required], [false, false]);
  assert.match(runtime.problem, /^created by each run from UAT_RUNTIME_MANIFESTS \(k8s\/runtime\), so not checkable before one/);
});

test("seldon-mesh for UAT_TARGET=kubernetes at UAT_INFERENCE_URL is checked", async () => {
  const { checkStack } = await import('../support/doctor/checks.ts');
  const server = http.createServer((req, res) => res.writeHead(req.url === '/v2/health/ready' ? 200 : 404).end('{}')).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const up = await checkStack(loadConfig({ ...process.env, UAT_TARGET: 'kubernetes', UAT_STACK_URL: '', UAT_INFERENCE_URL: url }));
    assert.deepEqual([up.ok, up.target], [true, `UAT_INFERENCE_URL ${url}/`]);
  } finally {
    server.close();
  }
});
