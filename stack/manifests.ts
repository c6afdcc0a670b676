/**
 * Seldon Core v2 manifests (group mlops.seldon.io, version v1alpha1): parse YAML, check each
 * resource against a typed schema of the fields Seldon defines, then check what the embedded stack
 * can serve. Every refusal is a ManifestError whose message names the file, the resource and the
 * field, kind or runtime at fault.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

export const API_VERSION = 'mlops.seldon.io/v1alpha1';

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const int32 = z.number().int().min(-2147483648).max(2147483647);
const uint32 = z.number().int().min(0).max(4294967295);
const joinType = z.enum(['inner', 'outer', 'any']);
const refs = z.object({ modelRef: z.string().optional(), pipelineRef: z.string().optional() }).strict();

export const modelSpecSchema = z
  .object({
    storageUri: z.string().min(1),
    artifactVersion: int32.optional(),
    modelType: z.string().optional(),
    schemaUri: z.string().optional(),
    secretName: z.string().optional(),
    requirements: z.array(z.string()).optional(),
    memory: z.union([z.string(), z.number()]).optional(),
    replicas: int32.optional(),
    minReplicas: int32.optional(),
    maxReplicas: int32.optional(),
    server: z.string().optional(),
    preloaded: z.boolean().optional(),
    dedicated: z.boolean().optional(),
    logger: z.object({ percent: z.number().int().optional() }).strict().optional(),
    explainer: refs.extend({ type: z.string().optional() }).strict().optional(),
    llm: refs.optional(),
    parameters: z.array(z.object({ name: z.string(), value: z.string() }).strict()).optional(),
    dataflow: z.object({ cleanTopicsOnDelete: z.boolean().optional() }).strict().optional(),
  })
  .strict();

export const experimentSpecSchema = z
  .object({
    default: z.string().optional(),
    resourceType: z.enum(['model', 'pipeline']).optional(),
    candidates: z.array(z.object({ name: z.string().min(1), weight: uint32 }).strict()),
    mirror: z.object({ name: z.string().min(1), percent: int32 }).strict().optional(),
  })
  .strict();

const tensorMap = z.record(z.string(), z.string());
export const pipelineSpecSchema = z
  .object({
    steps: z.array(
      z
        .object({
          name: z.string().min(1),
          inputs: z.array(z.string()).optional(),
          tensorMap: tensorMap.optional(),
          triggers: z.array(z.string()).optional(),
          inputsJoinType: joinType.optional(),
          triggersJoinType: joinType.optional(),
          joinWindowMs: uint32.optional(),
          batch: z.object({ size: uint32.optional(), windowMs: uint32.optional(), rolling: z.boolean().optional() }).strict().optional(),
        })
        .strict(),
    ),
    input: z
      .object({
        externalInputs: z.array(z.string()).optional(),
        externalTriggers: z.array(z.string()).optional(),
        joinType: joinType.optional(),
        triggersJoinType: joinType.optional(),
        joinWindowMs: uint32.optional(),
        tensorMap: tensorMap.optional(),
      })
      .strict()
      .optional(),
    output: z
      .object({ steps: z.array(z.string()).optional(), stepsJoin: joinType.optional(), joinWindowMs: uint32.optional(), tensorMap: tensorMap.optional() })
      .strict()
      .optional(),
    allowCycles: z.boolean().optional(),
    maxStepRevisits: uint32.optional(),
    dataflow: z.object({ cleanTopicsOnDelete: z.boolean().optional() }).strict().optional(),
  })
  .strict();

const metadataSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lower-case DNS name'),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;
export type PipelineSpec = z.infer<typeof pipelineSpecSchema>;
type Metadata = z.infer<typeof metadataSchema>;

export type SeldonResource =
  | { kind: 'Model'; metadata: Metadata; spec: ModelSpec; source: string }
  | { kind: 'Experiment'; metadata: Metadata; spec: ExperimentSpec; source: string }
  | { kind: 'Pipeline'; metadata: Metadata; spec: PipelineSpec; source: string };

const SPEC_SCHEMAS = { Model: modelSpecSchema, Experiment: experimentSpecSchema, Pipeline: pipelineSpecSchema } as const;

function describeIssue(issue: z.core.$ZodIssue, prefix: string): string {
  const at = [prefix, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    return `unsupported field '${[at, issue.keys[0]].join('.')}' (not a field of the Seldon CRD)`;
  }
  return `field '${at}': ${issue.message}`;
}

/** Parse and schema-check every resource in a YAML text (one or more documents). */
export function parseManifestText(text: string, source: string): SeldonResource[] {
  const resources: SeldonResource[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new ManifestError(`${source}: invalid YAML: ${doc.errors[0].message}`);
    }
    const raw: unknown = doc.toJS();
    if (raw === null || raw === undefined) continue;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ManifestError(`${source}: a manifest must be a mapping with apiVersion, kind, metadata and spec`);
    }
    const obj = raw as Record<string, unknown>;
    const kind = String(obj.kind ?? '');
    if (obj.apiVersion !== API_VERSION) {
      throw new ManifestError(`${source}: unsupported apiVersion '${String(obj.apiVersion)}' for kind '${kind}' (expected ${API_VERSION})`);
    }
    if (!(kind in SPEC_SCHEMAS)) {
      throw new ManifestError(`${source}: unsupported kind '${kind}' (supported: ${Object.keys(SPEC_SCHEMAS).join(', ')})`);
    }
    const meta = metadataSchema.safeParse(obj.metadata);
    if (!meta.success) {
      throw new ManifestError(`${source}: ${kind}: ${describeIssue(meta.error.issues[0], 'metadata')}`);
    }
    for (const key of Object.keys(obj)) {
      if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) {
        throw new ManifestError(`${source}: ${kind} ${meta.data.name}: unsupported field '${key}'`);
      }
    }
    const spec = SPEC_SCHEMAS[kind as keyof typeof SPEC_SCHEMAS].safeParse(obj.spec);
    if (!spec.success) {
      throw new ManifestError(`${source}: ${kind} ${meta.data.name}: ${describeIssue(spec.error.issues[0], 'spec')}`);
    }
    resources.push({ kind, metadata: meta.data, spec: spec.data, source } as SeldonResource);
  }
  return resources;
}

