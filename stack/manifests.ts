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

export const SELDON_GROUP = 'mlops.seldon.io';
export const SELDON_VERSION = 'v1alpha1';
export const API_VERSION = `${SELDON_GROUP}/${SELDON_VERSION}`;
/** The resource name (plural) of each kind, as in Seldon's CRDs and the API paths. */
export const SELDON_PLURALS = { Model: 'models', Experiment: 'experiments', Pipeline: 'pipelines' } as const;

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** The `pattern` of `spec.memory` in mlops.seldon.io_models.yaml (Kubernetes resource.Quantity). */
export const QUANTITY = /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
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
    // resource.Quantity, with the pattern of the CRD's `memory` property (x-kubernetes-int-or-string).
    memory: z.union([z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as 100Ki, 1Mi or 2G'), z.number().int()]).optional(),
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
/** For the `accept-invalid-quantity` fault only: `memory` without the CRD's pattern. */
const LENIENT_SPEC_SCHEMAS = { ...SPEC_SCHEMAS, Model: modelSpecSchema.extend({ memory: z.union([z.string(), z.number()]).optional() }) } as const;

export interface ParseOptions {
  /** Deliberate defect for the meta tests: accept any `memory` value. */
  lenientQuantities?: boolean;
}

function describeIssue(issue: z.core.$ZodIssue, prefix: string): string {
  const at = [prefix, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    return `unsupported field '${[at, issue.keys[0]].join('.')}' (not a field of the Seldon CRD)`;
  }
  return `field '${at}': ${issue.message}`;
}

/** One YAML document: a schema-valid resource, or why it was refused (as the API server refuses one object). */
export type ManifestDocument = { resource: SeldonResource } | { refused: string; kind?: string; name?: string };

/** Parse and schema-check each document of a YAML text on its own: a bad one does not take the others down. */
export function parseManifestDocuments(text: string, source: string, options: ParseOptions = {}): ManifestDocument[] {
  const schemas = options.lenientQuantities ? LENIENT_SPEC_SCHEMAS : SPEC_SCHEMAS;
  const out: ManifestDocument[] = [];
  parseAllDocuments(text).forEach((doc, index) => {
    const where = `${source}${index > 0 ? ` (document ${index + 1})` : ''}`;
    if (doc.errors.length > 0) {
      out.push({ refused: `${where}: invalid YAML: ${doc.errors[0].message}` });
      return;
    }
    const raw: unknown = doc.toJS();
    if (raw === null || raw === undefined) return;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      out.push({ refused: `${where}: a manifest must be a mapping with apiVersion, kind, metadata and spec` });
      return;
    }
    const obj = raw as Record<string, unknown>;
    const kind = String(obj.kind ?? '');
    const name = typeof (obj.metadata as { name?: unknown } | undefined)?.name === 'string' ? String((obj.metadata as { name: string }).name) : undefined;
    const refuse = (message: string): void => void out.push({ refused: `${where}: ${message}`, kind, name });
    if (obj.apiVersion !== API_VERSION) return refuse(`unsupported apiVersion '${String(obj.apiVersion)}' for kind '${kind}' (expected ${API_VERSION})`);
    if (!(kind in SPEC_SCHEMAS)) return refuse(`unsupported kind '${kind}' (supported: ${Object.keys(SPEC_SCHEMAS).join(', ')})`);
    const meta = metadataSchema.safeParse(obj.metadata);
    if (!meta.success) return refuse(`${kind}: ${describeIssue(meta.error.issues[0], 'metadata')}`);
    const unknownKey = Object.keys(obj).find((key) => !['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key));
    if (unknownKey) return refuse(`${kind} ${meta.data.name}: unsupported field '${unknownKey}'`);
    const spec = schemas[kind as keyof typeof SPEC_SCHEMAS].safeParse(obj.spec);
    if (!spec.success) return refuse(`${kind} ${meta.data.name}: ${describeIssue(spec.error.issues[0], 'spec')}`);
    out.push({ resource: { kind, metadata: meta.data, spec: spec.data, source: where } as SeldonResource });
  });
  return out;
}

/** Parse and schema-check every resource in a YAML text; the first refused document throws. */
export function parseManifestText(text: string, source: string): SeldonResource[] {
  return parseManifestDocuments(text, source).map((d) => {
    if ('refused' in d) throw new ManifestError(d.refused);
    return d.resource;
  });
}

/** Every .yaml/.yml file under the given files or folders, in name order. */
function manifestFiles(paths: string[]): string[] {
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
  return files;
}

/** Read every resource under the given files or folders; the first refused document throws. */
export function loadManifests(paths: string[]): SeldonResource[] {
  return manifestFiles(paths).flatMap((file) => parseManifestText(fs.readFileSync(file, 'utf8'), file));
}

/** Read every document under the given files or folders, keeping the valid ones and the reasons for the others. */
export function loadManifestDocuments(paths: string[], options: ParseOptions = {}): ManifestDocument[] {
  return manifestFiles(paths).flatMap((file) => parseManifestDocuments(fs.readFileSync(file, 'utf8'), file, options));
}

/**
 * The scheduler's own checks of an Experiment (scheduler/pkg/store/experiment/validate.go, texts
 * from errors.go): the default is a candidate and the baseline of no other experiment, there is a
 * candidate or a mirror, names are unique. That candidates exist is not checked here: Seldon
 * accepts such an Experiment and reports it through its status. `baselines` maps a default
 * model to the experiment that already holds it.
 */
export function experimentRefusal(experiment: Extract<SeldonResource, { kind: 'Experiment' }>, baselines: Map<string, string>): string | undefined {
  const { spec, metadata } = experiment;
  const candidateNames = spec.candidates.map((c) => c.name);
  if (spec.default !== undefined) {
    const other = baselines.get(spec.default);
    if (other !== undefined && other !== metadata.name) return `Resource ${spec.default} already in experiment ${other} as a baseline. Only one experiment can have a given resource as a baseline`;
    if (!candidateNames.includes(spec.default)) return `default model/pipeline ${spec.default} not found in experiment ${metadata.name} candidates`;
  }
  if (candidateNames.length === 0 && !spec.mirror) return `experiment ${metadata.name} has no candidates or mirror`;
  const all = [...candidateNames, ...(spec.mirror ? [spec.mirror.name] : [])];
  const duplicate = all.find((name, i) => all.indexOf(name) !== i);
  if (duplicate !== undefined) return `each candidate and mirror must be unique but found resource ${duplicate} duplicated in experiment ${metadata.name}`;
  return undefined;
}

/** Server capabilities the embedded stack provides: its Python runtime serves the harness's model.json artifacts. */
export const EMBEDDED_CAPABILITIES = ['mlserver', 'python', 'alibi-explain', 'alibi-detect'] as const;

/** The explainer types the embedded MLServer's alibi-explain runtime serves. */
export const EMBEDDED_EXPLAINERS = ['kernel_shap'] as const;

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
      if (spec.explainer) {
        const { type, modelRef, pipelineRef } = spec.explainer;
        if (!(EMBEDDED_EXPLAINERS as readonly (string | undefined)[]).includes(type)) return `Model ${resource.metadata.name}: unsupported field value 'spec.explainer.type: ${type ?? '(none)'}' (the embedded stack serves ${EMBEDDED_EXPLAINERS.join(', ')})`;
        if (pipelineRef !== undefined) return `Model ${resource.metadata.name}: unsupported field 'spec.explainer.pipelineRef' (the embedded stack explains Models only)`;
        if (modelRef === undefined) return `Model ${resource.metadata.name}: unsupported field value 'spec.explainer' without a modelRef (a kernel_shap explainer needs the model it explains)`;
      }
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
