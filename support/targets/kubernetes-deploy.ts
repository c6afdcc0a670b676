/**
 * Deploying a stack's manifest folder through the Kubernetes API, as the `kubernetes` target does:
 * every object labelled with the run id and put in the run's namespace; server-side apply under the
 * field manager `financial-mlops-uat`, Models before Experiments and Pipelines; a dry run that
 * reports what would be created or changed and changes nothing; readiness read from the status
 * conditions Seldon's control plane writes, with a deadline, and, for an object that is not ready
 * in time, its conditions and events; teardown that deletes only this run's objects.
 */
import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { SELDON_GROUP as GROUP, SELDON_PLURALS as PLURALS, SELDON_VERSION as VERSION } from '../../stack/manifests.ts';
import { apiErrorMessage } from '../k8s/api-error.ts';
import { waitFor, WaitTimeoutError } from '../wait.ts';
import { RUN_LABEL, readyAtGeneration, type Condition, type SeldonObject } from '../k8s/manifest-objects.ts';

export { RUN_LABEL, manifestObjects, type Condition } from '../k8s/manifest-objects.ts';
export const FIELD_MANAGER = 'financial-mlops-uat';
const KIND_ORDER = Object.keys(PLURALS) as (keyof typeof PLURALS)[];

const describe = (o: KubernetesObject): string => `${o.kind}/${o.metadata?.name}`;

export type ApplyOutcome =
  | { object: string; outcome: 'created' | 'changed' | 'unchanged'; fields?: string[] }
  | { object: string; outcome: 'refused'; message: string };

/** The top-level spec fields whose values differ. */
function changedFields(before: unknown, after: unknown): string[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `spec.${k}`);
}

/**
 * Server-side apply, one object at a time: an object the API server refuses (schema) is reported and
 * the others still apply, as `kubectl apply` does. With `dryRun`, the server validates and merges
 * each object without storing it, and the outcome says what would happen.
 */
export async function applyObjects(kc: KubeConfig, objects: SeldonObject[], options: { dryRun?: boolean } = {}): Promise<ApplyOutcome[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const out: ApplyOutcome[] = [];
  for (const o of objects) {
    try {
      // a kind the server does not serve is refused here (discovery), as `kubectl apply` refuses it
      const existing = await api.read(o as KubernetesObject & { metadata: { name: string; namespace: string } }).catch((error: unknown) => {
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw error;
      });
      const applied = (await api.patch(o, undefined, options.dryRun ? 'All' : undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)) as SeldonObject;
      const fields = existing ? changedFields((existing as SeldonObject).spec, applied.spec) : [];
      out.push({ object: describe(o), outcome: !existing ? 'created' : fields.length > 0 ? 'changed' : 'unchanged', ...(fields.length > 0 ? { fields } : {}) });
    } catch (error) {
      out.push({ object: describe(o), outcome: 'refused', message: apiErrorMessage(error) });
    }
  }
  return out;
}

export interface Readiness {
  object: string;
  ready: boolean;
  conditions: Condition[];
  events: string[];
}

export class NotReadyError extends Error {}

export async function eventsOf(kc: KubeConfig, namespace: string, name: string): Promise<string[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` }).catch(() => undefined);
  return (list?.items ?? []).map((e) => `${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`.trim());
}

/**
 * Wait until each object reports Ready=True for its latest generation; by the deadline, the state
 * of every object, with the conditions and events of those that are not ready.
 */
export async function readiness(kc: KubeConfig, namespace: string, objects: KubernetesObject[], deadlineMs: number): Promise<Readiness[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const read = async (o: KubernetesObject): Promise<SeldonObject | undefined> =>
    (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS[o.kind as keyof typeof PLURALS], name: o.metadata!.name! }).catch(() => undefined)) as SeldonObject | undefined;
  let last: (SeldonObject | undefined)[] = [];
  try {
    await waitFor(`${objects.map(describe).join(', ')} to be ready`, deadlineMs, async () => {
      last = await Promise.all(objects.map(read));
      return last.every(readyAtGeneration) ? true : undefined;
    }, 250);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
  }
  return Promise.all(
    objects.map(async (o, i) => {
      const ready = readyAtGeneration(last[i]);
      return { object: describe(o), ready, conditions: last[i]?.status?.conditions ?? [], events: ready ? [] : await eventsOf(kc, namespace, o.metadata!.name!) };
    }),
  );
}

/** Every object of the folder ready by the deadline, or a NotReadyError naming each that is not, its conditions and events. */
export async function requireReady(kc: KubeConfig, namespace: string, objects: KubernetesObject[], deadlineMs: number): Promise<Readiness[]> {
  const states = await readiness(kc, namespace, objects, deadlineMs);
  const notReady = states.filter((s) => !s.ready);
  if (notReady.length > 0) {
    const lines = notReady.map((s) => {
      const conditions = s.conditions.length > 0 ? s.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ') : 'no status written';
      return `${s.object}: ${conditions}; events: ${s.events.length > 0 ? s.events.join(' | ') : 'none'}`;
    });
    throw new NotReadyError(`not ready within ${deadlineMs / 1000} s in namespace ${namespace}:\n  ${lines.join('\n  ')}`);
  }
  return states;
}

/**
 * Delete this run's objects in `namespace` (by the run label, and the other `labels` when given:
 * one folder of the run); the objects still listed afterwards (none when all went).
 */
export async function teardown(kc: KubeConfig, namespace: string, runId: string, labels: Record<string, string> = {}): Promise<string[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const selector = Object.entries({ [RUN_LABEL]: runId, ...labels }).map(([k, v]) => `${k}=${v}`).join(',');
  for (const kind of [...KIND_ORDER].reverse()) {
    await custom.deleteCollectionNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS[kind], labelSelector: selector });
  }
  return labelledObjects(kc, namespace, selector);
}

/** The Seldon objects in `namespace` that `labelSelector` selects, as `Kind/name`. */
export async function labelledObjects(kc: KubeConfig, namespace: string, labelSelector: string): Promise<string[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const found: string[] = [];
  for (const kind of KIND_ORDER) {
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS[kind], labelSelector })) as { items: KubernetesObject[] };
    found.push(...list.items.map((o) => `${kind}/${o.metadata?.name}`));
  }
  return found;
}
