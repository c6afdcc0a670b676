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
  status?: { conditions?: { type: string; status: string }[] };
}

export interface ExperimentAccess {
  /** Where the Experiment is read and patched, for messages. */
  where: string;
  read(name: string): Promise<ExperimentObject>;
  patchCandidates(name: string, candidates: Candidate[]): Promise<void>;
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
        await custom.patchNamespacedCustomObject({ ...at, name, body: { spec: { candidates } }, fieldManager }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      } catch (error) {
        throw new ExperimentAccessError(`patching Experiment/${name} in ${namespace}: ${apiMessage(error)}`);
      }
    },
  };
}
