/**
 * A manifest folder's objects as a run applies them to a namespace: every object labelled with the
 * run id (and any other labels), Models before Experiments and Pipelines. No API client here: the
 * local target lists a folder's objects the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { HarnessInputError, projectFile, shown, yamlDocuments } from '../harness-input.ts';
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
  const problems: string[] = [];
  const objects = fs
    .readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => {
      const file = path.join(folder, f);
      try {
        const documents = yamlDocuments(fs.readFileSync(file, 'utf8'), file);
        return documents.filter((d) => d.value !== null && d.value !== undefined).flatMap((d) => {
          // the rest of an object is the API server's to check (it names the field it refuses): the harness needs its kind and name
          const o = d.value as SeldonObject;
          const at = `${projectFile(file)}${documents.length > 1 ? ` (document ${d.index})` : ''}`;
          if (typeof o !== 'object' || Array.isArray(o)) problems.push(`${at}: a manifest must be a mapping with apiVersion, kind, metadata and spec, not ${shown(o)}`);
          else if (typeof o.kind !== 'string' || o.kind === '') problems.push(`${at}: field kind: required, a string (value ${shown(o.kind)}, line ${d.lineOf(['kind']) ?? '?'})`);
          else if (typeof o.metadata?.name !== 'string' || o.metadata.name === '') problems.push(`${at}: ${o.kind}: field metadata.name: required, a string (value ${shown(o.metadata?.name)})`);
          else return [o];
          return [];
        });
      } catch (error) {
        if (!(error instanceof HarnessInputError)) throw error;
        problems.push(error.message);
        return [];
      }
    });
  if (problems.length > 0) throw new HarnessInputError(problems.join('\n'));
  const rank = (o: SeldonObject): number => (o.kind! in PLURALS ? KIND_ORDER.indexOf(o.kind as keyof typeof PLURALS) : KIND_ORDER.length);
  return objects
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace, labels: { ...o.metadata?.labels, ...labels, [RUN_LABEL]: runId } } }))
    .sort((a, b) => rank(a) - rank(b));
}

