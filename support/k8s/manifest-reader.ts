/**
 * Reads the project's Seldon manifests (k8s/) as plain resources: the harness's view of what is
 * deployed, independent of the stack that serves them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { API_VERSION, experimentSpecSchema, modelSpecSchema, pipelineSpecSchema, SELDON_PLURALS } from '../../stack/manifests.ts';
import { describeIssues, HarnessInputError, projectFile, yamlDocuments } from '../harness-input.ts';

export interface ManifestResource {
  kind: string;
  name: string;
  spec: Record<string, unknown>;
  annotations: Record<string, string>;
  file: string;
}

const KINDS = Object.keys(SELDON_PLURALS) as (keyof typeof SELDON_PLURALS)[];
const SPEC_SCHEMAS = { Model: modelSpecSchema, Experiment: experimentSpecSchema, Pipeline: pipelineSpecSchema } as const;
/** An object of the harness's manifest folders: a Seldon resource with the fields its CRD defines. */
const objectSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.enum(KINDS),
    metadata: z
      .object({
        name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lower-case DNS name'),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .passthrough(),
    spec: z.record(z.string(), z.unknown()),
    status: z.unknown().optional(),
  })
  .strict();

/**
 * The Seldon resources of the manifest folders (their .yaml and .yml files, in name order). Every
 * document is checked as the API server would check it (the fields of the Seldon CRDs): a YAML
 * syntax error, a missing field or a value of the wrong type is a HarnessInputError naming the file,
 * the object (kind and name), the field, its line and the value; every problem of every file at once.
 */
export function readManifests(dirs: string[]): ManifestResource[] {
  const out: ManifestResource[] = [];
  const problems: string[] = [];
  for (const dir of dirs) {
    for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const full = path.join(dir, file);
      let documents;
      try {
        documents = yamlDocuments(fs.readFileSync(full, 'utf8'), full);
      } catch (error) {
        if (!(error instanceof HarnessInputError)) throw error;
        problems.push(error.message);
        continue;
      }
      for (const doc of documents) {
        if (doc.value === null || doc.value === undefined) continue;
        const raw = doc.value as { kind?: unknown; metadata?: { name?: unknown } };
        const object = `${typeof raw.kind === 'string' ? raw.kind : 'object'} ${typeof raw.metadata?.name === 'string' ? raw.metadata.name : '(no name)'}`;
        const at = `${projectFile(full)}${documents.length > 1 ? ` (document ${doc.index})` : ''}: ${object}`;
        const checked = objectSchema.safeParse(doc.value);
        if (!checked.success) {
          problems.push(...describeIssues(checked.error, doc.value, { line: doc.lineOf }).map((p) => `${at}: ${p}`));
          continue;
        }
        const spec = SPEC_SCHEMAS[checked.data.kind].safeParse(checked.data.spec);
        if (!spec.success) {
          problems.push(...describeIssues(spec.error, checked.data.spec, { line: (p) => doc.lineOf(['spec', ...p]) }).map((p) => `${at}: ${p.replace(/^field /, 'field spec.')}`));
          continue;
        }
        const { kind, metadata } = checked.data;
        out.push({ kind, name: metadata.name, spec: checked.data.spec, annotations: metadata.annotations ?? {}, file: full });
      }
    }
  }
  if (problems.length > 0) throw new HarnessInputError(problems.join('\n'));
  return out;
}

/** An Experiment's candidates and weights, in manifest order. */
export function experimentCandidates(dirs: string[], experiment: string): { name: string; weight: number }[] {
  const found = readManifests(dirs).find((r) => r.kind === 'Experiment' && r.name === experiment);
  if (!found) throw new HarnessInputError(`no Experiment '${experiment}' in the manifests under ${dirs.map(projectFile).join(', ')} (the Experiments: ${readManifests(dirs).filter((r) => r.kind === 'Experiment').map((r) => r.name).join(', ') || 'none'})`);
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
