/**
 * The resources' status over HTTP, in the shape the Kubernetes API serves custom resources
 * (`GET /apis/mlops.seldon.io/v1alpha1/namespaces/<ns>/<plural>[/<name>]`, lists as `<Kind>List`,
 * a missing object as a `Status` with reason NotFound), so the harness reads conditions the same
 * way from the embedded stack and from a cluster's API server. A served manifest folder also takes
 * a JSON merge patch of an object (`PATCH`), as the API server does: the split of an Experiment
 * changes without a restart.
 */
import mergePatch from 'json-merge-patch';
import type { DeployedResource } from './deployment.ts';
import { API_VERSION, parseManifestDocuments, SELDON_PLURALS, type ManifestDocument, type ParseOptions, type SeldonResource } from './manifests.ts';

const KINDS: Record<string, string> = Object.fromEntries(Object.entries(SELDON_PLURALS).map(([kind, plural]) => [plural, kind]));

export interface StatusAnswer {
  status: number;
  payload: unknown;
}

const notFound = (message: string, details: Record<string, string> = {}): StatusAnswer => ({
  status: 404,
  payload: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'NotFound', details, code: 404 },
});

const PATH = new RegExp(`^/apis/${API_VERSION.replace(/[.]/g, '\\.')}(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?$`);

/**
 * `resources` is read on every request: a status can change while the stack runs. `generation`
 * counts an object's spec changes (1 as deployed, one more per patch that changes it); the stack
 * serves a change as it takes it, so the status has observed every generation.
 */
export function statusApi(resources: () => DeployedResource[], namespace: string, generation: (kind: string, name: string) => number = () => 1): (method: string, path: string) => StatusAnswer {
  return (method, path) => {
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, payload: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `the server does not allow this method on the requested resource`, reason: 'MethodNotAllowed', code: 405 } };
    const match = PATH.exec(path);
    if (!match) return notFound('the server could not find the requested resource');
    const [, ns, plural, name] = match;
    const kind = KINDS[plural];
    if (!kind) return notFound(`the server could not find the requested resource (${plural})`);
    const inScope = ns !== undefined && ns !== namespace
      ? []
      : resources()
          .filter(({ resource }) => resource.kind === kind)
          .map(({ resource, status }) => {
            const g = generation(resource.kind, resource.metadata.name);
            return { apiVersion: API_VERSION, kind: resource.kind, metadata: { ...resource.metadata, namespace, generation: g }, spec: resource.spec, status: { ...status, observedGeneration: g } };
          });
    if (name === undefined) return { status: 200, payload: { apiVersion: API_VERSION, kind: `${kind}List`, metadata: {}, items: inScope } };
    const found = inScope.find((o) => o.metadata.name === name);
    return found ? { status: 200, payload: found } : notFound(`${plural}.mlops.seldon.io "${name}" not found`, { name, group: 'mlops.seldon.io', kind: plural });
  };
}

/** Where the applied document of one object is among `documents` (-1 when none is). */
const documentIndex = (documents: ManifestDocument[], kind: string, name: string): number =>
  documents.findIndex((d) => 'resource' in d && d.resource.kind === kind && d.resource.metadata.name === name);

const pluralOf = (kind: string): string => SELDON_PLURALS[kind as keyof typeof SELDON_PLURALS];

/** The API server's 404 for one object of ours. */
const objectNotFound = (kind: string, name: string): StatusAnswer => notFound(`${pluralOf(kind)}.mlops.seldon.io "${name}" not found`, { name, group: 'mlops.seldon.io' });

/** Changes one object the way the API server's merge patch does; the stack redeploys with it. */
export type PatchHandler = (kind: string, name: string, patch: unknown) => StatusAnswer;

/** Deletes one object (`DELETE .../<plural>/<name>`) or creates one (`POST .../<plural>`); the stack redeploys. */
export interface WriteHandlers {
  remove(kind: string, name: string): StatusAnswer;
  create(kind: string, object: unknown): StatusAnswer;
}

/** `DELETE /apis/mlops.seldon.io/v1alpha1/namespaces/<ns>/<plural>/<name>` and `POST .../namespaces/<ns>/<plural>` with a JSON object. */
export function writeAnswer(method: string, path: string, body: Buffer, namespace: string, handlers: WriteHandlers): StatusAnswer {
  const match = PATH.exec(path);
  const kind = match ? KINDS[match[2]] : undefined;
  if (!match || !kind) return notFound('the server could not find the requested resource');
  if (match[1] !== namespace) return notFound(`the server could not find the requested resource (namespace ${match[1]})`);
  if (method === 'DELETE' && match[3] !== undefined) return handlers.remove(kind, match[3]);
  if (method === 'POST' && match[3] === undefined) {
    let object: unknown;
    try {
      object = JSON.parse(body.toString('utf8'));
    } catch (error) {
      return failure(400, 'BadRequest', `the object is not JSON: ${(error as Error).message}`);
    }
    return handlers.create(kind, object);
  }
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** The documents without one object, or 404. */
export function removeDocument(documents: ManifestDocument[], kind: string, name: string): { documents: ManifestDocument[]; answer: StatusAnswer } | { answer: StatusAnswer } {
  const index = documentIndex(documents, kind, name);
  if (index < 0) return { answer: objectNotFound(kind, name) };
  return { documents: documents.filter((_, i) => i !== index), answer: { status: 200, payload: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: 'mlops.seldon.io', kind: pluralOf(kind) } } } };
}

