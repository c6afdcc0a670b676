/**
 * `npm run doctor` with UAT_TARGET=kubernetes: the API server answers (and its version), Seldon's
 * resource types are served, and the identity the suite runs as holds every permission the harness
 * uses in its namespace. The permissions are the rules of k8s/rbac/harness-role.yaml, each asked with
 * a SelfSubjectAccessReview, so the Role users apply and the check never disagree.
 */
import path from 'node:path';
import { ApiException, AuthorizationV1Api, CustomObjectsApi, KubeConfig, VersionApi, type V1ResourceAttributes } from '@kubernetes/client-node';
import { PROJECT_ROOT, type HarnessConfig } from '../config.ts';
import { SELDON_GROUP, SELDON_PLURALS, SELDON_VERSION } from '../../stack/manifests.ts';
import { SECURITY_AUDITOR_FILE, securityObjects } from '../security/access-matrix.ts';
import { apiErrorMessage } from '../k8s/api-error.ts';
import { loadKubeConfig, targetNamespace } from '../k8s/kubeconfig.ts';
import { forwardService, MESH_SERVICE } from '../k8s/port-forward.ts';
import { probeStack, type CheckResult } from './checks.ts';
import { yamlFile } from '../harness-input.ts';

export const HARNESS_ROLE_FILE = path.join(PROJECT_ROOT, 'k8s', 'rbac', 'harness-role.yaml');
/** With a namespace per run: the same rules in every namespace, and creating and deleting namespaces. */
export const HARNESS_CLUSTER_ROLE_FILE = path.join(PROJECT_ROOT, 'k8s', 'rbac', 'harness-clusterrole.yaml');
const SELDON = { group: SELDON_GROUP, version: SELDON_VERSION, plurals: Object.values(SELDON_PLURALS) };

export interface Permission {
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
}

/** Every (group, resource, verb) the harness Role (or ClusterRole) grants: what the harness needs. */
export function harnessPermissions(file = HARNESS_ROLE_FILE): Permission[] {
  const role = yamlFile(file).map((d) => d.value as { kind?: string } | null).find((d) => d?.kind === 'Role' || d?.kind === 'ClusterRole') as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  return role.rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.flatMap((full) => {
        const [resource, subresource] = full.split('/');
        return rule.verbs.map((verb) => ({ group, resource, ...(subresource ? { subresource } : {}), verb }));
      }),
    ),
  );
}

export const describePermission = (p: Permission): string => `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}`;

export async function checkKubernetes(config: HarnessConfig): Promise<CheckResult[]> {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(config);
  } catch (error) {
    return [{ name: 'Kubernetes API', required: true, ok: false, target: config.kubeconfig ?? '~/.kube/config', version: '-', latencyMs: null, problem: `no usable kubeconfig: ${apiErrorMessage(error)}; set KUBECONFIG (and UAT_KUBE_CONTEXT)` }];
  }
  const server = kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
  const namespace = targetNamespace(config, kc);
  const started = performance.now();
  let version: string;
  try {
    version = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
  } catch (error) {
    return [{ name: 'Kubernetes API', required: true, ok: false, target: server, version: '-', latencyMs: null, problem: `unreachable: ${apiErrorMessage(error)}; check KUBECONFIG and the context (${kc.getCurrentContext()})` }];
  }
  const rows: CheckResult[] = [{ name: 'Kubernetes API', required: true, ok: true, target: `${server} (context ${kc.getCurrentContext()})`, version, latencyMs: performance.now() - started, problem: '' }];

  const custom = kc.makeApiClient(CustomObjectsApi);
  const served: string[] = [];
  const absent: string[] = [];
  const unknown: string[] = [];
  for (const plural of SELDON.plurals) {
    try {
      await custom.listNamespacedCustomObject({ group: SELDON.group, version: SELDON.version, namespace, plural, limit: 1 });
      served.push(plural);
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) absent.push(`${plural}.${SELDON.group}/${SELDON.version}`);
      else unknown.push(`${plural}: ${apiErrorMessage(error)}`);
    }
  }
  rows.push({
    name: 'Seldon CRDs',
    required: true,
    ok: absent.length === 0 && unknown.length === 0,
    target: `${SELDON.group}/${SELDON.version} in ${namespace}`,
    version: served.length > 0 ? served.join(', ') : '-',
    latencyMs: null,
    problem: [
      absent.length > 0 ? `not served: ${absent.join(', ')}; install Seldon Core v2 (its CRDs), or run \`npm run cluster\` for a local API server` : '',
      unknown.length > 0 ? `could not tell: ${unknown.join('; ')}` : '',
    ].filter(Boolean).join('; '),
  });

  const auth = kc.makeApiClient(AuthorizationV1Api);
  // a namespace per run needs the rules in every namespace: asked cluster-wide (namespace '')
  const roleFile = config.namespacePerRun ? HARNESS_CLUSTER_ROLE_FILE : HARNESS_ROLE_FILE;
  const scope = config.namespacePerRun ? 'every namespace (UAT_NAMESPACE_PER_RUN)' : `namespace ${namespace}`;
  const needed = harnessPermissions(roleFile);
  const missing = await missingRights(auth, needed.map((p) => ({ what: describePermission(p), attributes: { namespace: config.namespacePerRun ? '' : namespace, group: p.group, resource: p.resource, subresource: p.subresource, verb: p.verb } })));
  rows.push({
    name: 'Permissions',
    required: true,
    ok: missing.length === 0,
    target: `${scope}, ${needed.length} verbs of ${path.relative(PROJECT_ROOT, roleFile)}`,
    version: `${needed.length - missing.length} of ${needed.length} granted`,
    latencyMs: null,
    problem: missing.length > 0 ? `missing: ${missing.join(', ')}; bind the ${config.namespacePerRun ? 'ClusterRole' : 'Role'} in ${path.relative(PROJECT_ROOT, roleFile)} to this identity` : '',
  });
  rows.push(await checkSecurityAudit(auth));
  return rows;
}

