/**
 * CustomResourceDefinitions for Seldon Core v2's Model, Experiment and Pipeline, generated from the
 * project's own schema of their specs (stack/manifests.ts, the one the embedded stack validates
 * with), for a Kubernetes API server that has no Seldon installed (`npm run cluster`). Same group,
 * version, kinds, names and field names as Seldon's CRDs; the JSON Schema zod writes is made
 * structural the way Kubernetes requires (no `additionalProperties: false`, int-or-string for
 * quantities, `format: int32` for 32-bit integers). `status` is kept as written by the control
 * plane (x-kubernetes-preserve-unknown-fields) behind the status subresource.
 */
import { z } from 'zod';
import { experimentSpecSchema, modelSpecSchema, pipelineSpecSchema, SELDON_GROUP as GROUP, SELDON_PLURALS, SELDON_VERSION as VERSION } from '../../stack/manifests.ts';

type JsonSchema = Record<string, unknown>;

const INT32 = [-2147483648, 2147483647];
const UINT32_MAX = 4294967295;
const SAFE = Number.MAX_SAFE_INTEGER;

/** Zod's OpenAPI 3.0 output made a Kubernetes structural schema. */
export function structural(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === '$schema') continue;
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, structural(v)]));
    else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) out[key] = structural(value as JsonSchema);
    else out[key] = value;
  }
  const anyOf = out.anyOf as JsonSchema[] | undefined;
  if (anyOf && anyOf.length === 2 && anyOf.some((s) => s.type === 'string') && anyOf.some((s) => s.type === 'integer')) {
    // a Kubernetes quantity: a string with the pattern, or an integer
    const pattern = anyOf.find((s) => s.type === 'string')?.pattern;
    delete out.anyOf;
    return { ...out, anyOf: [{ type: 'integer' }, { type: 'string' }], ...(pattern ? { pattern } : {}), 'x-kubernetes-int-or-string': true };
  }
  if (out.type === 'integer') {
    if (out.minimum === INT32[0] && out.maximum === INT32[1]) return { ...without(out, 'minimum', 'maximum'), format: 'int32' };
    // Go's uint32, which Seldon's generator also writes as int32
    if (out.minimum === 0 && out.maximum === UINT32_MAX) return { ...without(out, 'maximum'), format: 'int32' };
    if (out.minimum === -SAFE && out.maximum === SAFE) return without(out, 'minimum', 'maximum');
  }
  return out;
}

function without(schema: JsonSchema, ...keys: string[]): JsonSchema {
  return Object.fromEntries(Object.entries(schema).filter(([k]) => !keys.includes(k)));
}

/** A column `kubectl get` shows: Seldon's columns, so a listing reads the same on a cluster. */
interface PrinterColumn {
  name: string;
  jsonPath: string;
  type: 'string' | 'integer' | 'date';
  priority?: number;
  description?: string;
}

const condition = (type: string, field = 'status', quote = "'"): string => `.status.conditions[?(@.type==${quote}${type}${quote})].${field}`;
const AGE: PrinterColumn = { name: 'Age', jsonPath: '.metadata.creationTimestamp', type: 'date' };

const COLUMNS: Record<'Model' | 'Experiment' | 'Pipeline', PrinterColumn[]> = {
  Model: [
    { name: 'Ready', jsonPath: condition('ModelReady', 'status', '"'), type: 'string', description: 'the ModelReady condition' },
    { name: 'Desired Replicas', jsonPath: '.spec.replicas', type: 'integer', description: 'replicas asked for' },
    { name: 'Available Replicas', jsonPath: '.status.availableReplicas', type: 'integer', description: 'replicas serving' },
    { name: 'ModelGw Ready', jsonPath: '.status.modelgwReady', type: 'string', description: "the model gateway's readiness" },
    AGE,
  ],
  Experiment: [
    { name: 'Experiment ready', jsonPath: condition('ExperimentReady'), type: 'string', description: 'the ExperimentReady condition' },
    { name: 'Candidates ready', jsonPath: condition('CandidatesReady'), type: 'string', priority: 1, description: 'the CandidatesReady condition' },
    { name: 'Mirror ready', jsonPath: condition('MirrorReady'), type: 'string', priority: 1, description: 'the MirrorReady condition' },
    { name: 'Message', jsonPath: condition('Ready', 'message'), type: 'string', description: "the Ready condition's message" },
    AGE,
  ],
  Pipeline: [
    { name: 'Pipeline ready', jsonPath: condition('Ready'), type: 'string', description: 'the Ready condition' },
    { name: 'Models ready', jsonPath: condition('ModelsReady'), type: 'string', priority: 1, description: 'the ModelsReady condition' },
    { name: 'PipelineGw ready', jsonPath: condition('PipelineGwReady'), type: 'string', priority: 1, description: "the pipeline gateway's readiness" },
    { name: 'Dataflow ready', jsonPath: condition('PipelineReady'), type: 'string', priority: 1, description: 'the PipelineReady condition' },
    { name: 'Message', jsonPath: condition('Ready', 'message'), type: 'string', description: "the Ready condition's message" },
    AGE,
  ],
};

const KINDS = [
  // Models scale like Deployments (the scale subresource reads replicas from spec and status)
  { kind: 'Model', plural: SELDON_PLURALS.Model, singular: 'model', shortName: 'mlm', spec: modelSpecSchema, scale: { labelSelectorPath: '.status.selector', specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
  { kind: 'Experiment', plural: SELDON_PLURALS.Experiment, singular: 'experiment', shortName: 'mlx', spec: experimentSpecSchema },
  { kind: 'Pipeline', plural: SELDON_PLURALS.Pipeline, singular: 'pipeline', shortName: 'mlp', spec: pipelineSpecSchema },
] as const;

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
}

/** The three CRDs, in the order they are installed. */
export function seldonCrds(): CustomResourceDefinition[] {
  return KINDS.map((k) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${GROUP}`, labels: { 'app.kubernetes.io/managed-by': 'financial-mlops-uat' } },
    spec: {
      group: GROUP,
      names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.singular, shortNames: [k.shortName] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: 'scale' in k ? { scale: k.scale, status: {} } : { status: {} },
          additionalPrinterColumns: COLUMNS[k.kind],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: structural(z.toJSONSchema(k.spec, { target: 'openapi-3.0' }) as JsonSchema),
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  }));
}
