/**
 * The resources' status over HTTP, in the shape the Kubernetes API serves custom resources
 * (`GET /apis/mlops.seldon.io/v1alpha1/namespaces/<ns>/<plural>[/<name>]`, lists as `<Kind>List`,
 * a missing object as a `Status` with reason NotFound), so the harness reads conditions the same
 * way from the embedded stack and from a cluster's API server.
 */
import type { DeployedResource } from './deployment.ts';
import { API_VERSION, SELDON_PLURALS } from './manifests.ts';

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

/** `resources` is read on every request: a status can change while the stack runs. */
export function statusApi(resources: () => DeployedResource[], namespace: string): (method: string, path: string) => StatusAnswer {
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
          .map(({ resource, status }) => ({ apiVersion: API_VERSION, kind: resource.kind, metadata: { ...resource.metadata, namespace, generation: 1 }, spec: resource.spec, status }));
    if (name === undefined) return { status: 200, payload: { apiVersion: API_VERSION, kind: `${kind}List`, metadata: {}, items: inScope } };
    const found = inScope.find((o) => o.metadata.name === name);
    return found ? { status: 200, payload: found } : notFound(`${plural}.mlops.seldon.io "${name}" not found`, { name, group: 'mlops.seldon.io', kind: plural });
  };
}