/** Read every .yaml/.yml file under the given files or folders, in name order. */
export function loadManifests(paths: string[]): SeldonResource[] {
  const files: string[] = [];
  const visit = (p: string): void => {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) throw new ManifestError(`manifest path not found: ${p}`);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) visit(path.join(p, entry));
    } else if (/\.ya?ml$/.test(p)) {
      files.push(p);
    }
  };
  paths.forEach(visit);
  return files.flatMap((file) => parseManifestText(fs.readFileSync(file, 'utf8'), file));
}

/** Seldon's own cross-resource rules (scheduler validate.go), applied to one set of resources. */
export function checkReferences(resources: SeldonResource[]): void {
  const names = new Map<string, SeldonResource>();
  for (const r of resources) {
    const key = `${r.kind}/${r.metadata.name}`;
    if (names.has(key)) throw new ManifestError(`${r.source}: duplicate ${r.kind} '${r.metadata.name}'`);
    names.set(key, r);
  }
  const defaults = new Map<string, string>();
  for (const r of resources) {
    if (r.kind !== 'Experiment') continue;
    const { spec, metadata } = r;
    const targetKind = spec.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
    const candidateNames = spec.candidates.map((c) => c.name);
    if (candidateNames.length === 0 && !spec.mirror) {
      throw new ManifestError(`${r.source}: Experiment ${metadata.name}: needs at least one candidate or a mirror`);
    }
    const all = [...candidateNames, ...(spec.mirror ? [spec.mirror.name] : [])];
    if (new Set(all).size !== all.length) {
      throw new ManifestError(`${r.source}: Experiment ${metadata.name}: candidate and mirror names must be unique`);
    }
    if (spec.default !== undefined && !candidateNames.includes(spec.default)) {
      throw new ManifestError(`${r.source}: Experiment ${metadata.name}: default model/pipeline ${spec.default} not found in experiment ${metadata.name} candidates`);
    }
    if (spec.default !== undefined) {
      const other = defaults.get(spec.default);
      if (other) throw new ManifestError(`${r.source}: Experiment ${metadata.name}: ${spec.default} is already the default of experiment ${other}`);
      defaults.set(spec.default, metadata.name);
    }
    if (candidateNames.length > 0 && spec.candidates.every((c) => c.weight === 0)) {
      throw new ManifestError(`${r.source}: Experiment ${metadata.name}: field 'spec.candidates.weight': the weights sum to zero`);
    }
    for (const name of all) {
      if (!names.has(`${targetKind}/${name}`)) {
        throw new ManifestError(`${r.source}: Experiment ${metadata.name}: ${targetKind.toLowerCase()} '${name}' is not defined in the manifests`);
      }
    }
  }
}

/** Server capabilities the embedded stack provides: its Python runtime serves the harness's model.json artifacts. */
export const EMBEDDED_CAPABILITIES = ['mlserver', 'python'] as const;

/**
 * What the embedded stack can serve. Returns null when the resource is servable, otherwise the
 * reason, naming the unsupported kind, field or runtime.
 */
export function unsupportedReason(resource: SeldonResource): string | null {
  switch (resource.kind) {
    case 'Model': {
      const { spec } = resource;
      const missing = (spec.requirements ?? []).filter((req) => !(EMBEDDED_CAPABILITIES as readonly string[]).includes(req));
      if (missing.length > 0) {
        return `Model ${resource.metadata.name}: unsupported runtime '${missing.join("', '")}' (the embedded stack provides ${EMBEDDED_CAPABILITIES.join(', ')})`;
      }
      if (spec.explainer) return `Model ${resource.metadata.name}: unsupported field 'spec.explainer' (explainers are not served by the embedded stack yet)`;
      if (spec.llm) return `Model ${resource.metadata.name}: unsupported field 'spec.llm'`;
      return null;
    }
    case 'Experiment':
      return resource.spec.resourceType === 'pipeline'
        ? `Experiment ${resource.metadata.name}: unsupported field value 'spec.resourceType: pipeline' (pipeline experiments are not served yet)`
        : null;
    case 'Pipeline':
      return `Pipeline ${resource.metadata.name}: unsupported kind 'Pipeline' for serving (parsed and validated, not served by the embedded stack yet)`;
  }
}
