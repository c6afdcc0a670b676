/**
 * Reads Seldon resources' status in the Kubernetes API's shape
 * (`/apis/mlops.seldon.io/v1alpha1/namespaces/<ns>/<plural>/<name>`): from the embedded stack,
 * which serves those paths over plain HTTP, or from a cluster's API server through a kubeconfig
 * (its credentials and CA: support/targets/kubernetes-serving.ts kubeStatusSource). Waits are declarative: a condition type and the status expected of
 * it, polled within a deadline, and the error names the last state seen.
 */
import { API_VERSION, SELDON_PLURALS } from '../../stack/manifests.ts';
import { waitFor } from '../wait.ts';

export type SeldonKind = keyof typeof SELDON_PLURALS;

export interface StatusCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface SeldonObject {
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number };
  spec?: unknown;
  status?: { observedGeneration?: number; conditions?: StatusCondition[] };
}

/** One condition in words: `Ready=False (Candidates not ready)`. */
export function describeCondition(c: StatusCondition | undefined, type = 'Ready'): string {
  if (!c) return `${type} not reported`;
  const why = [c.reason, c.message].filter(Boolean).join(': ');
  return `${c.type}=${c.status}${why ? ` (${why})` : ''}`;
}

/** Where the objects are read: one namespace of the embedded stack or of an API server. */
export interface StatusSource {
  readonly namespace: string;
  /** The object, or undefined when it does not exist. */
  get(kind: SeldonKind, name: string): Promise<SeldonObject | undefined>;
  list(kind: SeldonKind): Promise<SeldonObject[]>;
}

/** The embedded stack's status paths, over plain HTTP. */
export function httpStatusSource(baseUrl: string, namespace: string): StatusSource {
  const url = (kind: SeldonKind, name?: string): string =>
    `${baseUrl}/apis/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${SELDON_PLURALS[kind]}${name ? `/${encodeURIComponent(name)}` : ''}`;
  return {
    namespace,
    async get(kind, name) {
      const res = await fetch(url(kind, name), { signal: AbortSignal.timeout(5000) });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`GET ${url(kind, name)} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      return (await res.json()) as SeldonObject;
    },
    async list(kind) {
      const res = await fetch(url(kind), { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`GET ${url(kind)} answered ${res.status}`);
      return ((await res.json()) as { items: SeldonObject[] }).items;
    },
  };
}

/** Every condition of an object in words, or that it has none. */
export function describeConditions(object: SeldonObject): string {
  return (object.status?.conditions ?? []).map((c) => describeCondition(c, c.type)).join(', ') || 'no status written';
}

export class ResourceStatusClient {
  constructor(private readonly source: StatusSource) {}

  get namespace(): string {
    return this.source.namespace;
  }

  /** The object, or undefined when it does not exist. */
  get(kind: SeldonKind, name: string): Promise<SeldonObject | undefined> {
    return this.source.get(kind, name);
  }

  list(kind: SeldonKind): Promise<SeldonObject[]> {
    return this.source.list(kind);
  }

  /** A condition of an object, or undefined. */
  static condition(object: SeldonObject | undefined, type: string): StatusCondition | undefined {
    return object?.status?.conditions?.find((c) => c.type === type);
  }

  /** Wait until `<kind>/<name>` reports condition `type` with `status`; returns the object. */
  async waitFor(kind: SeldonKind, name: string, type: string, status: StatusCondition['status'], deadlineMs: number): Promise<SeldonObject> {
    let last = 'not read yet';
    try {
      return await waitFor(`${kind} ${name} to report ${type}=${status}`, deadlineMs, async () => {
        const object = await this.get(kind, name);
        last = object ? describeCondition(ResourceStatusClient.condition(object, type), type) : 'the object does not exist';
        return ResourceStatusClient.condition(object, type)?.status === status ? object : undefined;
      }, 200);
    } catch (error) {
      throw new Error(`${(error as Error).message}; last condition seen: ${last}`);
    }
  }
}
