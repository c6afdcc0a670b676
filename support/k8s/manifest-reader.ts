/**
 * Reads the project's Seldon manifests (k8s/) as plain resources: the harness's view of what is
 * deployed, independent of the stack that serves them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface ManifestResource {
  kind: string;
  name: string;
  spec: Record<string, unknown>;
  annotations: Record<string, string>;
  file: string;
}

export function readManifests(dirs: string[]): ManifestResource[] {
  const out: ManifestResource[] = [];
  for (const dir of dirs) {
    for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const full = path.join(dir, file);
      for (const doc of parseAllDocuments(fs.readFileSync(full, 'utf8'))) {
        const obj = doc.toJS() as { kind?: string; metadata?: { name?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown> } | null;
        if (obj?.kind && obj.metadata?.name) out.push({ kind: obj.kind, name: obj.metadata.name, spec: obj.spec ?? {}, annotations: obj.metadata.annotations ?? {}, file: full });
      }
    }
  }
  return out;
}

/** An Experiment's candidates and weights, in manifest order. */
export function experimentCandidates(dirs: string[], experiment: string): { name: string; weight: number }[] {
  const found = readManifests(dirs).find((r) => r.kind === 'Experiment' && r.name === experiment);
  if (!found) throw new Error(`no Experiment '${experiment}' in the manifests under ${dirs.join(', ')}`);
  return (found.spec.candidates ?? []) as { name: string; weight: number }[];
}

export function experimentWeights(dirs: string[], experiment: string): Record<string, number> {
  return Object.fromEntries(experimentCandidates(dirs, experiment).map((c) => [c.name, c.weight]));
}

/** Names of every Model in the manifests. */
export function modelNames(dirs: string[]): string[] {
  return readManifests(dirs)
    .filter((r) => r.kind === 'Model')
    .map((r) => r.name);
}

/** Model name -> storageUri. */
export function storageUris(dirs: string[]): Map<string, string> {
  return new Map(
    readManifests(dirs)
      .filter((r) => r.kind === 'Model' && typeof r.spec.storageUri === 'string')
      .map((r) => [r.name, r.spec.storageUri as string]),
  );
}