/** Each right this identity lacks (SelfSubjectAccessReview), named; one that could not be asked is named with why. */
async function missingRights(auth: AuthorizationV1Api, asks: { what: string; attributes: V1ResourceAttributes }[]): Promise<string[]> {
  const missing: string[] = [];
  for (const ask of asks) {
    try {
      const review = await auth.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: ask.attributes } } });
      if (!review.status?.allowed) missing.push(ask.what);
    } catch (error) {
      missing.push(`${ask.what} (not asked: ${apiErrorMessage(error)})`);
    }
  }
  return missing;
}

/**
 * What the access-control scenario needs (k8s/rbac/harness-security-auditor.yaml): SubjectAccessReviews,
 * and a token of each platform ServiceAccount of k8s/security, in its own namespace. Not required: only
 * the security category's access matrix fails without it.
 */
async function checkSecurityAudit(auth: AuthorizationV1Api): Promise<CheckResult> {
  const accounts = securityObjects().filter((m) => m.object.kind === 'ServiceAccount').map((m) => ({ namespace: m.object.metadata!.namespace!, name: m.object.metadata!.name! }));
  const asks = [
    { what: 'create subjectaccessreviews.authorization.k8s.io', attributes: { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verb: 'create' } },
    ...accounts.map((a) => ({ what: `create serviceaccounts/token ${a.name} in ${a.namespace}`, attributes: { namespace: a.namespace, resource: 'serviceaccounts', subresource: 'token', name: a.name, verb: 'create' } })),
  ];
  const missing = await missingRights(auth, asks);
  return {
    name: 'Security audit',
    required: false,
    ok: missing.length === 0,
    target: `${asks.length} rights of ${path.relative(PROJECT_ROOT, SECURITY_AUDITOR_FILE)}`,
    version: `${asks.length - missing.length} of ${asks.length} granted`,
    latencyMs: null,
    problem: missing.length > 0 ? `missing: ${missing.join(', ')}; bind the ClusterRole in ${path.relative(PROJECT_ROOT, SECURITY_AUDITOR_FILE)} to this identity (the access-matrix scenario of features/security needs it)` : '',
  };
}

/** seldon-mesh without UAT_INFERENCE_URL: reached by a port-forward to a pod behind the service, as the target reaches it. */
export async function checkMeshByPortForward(config: HarnessConfig): Promise<CheckResult> {
  const kc = loadKubeConfig(config);
  const namespace = targetNamespace(config, kc);
  const target = `port-forward to svc/${MESH_SERVICE} in ${namespace}`;
  let forwarded;
  try {
    forwarded = await forwardService(kc, namespace, MESH_SERVICE);
  } catch (error) {
    return { name: 'Inference stack', required: true, ok: false, target, version: '-', latencyMs: null, problem: `${(error as Error).message}; or set UAT_INFERENCE_URL to seldon-mesh's address` };
  }
  try {
    const result = await probeStack(forwarded.url, `${target} (pod ${forwarded.pod}:${forwarded.podPort})`);
    return result.ok || forwarded.errors.length === 0 ? result : { ...result, problem: `${result.problem}; the port-forward reported: ${forwarded.errors.at(-1)}` };
  } finally {
    await forwarded.stop();
  }
}
