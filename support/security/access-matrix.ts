/**
 * The platform's Kubernetes API access, proven on an API server: apply k8s/security (namespaces,
 * ServiceAccounts, Roles, RoleBindings, and the rest of its objects) by server-side apply as an
 * administrator, then ask the server, cell by cell, what each ServiceAccount may do
 * (SubjectAccessReview), and compare with the matrix a security officer declared
 * (k8s/security/access-matrix/expected-access.yaml). A ServiceAccount token (TokenRequest) lets a
 * test make the real request as that identity and see the 403.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { PROJECT_ROOT } from '../config.ts';
import { apiErrorMessage } from '../k8s/api-error.ts';
import { FIELD_MANAGER } from '../targets/kubernetes-deploy.ts';

export const SECURITY_DIR = path.join(PROJECT_ROOT, 'k8s', 'security');
export const ACCESS_MATRIX_FILE = path.join(SECURITY_DIR, 'access-matrix', 'expected-access.yaml');

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const cellSchema = z
  .object({
    subject: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'namespace/serviceaccount'),
    verb: z.string().regex(/^[a-z]+$/, 'a Kubernetes verb (no wildcard)'),
    resource: z.string().regex(/^[a-z0-9.-]+\/[a-z0-9-]+(\/[a-z0-9-]+)?$/, 'group/resource[/subresource], the core group written core'),
    name: z.string().regex(NAME).optional(),
    namespace: z.union([z.literal('*'), z.string().regex(NAME)]),
    expected: z.enum(['allowed', 'denied']),
  })
  .strict();
export type AccessCell = z.infer<typeof cellSchema>;
export type Access = AccessCell['expected'];

export interface EvaluatedCell extends AccessCell {
  actual: Access;
  /** The authorizer's reason (e.g. which RoleBinding allowed it), when it gave one. */
  reason: string;
}

/** The declared matrix: every cell validated, errors naming the file and the cell. */
export function readAccessMatrix(file = ACCESS_MATRIX_FILE): AccessCell[] {
  const parsed = z.object({ cells: z.array(cellSchema).min(1) }).safeParse(parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${path.relative(PROJECT_ROOT, file)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.cells;
}

/** `subject verb resource[/name] in namespace`, as a reader would say it. */
export const describeCell = (c: AccessCell): string => `${c.subject} ${c.verb} ${c.resource}${c.name ? ` ${c.name}` : ''} in ${c.namespace === '*' ? 'every namespace' : c.namespace}`;

function resourceAttributes(c: AccessCell): { group: string; resource: string; subresource?: string; name?: string; namespace: string; verb: string } {
  const [group, resource, subresource] = c.resource.split('/');
  return { group: group === 'core' ? '' : group, resource, ...(subresource ? { subresource } : {}), ...(c.name ? { name: c.name } : {}), namespace: c.namespace === '*' ? '' : c.namespace, verb: c.verb };
}

/** The user and groups Kubernetes gives a ServiceAccount's token. */
export function serviceAccountIdentity(subject: string): { user: string; groups: string[] } {
  const [namespace, name] = subject.split('/');
  return { user: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

/** Ask the API server (as `kc`, which may create SubjectAccessReviews) about every cell. */
export async function evaluateMatrix(kc: KubeConfig, cells: AccessCell[]): Promise<EvaluatedCell[]> {
  const auth = kc.makeApiClient(AuthorizationV1Api);
  const out: EvaluatedCell[] = [];
  for (const cell of cells) {
    let review;
    try {
      review = await auth.createSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { ...serviceAccountIdentity(cell.subject), resourceAttributes: resourceAttributes(cell) } } });
    } catch (error) {
      throw new Error(`SubjectAccessReview for "${describeCell(cell)}" failed: ${apiErrorMessage(error)}`);
    }
    out.push({ ...cell, actual: review.status?.allowed ? 'allowed' : 'denied', reason: review.status?.reason ?? review.status?.evaluationError ?? '' });
  }
  return out;
}

/** Each cell whose evaluated access differs from the declared one, named; [] when the two agree. */
export const matrixDifferences = (evaluated: EvaluatedCell[]): string[] =>
  evaluated.filter((c) => c.actual !== c.expected).map((c) => `${describeCell(c)}: expected ${c.expected}, the API server says ${c.actual}${c.reason ? ` (${c.reason})` : ''}`);

export interface ManifestObject {
  file: string;
  object: KubernetesObject;
}

const APPLY_ORDER = ['Namespace', 'ServiceAccount', 'ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'];
const idOf = (o: KubernetesObject): string => [o.kind, o.metadata?.namespace, o.metadata?.name].filter(Boolean).join('/');

/** The Kubernetes objects of a folder's YAML files (not its subfolders), namespaces and identities first. */
export function securityObjects(folder = SECURITY_DIR): ManifestObject[] {
  const found = fs
    .readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(folder, f), 'utf8')).map((d) => ({ file: path.join(folder, f), object: d.toJS() as KubernetesObject | null })))
    .filter((m): m is ManifestObject => typeof m.object?.kind === 'string' && typeof m.object.apiVersion === 'string');
  const rank = (m: ManifestObject): number => (APPLY_ORDER.includes(m.object.kind!) ? APPLY_ORDER.indexOf(m.object.kind!) : APPLY_ORDER.length);
  return found.sort((a, b) => rank(a) - rank(b));
}

/** Server-side apply each object (as the harness's field manager); an error names the object and its file. Returns what was applied. */
export async function applyObjects(kc: KubeConfig, objects: ManifestObject[]): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: string[] = [];
  for (const { file, object } of objects) {
    try {
      await api.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (error) {
      throw new Error(`applying ${idOf(object)} (${path.relative(PROJECT_ROOT, file)}) failed: ${apiErrorMessage(error)}`);
    }
    applied.push(idOf(object));
  }
  return applied;
}

/** A short-lived token of a ServiceAccount (TokenRequest, core/v1 serviceaccounts/token), for the API server's own audience. */
export async function serviceAccountToken(kc: KubeConfig, subject: string, expirationSeconds = 600): Promise<string> {
  const [namespace, name] = subject.split('/');
  try {
    const request = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ namespace, name, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds } } });
    if (!request.status?.token) throw new Error('the TokenRequest came back without a token');
    return request.status.token;
  } catch (error) {
    throw new Error(`TokenRequest for ServiceAccount ${subject} failed: ${apiErrorMessage(error)} (the API server needs --service-account-issuer, --service-account-key-file and --service-account-signing-key-file)`);
  }
}

/** A kubeconfig for the same API server as `kc`, authenticating with `token`. */
export function kubeConfigWithToken(kc: KubeConfig, token: string, user: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the administrator kubeconfig has no current cluster');
  const out = new KubeConfig();
  out.loadFromOptions({ clusters: [cluster], users: [{ name: user, token }], contexts: [{ name: user, cluster: cluster.name, user }], currentContext: user });
  return out;
}

/** The HTTP status a request ended with: 200 when it succeeded, the API's code when it was refused. */
export async function statusOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}
