/**
 * The static security checks (support/security/policy.ts, `npm run policy`): the project's k8s/
 * passes with no violation; a copy of k8s/security with one seeded fault per rule is reported
 * naming the file, the object and the field, and nothing else is; the upstream Seldon samples of
 * the shared reference folder are read without a crash and pass, with only the rules that apply
 * to Seldon's kinds.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { PROJECT_ROOT } from '../support/config.ts';
import { checkPolicies, looksSecret, type Violation } from '../support/security/policy.ts';
import { referenceDir, SKIP_NO_REFERENCE, tempDir } from './helpers.ts';

/** The secret value seeded into the manifests, made for each run (never a literal in the repository). */
const SEEDED_SECRET = `seeded-${randomBytes(6).toString('hex')}`;

const K8S = path.join(PROJECT_ROOT, 'k8s');
const SECURITY = path.join(K8S, 'security');
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

type Doc = Record<string, any>;
const readDocs = (file: string): Doc[] => parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean);

/** A copy of k8s/security in a temp folder, with `file`'s objects changed by `edit`. */
function seeded(edits: Record<string, (docs: Doc[]) => Doc[]>): string {
  const dir = tempDir('policy');
  dirs.push(dir);
  for (const f of fs.readdirSync(SECURITY).filter((f) => f.endsWith('.yaml'))) {
    const docs = readDocs(path.join(SECURITY, f));
    fs.writeFileSync(path.join(dir, f), (edits[f] ? edits[f](docs) : docs).map((d) => stringify(d)).join('---\n'));
  }
  return dir;
}
const brief = (v: Violation): string => `${path.basename(v.file)} ${v.object} ${v.field} ${v.rule}`;

test("the project's k8s/ passes every rule, and each kind is checked by the rules that apply to it", () => {
  const report = checkPolicies(K8S);
  assert.deepEqual(report.violations, []);
  assert.deepEqual(report.skipped, [], 'every YAML document under k8s/ is a Kubernetes object');
  const rulesOf = (object: string): string[] | undefined => report.objects.find((o) => o.object === object)?.rules;
  assert.deepEqual(rulesOf('Namespace/seldon-mesh'), ['secret-literal', 'namespace-default-deny']);
  assert.deepEqual(rulesOf('Role/seldon-mesh/bandit-controller'), ['secret-literal', 'rbac-wildcard']);
  assert.deepEqual(rulesOf('ClusterRole/financial-mlops-uat-per-run'), ['secret-literal', 'rbac-wildcard']);
  assert.deepEqual(rulesOf('Role/financial-mlops-uat'), ['secret-literal', 'rbac-wildcard']);
  assert.deepEqual(rulesOf('ClusterRole/financial-mlops-uat-security-auditor'), ['secret-literal', 'rbac-wildcard']);
  assert.deepEqual(rulesOf('Deployment/seldon-mesh/bandit-controller'), ['secret-literal', 'workload-non-root', 'workload-read-only-root', 'workload-privilege-escalation', 'workload-capabilities']);
  assert.deepEqual(rulesOf('Job/financial-mlops-pytorch/train-predictors'), ['secret-literal', 'workload-non-root', 'workload-read-only-root', 'workload-privilege-escalation', 'workload-capabilities']);
  // Seldon's kinds are not workloads, namespaces or RBAC: only the secret rule reads them
  assert.deepEqual(rulesOf('Experiment/financial-mab-experiment'), ['secret-literal']);
  assert.deepEqual(rulesOf('Server/mlserver'), ['secret-literal']);
  assert.deepEqual(report.objects.filter((o) => o.kind === 'Namespace').map((o) => o.object), ['Namespace/financial-inference', 'Namespace/seldon-mesh', 'Namespace/financial-mlops-pytorch']);
  assert.equal(report.objects.filter((o) => o.kind === 'Secret').length, 0, 'a Secret object in k8s/');
});

