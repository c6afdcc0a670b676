/**
 * A manifest folder's objects as a run applies them to a namespace: every object labelled with the
 * run id (and any other labels), Models before Experiments and Pipelines. No API client here: the
 * local target lists a folder's objects the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { SELDON_PLURALS as PLURALS } from '../../stack/manifests.ts';

export const RUN_LABEL = 'financial-mlops-uat/run-id';
const KIND_ORDER = Object.keys(PLURALS) as (keyof typeof PLURALS)[];

export type SeldonObject = KubernetesObject & { spec?: unknown; status?: { observedGeneration?: number; conditions?: Condition[] } };
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/**
 * Ready for the spec it holds: the control plane's Ready condition is True and was written for
 * the object's current generation (a Ready left over from before the last change does not count).
 */
export const readyAtGeneration = (o: Pick<SeldonObject, 'metadata' | 'status'> | undefined): boolean =>
  o?.status?.observedGeneration === o?.metadata?.generation && o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** The folder's objects as this run applies them: in `namespace`, labelled with the run id, Models first. */
export function manifestObjects(folder: string, namespace: string, runId: string, labels: Record<string, string> = {}): SeldonObject[] {
  const objects = fs
    .readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(folder, f), 'utf8')).map((d) => d.toJS() as SeldonObject | null))
    .filter((o): o is SeldonObject => o !== null && typeof o === 'object' && typeof o.kind === 'string');
  const rank = (o: SeldonObject): number => (o.kind! in PLURALS ? KIND_ORDER.indexOf(o.kind as keyof typeof PLURALS) : KIND_ORDER.length);
  return objects
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace, labels: { ...o.metadata?.labels, ...labels, [RUN_LABEL]: runId } } }))
    .sort((a, b) => rank(a) - rank(b));
}

