/**
 * Static security policy over Kubernetes manifests (`npm run policy` checks every file under k8s/):
 * each declared Namespace has a default-deny NetworkPolicy, no NetworkPolicy rule opens a namespace
 * to everything, no secret value is written in a manifest, no RBAC rule uses a wildcard, and every
 * workload runs as a non-root user on a read-only root filesystem, without privilege escalation and
 * without Linux capabilities. Each violation names the file, the object and the field to change.
 * Values of secrets are never repeated in a message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const RULES = {
  'manifest-parse': 'every manifest parses as YAML',
  'namespace-default-deny': 'every declared Namespace has a default-deny NetworkPolicy (empty podSelector, policyTypes Ingress and Egress, no rules)',
  'network-allow-all': 'no NetworkPolicy rule allows all traffic (a rule with neither peers nor ports)',
  'secret-literal': 'no secret value in a manifest (Secret data, a literal env value for a secret-looking name, user:password@ in a URL)',
  'rbac-wildcard': 'no * in the verbs, resources, apiGroups or nonResourceURLs of a Role or ClusterRole',
  'workload-non-root': 'every container of a workload runs as a non-root user (runAsNonRoot true or runAsUser > 0)',
  'workload-read-only-root': 'every container of a workload has securityContext.readOnlyRootFilesystem true',
  'workload-privilege-escalation': 'every container of a workload has securityContext.allowPrivilegeEscalation false',
  'workload-capabilities': 'every container of a workload drops ALL Linux capabilities',
} as const;
export type RuleId = keyof typeof RULES;

export interface Violation {
  file: string;
  /** Kind/namespace/name, or Kind/name for an object without a namespace. */
  object: string;
  /** Path of the field to change, e.g. spec.template.spec.containers[0].securityContext.runAsNonRoot. */
  field: string;
  rule: RuleId;
  message: string;
}

export interface CheckedObject {
  file: string;
  object: string;
  kind: string;
  /** The rules that apply to this kind of object. */
  rules: RuleId[];
}

export interface PolicyReport {
  files: string[];
  objects: CheckedObject[];
  /** YAML documents that are not Kubernetes objects (no apiVersion and kind), left unchecked. */
  skipped: { file: string; document: number; reason: string }[];
  violations: Violation[];
}

type Obj = Record<string, unknown>;
interface Manifest {
  file: string;
  kind: string;
  name: string;
  namespace?: string;
  body: Obj;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const objectId = (m: Pick<Manifest, 'kind' | 'name' | 'namespace'>): string => (m.namespace ? `${m.kind}/${m.namespace}/${m.name}` : `${m.kind}/${m.name}`);

/** Every .yaml/.yml file under the given files and folders (folders recursively), sorted. */
export function manifestFiles(inputs: string[]): string[] {
  const out: string[] = [];
  const visit = (p: string): void => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(p).sort()) visit(path.join(p, entry));
    else if (/\.ya?ml$/.test(p)) out.push(p);
  };
  for (const input of inputs) visit(input);
  return out;
}

/** Pod spec locations of the workload kinds; other kinds are not workloads. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
const WORKLOAD_RULES: RuleId[] = ['workload-non-root', 'workload-read-only-root', 'workload-privilege-escalation', 'workload-capabilities'];

function rulesFor(kind: string): RuleId[] {
  const rules: RuleId[] = ['secret-literal'];
  if (kind === 'Namespace') rules.push('namespace-default-deny');
  if (kind === 'NetworkPolicy') rules.push('network-allow-all');
  if (kind === 'Role' || kind === 'ClusterRole') rules.push('rbac-wildcard');
  if (kind in POD_SPEC_PATHS) rules.push(...WORKLOAD_RULES);
  return rules;
}

/** Check every manifest under `inputs` (files or folders) against the rules. */
export function checkPolicies(inputs: string | string[]): PolicyReport {
  const files = manifestFiles(Array.isArray(inputs) ? inputs : [inputs]);
  const report: PolicyReport = { files, objects: [], skipped: [], violations: [] };
  const manifests: Manifest[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
    docs.forEach((doc, index) => {
      if (doc.errors.length > 0) {
        report.violations.push({ file, object: `document ${index + 1}`, field: '-', rule: 'manifest-parse', message: `not valid YAML: ${doc.errors[0].message.split('\n')[0]}` });
        return;
      }
      const body: unknown = doc.toJS();
      if (body === null || body === undefined) return;
      if (!isObj(body) || typeof body.kind !== 'string' || typeof body.apiVersion !== 'string') {
        report.skipped.push({ file, document: index + 1, reason: 'not a Kubernetes object (no apiVersion and kind)' });
        return;
      }
      const metadata = isObj(body.metadata) ? body.metadata : {};
      const m: Manifest = { file, kind: body.kind, name: String(metadata.name ?? metadata.generateName ?? '(unnamed)'), namespace: typeof metadata.namespace === 'string' ? metadata.namespace : undefined, body };
      manifests.push(m);
      report.objects.push({ file, object: objectId(m), kind: m.kind, rules: rulesFor(m.kind) });
    });
  }
  for (const m of manifests) {
    const add = (field: string, rule: RuleId, message: string): void => void report.violations.push({ file: m.file, object: objectId(m), field, rule, message });
    checkSecretLiterals(m, add);
    if (m.kind === 'Namespace') checkDefaultDeny(m, manifests, add);
    if (m.kind === 'NetworkPolicy') checkAllowAll(m, add);
    if (m.kind === 'Role' || m.kind === 'ClusterRole') checkRbacWildcards(m, add);
    if (m.kind in POD_SPEC_PATHS) checkWorkload(m, add);
  }
  return report;
}

