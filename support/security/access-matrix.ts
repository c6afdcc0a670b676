/**
 * The platform's Kubernetes API access, proven on an API server: apply k8s/security (namespaces,
 * ServiceAccounts, Roles, RoleBindings, and the rest of its objects) by server-side apply as an
 * administrator, then ask the server, cell by cell, what each ServiceAccount may do
 * (SubjectAccessReview), and compare with the matrix a security officer declared in the table of
 * features/security/access-control.feature. A ServiceAccount token (TokenRequest) lets the harness
 * make each cell's real request as that identity and see the 403.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { AstBuilder, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator } from '@cucumber/messages';
import { ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { PROJECT_ROOT } from '../config.ts';
import { apiErrorMessage } from '../k8s/api-error.ts';
import { FIELD_MANAGER } from '../targets/kubernetes-deploy.ts';
import { yamlFile } from '../harness-input.ts';

export const SECURITY_DIR = path.join(PROJECT_ROOT, 'k8s', 'security');
/** The feature whose table declares the matrix (the step with a `subject` … `expected` table). */
export const ACCESS_MATRIX_FEATURE = path.join(PROJECT_ROOT, 'features', 'security', 'access-control.feature');
/** What the harness itself needs on a cluster to prove the matrix: SubjectAccessReviews and the platform ServiceAccounts' tokens. */
export const SECURITY_AUDITOR_FILE = path.join(PROJECT_ROOT, 'k8s', 'rbac', 'harness-security-auditor.yaml');
export const MATRIX_COLUMNS = ['subject', 'verb', 'resource', 'name', 'namespace', 'expected'] as const;

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

/**
 * The cells of a matrix table (one object per row, keyed by column; an empty `name` is no name):
 * each validated, errors naming where the table is (`where`), the row and the column.
 */
export function cellsFromRows(rows: Record<string, string>[], where: string, lines?: number[]): AccessCell[] {
  const problems: string[] = [];
  const header = Object.keys(rows[0] ?? {});
  const missing = MATRIX_COLUMNS.filter((c) => c !== 'name' && !header.includes(c));
  const unknown = header.filter((c) => !(MATRIX_COLUMNS as readonly string[]).includes(c));
  if (rows.length === 0) problems.push('the table has no cells');
  if (missing.length > 0) problems.push(`column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} missing (the columns are ${MATRIX_COLUMNS.join(', ')})`);
  if (unknown.length > 0) problems.push(`unknown column${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (the columns are ${MATRIX_COLUMNS.join(', ')})`);
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
  const cells: AccessCell[] = [];
  rows.forEach((row, i) => {
    const parsed = cellSchema.safeParse(Object.fromEntries(Object.entries(row).filter(([k, v]) => !(k === 'name' && v.trim() === '')).map(([k, v]) => [k, v.trim()])));
    const at = `row ${i + 1}${lines?.[i] ? ` (line ${lines[i]})` : ''}`;
    if (parsed.success) cells.push(parsed.data);
    else problems.push(...parsed.error.issues.map((issue) => `${at}: column ${issue.path.join('.')}: ${issue.message} (value ${JSON.stringify(row[String(issue.path[0])] ?? '')})`));
  });
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
  return cells;
}

