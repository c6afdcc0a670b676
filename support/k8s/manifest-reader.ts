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

/** A router Pipeline of the manifests: the step whose output tensors trigger the others, and which predictor step each tensor (regime) triggers. */
export interface RouterShape {
  pipeline: string;
  router: string;
  routes: { regime: string; predictor: string }[];
  /** Predictors that also serve outside the pipeline (an Experiment's candidate or default): their counters include that traffic. */
  shared: string[];
}

export function routerShape(dirs: string[]): RouterShape | undefined {
  const resources = readManifests(dirs);
  for (const p of resources.filter((r) => r.kind === 'Pipeline')) {
    const steps = (p.spec.steps ?? []) as { name: string; triggers?: string[] }[];
    const routes = steps.flatMap((s) => (s.triggers ?? []).map((t) => /^([^.]+)\.outputs\.([^.]+)$/.exec(t)).filter((m): m is RegExpExecArray => m !== null).map((m) => ({ router: m[1], regime: m[2], predictor: s.name })));
    if (routes.length === 0) continue;
    const inExperiments = new Set(resources.filter((r) => r.kind === 'Experiment').flatMap((e) => [String(e.spec.default ?? ''), ...((e.spec.candidates ?? []) as { name: string }[]).map((c) => c.name)]));
    return { pipeline: p.name, router: routes[0].router, routes: routes.map(({ regime, predictor }) => ({ regime, predictor })), shared: routes.map((r) => r.predictor).filter((n) => inExperiments.has(n)) };
  }
  return undefined;
}