type Add = (field: string, rule: RuleId, message: string) => void;

/** Why a NetworkPolicy is not a default-deny of its namespace, or [] when it is one. */
export function defaultDenyGaps(policy: Obj): string[] {
  const spec = isObj(policy.spec) ? policy.spec : {};
  const gaps: string[] = [];
  const selector = isObj(spec.podSelector) ? spec.podSelector : undefined;
  if (!selector) gaps.push('spec.podSelector is missing (write {} to select every pod)');
  else if (Object.keys(selector.matchLabels ?? {}).length > 0 || asArray(selector.matchExpressions).length > 0) gaps.push('spec.podSelector selects some pods only (must be {})');
  const types = asArray(spec.policyTypes);
  for (const t of ['Ingress', 'Egress']) if (!types.includes(t)) gaps.push(`spec.policyTypes lacks ${t}`);
  for (const direction of ['ingress', 'egress']) if (asArray(spec[direction]).length > 0) gaps.push(`spec.${direction} has rules (a default deny has none)`);
  return gaps;
}

function checkDefaultDeny(ns: Manifest, all: Manifest[], add: Add): void {
  const policies = all.filter((m) => m.kind === 'NetworkPolicy' && m.namespace === ns.name);
  if (policies.some((p) => defaultDenyGaps(p.body).length === 0)) return;
  const nearMisses = policies.map((p) => `${objectId(p)} (${path.basename(p.file)}): ${defaultDenyGaps(p.body).join(', ')}`);
  add('metadata.name', 'namespace-default-deny', `no default-deny NetworkPolicy in namespace ${ns.name}: add one with spec.podSelector {}, spec.policyTypes [Ingress, Egress] and no rules${nearMisses.length > 0 ? `; its NetworkPolicies are not one: ${nearMisses.join('; ')}` : ' (it has no NetworkPolicy at all)'}`);
}

function checkAllowAll(m: Manifest, add: Add): void {
  const spec = isObj(m.body.spec) ? m.body.spec : {};
  for (const [direction, peers] of [['ingress', 'from'], ['egress', 'to']] as const) {
    asArray(spec[direction]).forEach((rule, i) => {
      const r = isObj(rule) ? rule : {};
      if (asArray(r[peers]).length === 0 && asArray(r.ports).length === 0) add(`spec.${direction}[${i}]`, 'network-allow-all', `this ${direction} rule has neither ${peers} nor ports, so it allows all ${direction} traffic of the selected pods and undoes the namespace's default deny`);
    });
  }
}