/** The declared matrix: the `subject` … `expected` table of the access-control feature, every cell validated. */
export function readAccessMatrix(file = ACCESS_MATRIX_FEATURE): AccessCell[] {
  const where = path.relative(PROJECT_ROOT, file);
  const parser = new Parser(new AstBuilder(IdGenerator.uuid()), new GherkinClassicTokenMatcher());
  let document;
  try {
    document = parser.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${where}: not valid Gherkin: ${(error as Error).message}`);
  }
  const steps = (document.feature?.children ?? []).flatMap((c) => [...(c.scenario?.steps ?? []), ...(c.background?.steps ?? [])]);
  const table = steps.map((s) => s.dataTable).find((t) => t?.rows[0]?.cells.some((c) => c.value === 'subject') && t.rows[0].cells.some((c) => c.value === 'expected'));
  if (!table) throw new Error(`${where}: no step has an access matrix table (columns ${MATRIX_COLUMNS.join(', ')})`);
  const [head, ...body] = table.rows;
  const rows = body.map((r) => Object.fromEntries(head.cells.map((h, i) => [h.value, r.cells[i]?.value ?? ''])));
  return cellsFromRows(rows, where, body.map((r) => r.location.line));
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
    .flatMap((f) => yamlFile(path.join(folder, f)).map((d) => ({ file: path.join(folder, f), object: d.value as KubernetesObject | null })))
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

/**
 * Install the platform's security manifests on an API server, as its operators would: every object
 * of k8s/security, and the harness's own auditor ClusterRole (SubjectAccessReviews and the platform
 * ServiceAccounts' tokens, bound to the harness group). `widenBanditRole` is the meta tests' defect
 * (fault `rbac-wildcard-role`): the bandit controller's Role given every verb on every resource.
 */
export async function installPlatformSecurity(admin: KubeConfig, options: { widenBanditRole?: boolean } = {}): Promise<string[]> {
  const objects = [...securityObjects(), ...securityObjects(path.dirname(SECURITY_AUDITOR_FILE)).filter((m) => m.file === SECURITY_AUDITOR_FILE)].map((m) => {
    if (!options.widenBanditRole || m.object.kind !== 'Role' || m.object.metadata?.name !== 'bandit-controller') return m;
    const role = m.object as KubernetesObject & { rules: { apiGroups: string[] }[] };
    return { ...m, object: { ...role, rules: [{ apiGroups: role.rules[0].apiGroups, resources: ['*'], verbs: ['*'] }] } as KubernetesObject };
  });
  return applyObjects(admin, objects);
}

/** Each API group's preferred version, from the server's discovery (the core group is `core`, v1). */
export async function preferredVersions(kc: KubeConfig): Promise<Map<string, string>> {
  const { status, body } = await rawRequest(kc, 'GET', '/apis');
  if (status !== 200) throw new Error(`API discovery (GET /apis) answered ${status}: ${body.slice(0, 200)}`);
  const groups = (JSON.parse(body) as { groups: { name: string; preferredVersion: { version: string } }[] }).groups;
  return new Map([['core', 'v1'], ...groups.map((g) => [g.name, g.preferredVersion.version] as [string, string])]);
}

/** One request with `kc`'s credentials and certificate authority; the status and body, whatever the status. */
export async function rawRequest(kc: KubeConfig, method: string, pathAndQuery: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(pathAndQuery, server);
  const options: https.RequestOptions = { method, hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: body === undefined ? {} : { 'content-type': contentType }, timeout: 10_000 };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A cell's request as a client makes it; mutating verbs are server-side dry runs, so an allowed one changes nothing. */
export function cellRequest(cell: AccessCell, versions: Map<string, string>): { method: string; path: string; body?: string; contentType?: string } {
  const [group, resource, subresource] = cell.resource.split('/');
  const version = versions.get(group);
  if (!version) throw new Error(`${describeCell(cell)}: the API server serves no group ${group}`);
  const base = `${group === 'core' ? '/api/v1' : `/apis/${group}/${version}`}${cell.namespace === '*' ? '' : `/namespaces/${cell.namespace}`}/${resource}`;
  // a request for one object needs a name: the cell's, or one no object has (authorisation comes before the lookup)
  const one = `${base}/${cell.name ?? 'uat-access-probe'}${subresource ? `/${subresource}` : ''}`;
  const object = JSON.stringify({ metadata: { name: cell.name ?? 'uat-access-probe' } });
  switch (cell.verb) {
    case 'get': return { method: 'GET', path: one };
    case 'list': return { method: 'GET', path: base };
    case 'watch': return { method: 'GET', path: `${base}?watch=1&timeoutSeconds=1` };
    case 'create': return { method: 'POST', path: `${base}?dryRun=All`, body: object };
    case 'update': return { method: 'PUT', path: `${one}?dryRun=All`, body: object };
    case 'patch': return { method: 'PATCH', path: `${one}?dryRun=All`, body: '{}', contentType: 'application/merge-patch+json' };
    case 'delete': return { method: 'DELETE', path: `${one}?dryRun=All` };
    case 'deletecollection': return { method: 'DELETE', path: `${base}?dryRun=All` };
    default: throw new Error(`${describeCell(cell)}: no request is made for verb ${cell.verb}`);
  }
}

export interface CellRequestOutcome {
  cell: AccessCell;
  status: number;
  /** denied: the server answered 403; authorised: any other answer but 401 (404 for an object that does not exist is authorised). */
  outcome: 'denied' | 'authorised' | 'unauthenticated';
  request: string;
}

/** Make the cell's request with `kc` (the subject's own token) and say whether the server let it through. */
export async function requestCell(kc: KubeConfig, cell: AccessCell, versions: Map<string, string>): Promise<CellRequestOutcome> {
  const r = cellRequest(cell, versions);
  const { status } = await rawRequest(kc, r.method, r.path, r.body, r.contentType);
  return { cell, status, outcome: status === 403 ? 'denied' : status === 401 ? 'unauthenticated' : 'authorised', request: `${r.method} ${r.path}` };
}