test('npm run policy exits 0 on k8s/ and 1 naming file, object and field on a seeded violation', () => {
  const clean = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/policy.ts'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(clean.status, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /^policy: \d+ objects in \d+ files, rules applied: .*; no violations$/m);
  const dir = seeded({ 'rbac-training-job.yaml': (docs) => docs.map((d) => (d.kind === 'Role' ? { ...d, rules: [{ ...d.rules[0], verbs: ['*'] }] } : d)) });
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/policy.ts', dir], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /rbac-training-job\.yaml: Role\/financial-mlops-pytorch\/training-job: rules\[0\]\.verbs\[0\]: \[rbac-wildcard\] '\*' in verbs grants every verb/);
  assert.match(bad.stdout, /1 violation\(s\)$/m);
});

test('a Role or ClusterRole widened with * in verbs, resources or apiGroups is reported at each wildcard', () => {
  const dir = seeded({
    'rbac-bandit-controller.yaml': (docs) => docs.map((d) => (d.kind === 'Role' ? { ...d, rules: [{ ...d.rules[0], verbs: ['get', '*'] }] } : d)),
    'rbac-drift-monitor.yaml': (docs) => [...docs, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'too-wide' }, rules: [{ apiGroups: ['*'], resources: ['deployments/*'], verbs: ['get'] }] }],
  });
  const found = checkPolicies(dir).violations;
  assert.deepEqual(found.map(brief), [
    'rbac-bandit-controller.yaml Role/seldon-mesh/bandit-controller rules[0].verbs[1] rbac-wildcard',
    'rbac-drift-monitor.yaml ClusterRole/too-wide rules[0].resources[0] rbac-wildcard',
    'rbac-drift-monitor.yaml ClusterRole/too-wide rules[0].apiGroups[0] rbac-wildcard',
  ]);
});