const SECRET_NAME_PARTS = new Set(['PASSWORD', 'PASSWD', 'PWD', 'PASS', 'SECRET', 'TOKEN', 'KEY', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS', 'CREDS']);
/** An env name that looks like it holds a secret: one of its _-. separated parts is PASSWORD, TOKEN, KEY, SECRET, CREDENTIAL... */
export const looksSecret = (name: string): boolean => name.toUpperCase().split(/[_.-]+/).some((part) => SECRET_NAME_PARTS.has(part) || /(PASSWORD|SECRET|TOKEN|CREDENTIALS?)$/.test(part));
/** scheme://user:password@ with a literal password; $(VAR) and ${VAR} (expanded at run time from a Secret) are not literals. */
const USERINFO = /[a-z][a-z0-9+.-]*:\/\/([^\s:@/]+):([^\s@/]+)@/gi;
const isReference = (password: string): boolean => /^\$\([A-Za-z_][A-Za-z0-9_]*\)$|^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(password);

function checkSecretLiterals(m: Manifest, add: Add): void {
  if (m.kind === 'Secret') {
    for (const key of ['data', 'stringData']) {
      const data = m.body[key];
      if (isObj(data) && Object.keys(data).length > 0) add(key, 'secret-literal', `a Secret with ${key} (${Object.keys(data).join(', ')}) puts the secret values in the repository: create the Secret out of band (kubectl create secret generic ... --from-literal, or an external secret store) and reference it with secretKeyRef`);
    }
  }
  const walk = (value: unknown, at: string): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(USERINFO)) {
        if (!isReference(match[2])) add(at, 'secret-literal', `a URL with a literal password (user ${match[1]}) in ${at}: take the password from a Secret (env valueFrom.secretKeyRef, then $(VAR) in the URL)`);
      }
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${at}[${i}]`));
      if (at.endsWith('.env') || at === 'env') {
        value.forEach((item, i) => {
          if (isObj(item) && typeof item.name === 'string' && item.value !== undefined && item.value !== '' && looksSecret(item.name)) add(`${at}[${i}].value`, 'secret-literal', `env ${item.name} is given a literal value: a ${item.name} belongs in a Secret, read with env[${i}].valueFrom.secretKeyRef`);
        });
      }
      return;
    }
    if (isObj(value)) for (const [k, v] of Object.entries(value)) if (!(m.kind === 'Secret' && at === '' && (k === 'data' || k === 'stringData'))) walk(v, at ? `${at}.${k}` : k);
  };
  walk(m.body, '');
}

function checkRbacWildcards(m: Manifest, add: Add): void {
  asArray(m.body.rules).forEach((rule, i) => {
    if (!isObj(rule)) return;
    for (const key of ['verbs', 'resources', 'apiGroups', 'nonResourceURLs']) {
      asArray(rule[key]).forEach((v, j) => {
        if (typeof v === 'string' && v.includes('*')) add(`rules[${i}].${key}[${j}]`, 'rbac-wildcard', `'${v}' in ${key} grants ${key === 'verbs' ? 'every verb' : key === 'apiGroups' ? 'every API group' : key === 'resources' ? 'every resource' : 'every URL'} there is, and any added later: list the ${key} the subject needs`);
      });
    }
  });
}

function checkWorkload(m: Manifest, add: Add): void {
  const specPath = POD_SPEC_PATHS[m.kind];
  let pod: unknown = m.body;
  for (const key of specPath) pod = isObj(pod) ? pod[key] : undefined;
  const at = specPath.join('.');
  if (!isObj(pod)) {
    add(at, 'workload-non-root', `no pod spec at ${at}`);
    return;
  }
  const podContext = isObj(pod.securityContext) ? pod.securityContext : {};
  for (const list of ['initContainers', 'containers']) {
    asArray(pod[list]).forEach((container, i) => {
      const c = isObj(container) ? container : {};
      const where = `${at}.${list}[${i}]`;
      const name = typeof c.name === 'string' ? c.name : `#${i}`;
      const sc = isObj(c.securityContext) ? c.securityContext : {};
      const runAsUser = sc.runAsUser ?? podContext.runAsUser;
      const runAsNonRoot = sc.runAsNonRoot ?? podContext.runAsNonRoot;
      if (runAsUser === 0) add(sc.runAsUser === 0 ? `${where}.securityContext.runAsUser` : `${at}.securityContext.runAsUser`, 'workload-non-root', `container ${name} runs as user 0 (root)`);
      else if (runAsNonRoot === false && !(typeof runAsUser === 'number' && runAsUser > 0)) add(sc.runAsNonRoot === false ? `${where}.securityContext.runAsNonRoot` : `${at}.securityContext.runAsNonRoot`, 'workload-non-root', `container ${name} may run as root: runAsNonRoot is false`);
      else if (runAsNonRoot !== true && !(typeof runAsUser === 'number' && runAsUser > 0)) add(`${where}.securityContext.runAsNonRoot`, 'workload-non-root', `container ${name} may run as root: set runAsNonRoot: true (on the container or the pod), or a runAsUser above 0`);
      if (sc.readOnlyRootFilesystem !== true) add(`${where}.securityContext.readOnlyRootFilesystem`, 'workload-read-only-root', `container ${name} can write its root filesystem: set readOnlyRootFilesystem: true and mount an emptyDir where it must write`);
      if (sc.allowPrivilegeEscalation !== false) add(`${where}.securityContext.allowPrivilegeEscalation`, 'workload-privilege-escalation', `container ${name} may gain privileges (setuid binaries): set allowPrivilegeEscalation: false`);
      const drop = asArray(isObj(sc.capabilities) ? sc.capabilities.drop : undefined);
      if (!drop.includes('ALL')) add(`${where}.securityContext.capabilities.drop`, 'workload-capabilities', `container ${name} keeps the runtime's default Linux capabilities: set capabilities.drop: [ALL]`);
    });
  }
}

/** One line per violation: file, object, field, rule and message. */
export const formatViolation = (v: Violation, root = process.cwd()): string => `${path.relative(root, v.file) || v.file}: ${v.object}: ${v.field}: [${v.rule}] ${v.message}`;
