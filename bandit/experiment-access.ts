/**
 * Reading an Experiment and rewriting its candidates' weights, wherever it lives: through a
 * Kubernetes API server (a kubeconfig; Seldon Core v2 on a cluster), or through the embedded
 * stack's Kubernetes-shaped paths (`/apis/mlops.seldon.io/v1alpha1/namespaces/<ns>/experiments/<name>`).
 * Both patch `spec.candidates` with a JSON merge patch. The targets and the bandit controller use
 * the same access, so the code that drives the local stack drives a cluster.
 */
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { apiErrorMessage as apiMessage } from '../support/k8s/api-error.ts';
import { API_VERSION, SELDON_GROUP, SELDON_PLURALS, SELDON_VERSION } from '../stack/manifests.ts';

export interface Candidate {
  name: string;
  weight: number;
}

export interface ExperimentObject {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; generation?: number };
  spec: { candidates: Candidate[]; default?: string };
  status?: { conditions?: { type: string; status: string }[]; observedGeneration?: number };
}

export interface ExperimentAccess {
  /** Where the Experiment is read and patched, for messages. */
  where: string;
  read(name: string): Promise<ExperimentObject>;
  /** Writes the candidates; resolves with the Experiment's generation after the change. */
  patchCandidates(name: string, candidates: Candidate[]): Promise<{ generation?: number }>;
  /** Whether a Model is there and its status says Ready (the control plane's view: what Seldon routes by). */
  modelReady(name: string): Promise<boolean>;
}

const readyIn = (object: { status?: { conditions?: { type: string; status: string }[] } } | undefined): boolean => object?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Whether the control plane has taken a patch: how long it took, or why that is not known. */
export type Applied = { observedAfterMs: number } | { unconfirmed: string };

/**
 * Write the candidates, then wait (bounded) until the Experiment's status has observed the new
 * generation: the control plane serves the new split from then on (Seldon's operator writes
 * `status.observedGeneration`). A status without one, or a deadline passed, is reported, not
 * thrown: the weights are written either way.
 */
export async function applyCandidates(access: ExperimentAccess, name: string, candidates: Candidate[], deadlineMs = 5000): Promise<Applied> {
  const started = performance.now();
  const { generation } = await access.patchCandidates(name, candidates);
  if (generation === undefined) return { unconfirmed: `the patch of Experiment/${name} returned no generation` };
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    const observed = (await access.read(name)).status?.observedGeneration;
    if (observed === undefined) return { unconfirmed: `the status of Experiment/${name} carries no observedGeneration` };
    if (observed >= generation) return { observedAfterMs: performance.now() - started };
    if (performance.now() - started > deadlineMs) return { unconfirmed: `the status of Experiment/${name} had not observed generation ${generation} after ${deadlineMs} ms (observed ${observed})` };
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

export class ExperimentAccessError extends Error {}

/** The Kubernetes-shaped HTTP paths of the embedded stack (no credentials). */
export function stackExperimentAccess(stackUrl: string, namespace: string): ExperimentAccess {
  const at = (name: string) => `${stackUrl}/apis/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/experiments/${encodeURIComponent(name)}`;
  const failed = async (verb: string, name: string, res: Response) =>
    new ExperimentAccessError(`${verb} Experiment/${name} answered ${res.status}: ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? ''}`);
  return {
    where: `namespace ${namespace} of the embedded stack at ${stackUrl}`,
    async read(name) {
      const res = await fetch(at(name), { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw await failed('GET', name, res);
      return (await res.json()) as ExperimentObject;
    },
    async patchCandidates(name, candidates) {
      const res = await fetch(at(name), { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { candidates } }), signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw await failed('PATCH', name, res);
      return { generation: ((await res.json()) as ExperimentObject).metadata?.generation };
    },
    async modelReady(name) {
      const res = await fetch(`${stackUrl}/apis/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${SELDON_PLURALS.Model}/${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(5000) });
      if (res.status === 404) return false;
      if (!res.ok) throw await failed('GET', name, res);
      return readyIn((await res.json()) as ExperimentObject);
    },
  };
}

/** A Kubernetes API server through a kubeconfig; patches under `fieldManager`. */
export function kubeExperimentAccess(kc: KubeConfig, namespace: string, fieldManager: string): ExperimentAccess {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const at = { group: SELDON_GROUP, version: SELDON_VERSION, namespace, plural: SELDON_PLURALS.Experiment };
  return {
    where: `namespace ${namespace} at ${kc.getCurrentCluster()?.server ?? 'the API server'}`,
    async read(name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...at, name })) as ExperimentObject;
      } catch (error) {
        throw new ExperimentAccessError(`reading Experiment/${name} in ${namespace}: ${apiMessage(error)}`);
      }
    },
    async patchCandidates(name, candidates) {
      try {
        const patched = (await custom.patchNamespacedCustomObject({ ...at, name, body: { spec: { candidates } }, fieldManager }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as ExperimentObject;
        return { generation: patched.metadata?.generation };
      } catch (error) {
        throw new ExperimentAccessError(`patching Experiment/${name} in ${namespace}: ${apiMessage(error)}`);
      }
    },
    async modelReady(name) {
      try {
        return readyIn((await custom.getNamespacedCustomObject({ ...at, plural: SELDON_PLURALS.Model, name })) as ExperimentObject);
      } catch (error) {
        if ((error as { code?: number }).code === 404) return false;
        throw new ExperimentAccessError(`reading Model/${name} in ${namespace}: ${apiMessage(error)}`);
      }
    },
  };
}