test('a literal DB_PASSWORD, a password in a URL and a Secret with data are reported, without repeating the secret', () => {
  const dir = seeded({
    'deployment-drift-monitor.yaml': (docs) => {
      docs[0].spec.template.spec.containers[0].env.push({ name: 'DB_PASSWORD', value: SEEDED_SECRET }, { name: 'KEYCLOAK_URL', value: 'https://sso.example' });
      return docs;
    },
    'job-training.yaml': (docs) => {
      docs[0].spec.template.spec.containers[0].env[2].value = `postgresql://mlflow:${SEEDED_SECRET}@mlflow-postgres:5432/mlflow`;
      return docs;
    },
    'serviceaccounts.yaml': (docs) => [...docs, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mlflow-db-credentials', namespace: 'financial-mlops-pytorch' }, stringData: { password: SEEDED_SECRET } }],
  });
  const found = checkPolicies(dir).violations;
  assert.deepEqual(found.map(brief), [
    'deployment-drift-monitor.yaml Deployment/seldon-mesh/drift-monitor spec.template.spec.containers[0].env[2].value secret-literal',
    'job-training.yaml Job/financial-mlops-pytorch/train-predictors spec.template.spec.containers[0].env[2].value secret-literal',
    'serviceaccounts.yaml Secret/financial-mlops-pytorch/mlflow-db-credentials stringData secret-literal',
  ]);
  for (const v of found) assert.ok(!v.message.includes(SEEDED_SECRET), `${brief(v)} repeats the secret`);
  assert.match(found[0].message, /^env DB_PASSWORD is given a literal value: .* read with env\[2\]\.valueFrom\.secretKeyRef$/);
  assert.match(found[1].message, /a URL with a literal password \(user mlflow\)/);
  assert.match(found[2].message, /a Secret with stringData \(password\)/);
});

test('env names that look like secrets, and those that do not', () => {
  for (const name of ['DB_PASSWORD', 'API_KEY', 'AWS_SECRET_ACCESS_KEY', 'MLFLOW_TRACKING_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS', 'dbPassword', 'APITOKEN']) assert.ok(looksSecret(name), name);
  for (const name of ['KEYCLOAK_URL', 'MONKEY_COUNT', 'PROMETHEUS_URL', 'BANDIT_EXPERIMENT', 'TOKENIZER_PATH']) assert.ok(!looksSecret(name), name);
});

test('a Deployment without runAsNonRoot, one running as user 0 and one with a writable root are reported at the field to set', () => {
  const dir = seeded({
    'deployment-bandit-controller.yaml': (docs) => {
      const pod = docs[0].spec.template.spec;
      delete pod.securityContext.runAsNonRoot;
      delete pod.securityContext.runAsUser;
      delete pod.containers[0].securityContext.runAsNonRoot;
      return docs;
    },
    'deployment-drift-monitor.yaml': (docs) => {
      const c = docs[0].spec.template.spec.containers[0];
      c.securityContext = { ...c.securityContext, runAsUser: 0, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true, capabilities: { add: ['NET_ADMIN'] } };
      return docs;
    },
  });
  const found = checkPolicies(dir).violations;
  assert.deepEqual(found.map(brief), [
    'deployment-bandit-controller.yaml Deployment/seldon-mesh/bandit-controller spec.template.spec.containers[0].securityContext.runAsNonRoot workload-non-root',
    'deployment-drift-monitor.yaml Deployment/seldon-mesh/drift-monitor spec.template.spec.containers[0].securityContext.runAsUser workload-non-root',
    'deployment-drift-monitor.yaml Deployment/seldon-mesh/drift-monitor spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem workload-read-only-root',
    'deployment-drift-monitor.yaml Deployment/seldon-mesh/drift-monitor spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation workload-privilege-escalation',
    'deployment-drift-monitor.yaml Deployment/seldon-mesh/drift-monitor spec.template.spec.containers[0].securityContext.capabilities.drop workload-capabilities',
  ]);
  assert.match(found[0].message, /container bandit-controller may run as root/);
  assert.match(found[1].message, /container drift-monitor runs as user 0/);
});

test('a bare Pod and a CronJob are workloads too: their pod specs are found where each kind keeps it', () => {
  const dir = tempDir('policy-kinds');
  dirs.push(dir);
  const container = { name: 'app', image: 'x' };
  fs.writeFileSync(path.join(dir, 'w.yaml'), [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, spec: { securityContext: { runAsUser: 1000 }, containers: [{ ...container, securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] } },
    { apiVersion: 'batch/v1beta1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [container] } } } } } },
  ].map((d) => stringify(d)).join('---\n'));
  assert.deepEqual(checkPolicies(dir).violations.map((v) => `${v.object} ${v.field}`), [
    'CronJob/c spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsNonRoot',
    'CronJob/c spec.jobTemplate.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem',
    'CronJob/c spec.jobTemplate.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation',
    'CronJob/c spec.jobTemplate.spec.template.spec.containers[0].securityContext.capabilities.drop',
  ]);
});

test('a namespace without a default-deny NetworkPolicy is reported on the Namespace, naming why its other policies are not one', () => {
  const dir = seeded({
    'networkpolicy-financial-inference.yaml': (docs) => docs.filter((d) => d.metadata.name !== 'default-deny'),
    // a "default deny" for ingress only is not one
    'networkpolicy-financial-mlops-pytorch.yaml': (docs) => docs.map((d) => (d.metadata.name === 'default-deny' ? { ...d, spec: { ...d.spec, policyTypes: ['Ingress'] } } : d)),
  });
  const found = checkPolicies(dir).violations;
  assert.deepEqual(found.map(brief), [
    'namespaces.yaml Namespace/financial-inference metadata.name namespace-default-deny',
    'namespaces.yaml Namespace/financial-mlops-pytorch metadata.name namespace-default-deny',
  ]);
  assert.match(found[0].message, /^no default-deny NetworkPolicy in namespace financial-inference: add one with spec\.podSelector \{\}, spec\.policyTypes \[Ingress, Egress\] and no rules; its NetworkPolicies are not one: NetworkPolicy\/financial-inference\/allow-egress-to-inference-gateway \(networkpolicy-financial-inference\.yaml\): spec\.policyTypes lacks Ingress, spec\.egress has rules/);
  assert.match(found[1].message, /NetworkPolicy\/financial-mlops-pytorch\/default-deny \(networkpolicy-financial-mlops-pytorch\.yaml\): spec\.policyTypes lacks Egress/);
  const none = seeded({ 'networkpolicy-seldon-mesh.yaml': () => [] });
  assert.deepEqual(checkPolicies(none).violations.map((v) => [brief(v), v.message.endsWith('(it has no NetworkPolicy at all)')]), [['namespaces.yaml Namespace/seldon-mesh metadata.name namespace-default-deny', true]]);
});

test('an allow-all rule (no peers, no ports) is reported at the rule', () => {
  const dir = seeded({ 'networkpolicy-seldon-mesh.yaml': (docs) => docs.map((d) => (d.metadata.name === 'allow-scrape-from-monitoring' ? { ...d, spec: { ...d.spec, ingress: [...d.spec.ingress, {}] } } : d)) });
  assert.deepEqual(checkPolicies(dir).violations.map(brief), ['networkpolicy-seldon-mesh.yaml NetworkPolicy/seldon-mesh/allow-scrape-from-monitoring spec.ingress[1] network-allow-all']);
});

test('a file that is not YAML is reported by file, and the other files are still checked', () => {
  const dir = seeded({ 'rbac-bandit-controller.yaml': (docs) => docs.map((d) => (d.kind === 'Role' ? { ...d, rules: [{ ...d.rules[0], resources: ['*'] }] } : d)) });
  fs.writeFileSync(path.join(dir, 'broken.yaml'), 'kind: [unclosed\n');
  assert.deepEqual(checkPolicies(dir).violations.map((v) => `${path.basename(v.file)} ${v.object} ${v.rule}`), ['broken.yaml document 1 manifest-parse', 'rbac-bandit-controller.yaml Role/seldon-mesh/bandit-controller rbac-wildcard']);
});

const reference = referenceDir();
test("Seldon's upstream samples: all 15 objects are read, only the secret rule applies to them, and none is violated", { skip: reference ? false : SKIP_NO_REFERENCE }, () => {
  const samples = path.join(reference!, 'conformance', 'seldon-samples');
  const report = checkPolicies(samples);
  assert.equal(report.files.length, 15);
  assert.deepEqual(report.skipped, []);
  const count = (kind: string): number => report.objects.filter((o) => o.kind === kind).length;
  assert.deepEqual([count('Model'), count('Experiment'), count('Pipeline'), report.objects.length], [7, 3, 5, 15]);
  assert.ok(report.objects.some((o) => o.object === 'Model/income-drift' && path.basename(o.file) === 'income-drift.yaml'));
  assert.ok(report.objects.every((o) => o.rules.join() === 'secret-literal'));
  // their gs:// storage URIs carry no credentials
  assert.deepEqual(report.violations, []);
  // the OpenAPI spec next to them is YAML but not a Kubernetes object: skipped, not a crash
  const all = checkPolicies(path.join(reference!, 'conformance'));
  assert.deepEqual(all.skipped.map((s) => path.relative(reference!, s.file)), [path.join('conformance', 'oip', 'open_inference_rest.yaml')]);
  assert.deepEqual(all.violations, []);
});

test("an upstream sample whose storageUri carries a password is reported at spec.storageUri", { skip: reference ? false : SKIP_NO_REFERENCE }, () => {
  const dir = tempDir('policy-sample');
  dirs.push(dir);
  const [model] = readDocs(path.join(reference!, 'conformance', 'seldon-samples', 'income-drift.yaml'));
  model.spec.storageUri = model.spec.storageUri.replace('gs://', 's3://minioadmin:minioadmin@');
  fs.writeFileSync(path.join(dir, 'income-drift.yaml'), stringify(model));
  assert.deepEqual(checkPolicies(dir).violations.map((v) => `${path.basename(v.file)} ${v.object} ${v.field} ${v.rule}`), ['income-drift.yaml Model/income-drift spec.storageUri secret-literal']);
});