/** The documents with one more object, checked with a manifest's schema (422 naming the field), or 409 when it exists. */
export function createDocument(documents: ManifestDocument[], kind: string, object: unknown, namespace: string, options: ParseOptions): { documents: ManifestDocument[]; answer: StatusAnswer } | { answer: StatusAnswer } {
  const o = object as { kind?: unknown; metadata?: { name?: unknown } } | null;
  if (typeof o !== 'object' || o === null || o.kind !== kind) return { answer: failure(400, 'BadRequest', `the object's kind must be ${kind}, as the path says`) };
  const name = String(o.metadata?.name ?? '');
  if (documentIndex(documents, kind, name) >= 0) return { answer: failure(409, 'AlreadyExists', `${pluralOf(kind)}.mlops.seldon.io "${name}" already exists`) };
  const [parsed] = parseManifestDocuments(JSON.stringify(object), `created through the API`, options);
  if (!parsed || 'refused' in parsed) return { answer: failure(422, 'Invalid', `${kind} "${name}" is invalid: ${parsed && 'refused' in parsed ? parsed.refused : 'empty'}`) };
  return { documents: [...documents, parsed], answer: { status: 201, payload: { apiVersion: API_VERSION, kind, metadata: { ...parsed.resource.metadata, namespace }, spec: parsed.resource.spec } } };
}

const failure = (code: number, reason: string, message: string): StatusAnswer => ({
  status: code,
  payload: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
});

/** `PATCH /apis/mlops.seldon.io/v1alpha1/namespaces/<ns>/<plural>/<name>` with a JSON merge patch (RFC 7396). */
export function patchAnswer(path: string, contentType: string | undefined, body: Buffer, namespace: string, handler: PatchHandler): StatusAnswer {
  const match = PATH.exec(path);
  const kind = match ? KINDS[match[2]] : undefined;
  if (!match || !kind || match[3] === undefined) return notFound('the server could not find the requested resource');
  if (match[1] !== namespace) return notFound(`${match[2]}.mlops.seldon.io "${match[3]}" not found`, { name: match[3], group: 'mlops.seldon.io', kind: match[2] });
  if ((contentType ?? '').split(';')[0].trim() !== 'application/merge-patch+json') {
    return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json`);
  }
  let patch: unknown;
  try {
    patch = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return failure(400, 'BadRequest', `the patch is not JSON: ${(error as Error).message}`);
  }
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return failure(400, 'BadRequest', 'a merge patch must be a JSON object');
  return handler(kind, match[3], patch);
}

/**
 * The merge patch applied to one applied document: the result is checked with the same schema as
 * a manifest (an invalid one is refused with 422 naming the field, and nothing changes); name and
 * kind cannot change. Returns the new documents, or the refusal.
 */
export function patchDocument(documents: ManifestDocument[], kind: string, name: string, patch: unknown, namespace: string, options: ParseOptions): { documents: ManifestDocument[]; answer: StatusAnswer; specChanged: boolean } | { answer: StatusAnswer } {
  const index = documentIndex(documents, kind, name);
  if (index < 0) return { answer: objectNotFound(kind, name) };
  const { resource } = documents[index] as { resource: SeldonResource };
  const before = { apiVersion: API_VERSION, kind, metadata: resource.metadata, spec: resource.spec };
  const after = mergePatch.apply(structuredClone(before), patch) as typeof before;
  if (after.kind !== kind || after.metadata?.name !== name || after.apiVersion !== API_VERSION) {
    return { answer: failure(422, 'Invalid', `${kind} "${name}" is invalid: apiVersion, kind and metadata.name cannot be changed by a patch`) };
  }
  const [parsed] = parseManifestDocuments(JSON.stringify(after), resource.source, options);
  if (!parsed || 'refused' in parsed) return { answer: failure(422, 'Invalid', `${kind} "${name}" is invalid: ${parsed && 'refused' in parsed ? parsed.refused : 'empty'}`) };
  const next = [...documents];
  next[index] = parsed;
  return { documents: next, specChanged: JSON.stringify(parsed.resource.spec) !== JSON.stringify(resource.spec), answer: { status: 200, payload: { ...after, metadata: { ...after.metadata, namespace } } } };
}
