/**
 * A Seldon Core v2 Pipeline run synchronously, as the pipeline gateway answers
 * `POST /v2/pipelines/<name>/infer`: the request's tensors are the pipeline's inputs
 * (`<pipeline>.inputs[.<tensor>]`); each step is a Model called with the tensors its `inputs` name
 * (default: the pipeline's inputs), renamed by its `tensorMap`, once its inputs are joined
 * (`inputsJoinType`: inner = all, any/outer = at least one) and its `triggers` are present
 * (`triggersJoinType`; a trigger gates a step without passing its data); a step whose inputs or
 * triggers are not there does not run, as a Kafka join that never completes. The answer is the
 * `output.steps` (steps, or `<step>.outputs.<tensor>`; default: the last step) joined by
 * `stepsJoin` (inner = all produced, any = the first listed that was, outer = those that were),
 * renamed by `output.tensorMap`.
 *
 * A step with `batch.size` N (a drift detector's branch) collects the tensors of N requests and is
 * then called once with them concatenated along the first dimension; it runs apart from the
 * request that completed its batch (its answer goes to its Model's output topic, as in Kafka), so
 * nothing may read it: no other step and no `output.steps`.
 *
 * Supported: steps[].name, inputs, tensorMap, triggers, inputsJoinType, triggersJoinType,
 * batch.size; output.steps, stepsJoin, tensorMap. Anything else (batch windows and rolling
 * batches, join windows, external inputs of other pipelines, cycles) is named by
 * `unsupportedPipelineFields` and the Pipeline is not served.
 */
import type { PipelineSpec } from './manifests.ts';

export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown;
  parameters?: Record<string, unknown>;
}

/** A step's Model answered with outputs, or refused with an HTTP status and its error message. */
export type StepAnswer = { outputs: Tensor[]; parameters?: Record<string, unknown> } | { status: number; error: string };

export interface PipelineRun {
  outputs: Tensor[];
  /** The steps that ran, in the order they ran. */
  steps: string[];
}

/**
 * Where batched steps collect their requests' tensors: `add` keeps this request's and, when the
 * step's batch is full, hands back the batch (the tensors concatenated) and starts a new one.
 */
export interface StepBatches {
  add(step: string, size: number, tensors: Tensor[]): Tensor[] | undefined;
}

/** Tensors of several requests joined by name along the first dimension, as Seldon's batcher joins them. */
export function concatenateTensors(requests: Tensor[][]): Tensor[] {
  const names = [...new Set(requests.flatMap((r) => r.map((t) => t.name)))];
  return names.map((name) => {
    const parts = requests.map((r) => r.find((t) => t.name === name)).filter((t): t is Tensor => t !== undefined);
    const first = parts[0];
    const rowsOf = (t: Tensor): number => (t.shape.length > 1 ? t.shape[0] : 1);
    const width = first.shape.length > 1 ? first.shape.slice(1) : first.shape;
    const data = parts.flatMap((t) => (Array.isArray(t.data) ? (t.data as unknown[]).flat(Infinity) : []));
    return { name, datatype: first.datatype, shape: [parts.reduce((sum, t) => sum + rowsOf(t), 0), ...width], data };
  });
}

/** In-memory batches, one per pipeline step. */
export function memoryBatches(): StepBatches {
  const open = new Map<string, Tensor[][]>();
  return {
    add(step, size, tensors) {
      const batch = [...(open.get(step) ?? []), tensors];
      if (batch.length < size) {
        open.set(step, batch);
        return undefined;
      }
      open.delete(step);
      return concatenateTensors(batch);
    },
  };
}

/** Why the pipeline gave no answer: the client's request (4xx) or a step (its status). */
export class PipelineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SUPPORTED_STEP_FIELDS = new Set(['name', 'inputs', 'tensorMap', 'triggers', 'inputsJoinType', 'triggersJoinType', 'batch']);
const SUPPORTED_OUTPUT_FIELDS = new Set(['steps', 'stepsJoin', 'tensorMap']);

interface Ref {
  /** The pipeline's name or a step's. */
  of: string;
  side: 'inputs' | 'outputs';
  tensor?: string;
  text: string;
}

/** `<step|pipeline>[.<inputs|outputs>[.<tensor>]]`; a bare name is its outputs. Names may hold dots: the longest known one wins. */
function parseRef(text: string, pipeline: string, steps: string[]): Ref | undefined {
  const names = [pipeline, ...steps].sort((a, b) => b.length - a.length);
  for (const name of names) {
    if (text === name) return name === pipeline ? undefined : { of: name, side: 'outputs', text };
    if (!text.startsWith(`${name}.`)) continue;
    const [side, ...tensor] = text.slice(name.length + 1).split('.');
    if (side !== 'inputs' && side !== 'outputs') continue;
    if (name === pipeline && side === 'outputs') return undefined;
    return { of: name, side, tensor: tensor.length > 0 ? tensor.join('.') : undefined, text };
  }
  return undefined;
}

/** The fields of a Pipeline spec this gateway does not run, each named by its path; empty when it runs all of it. */
export function unsupportedPipelineFields(spec: PipelineSpec): string[] {
  const out: string[] = [];
  spec.steps.forEach((step, i) => {
    for (const key of Object.keys(step)) if (!SUPPORTED_STEP_FIELDS.has(key)) out.push(`spec.steps[${i}].${key}`);
    for (const key of Object.keys(step.batch ?? {})) if (key !== 'size') out.push(`spec.steps[${i}].batch.${key}`);
  });
  for (const key of Object.keys(spec.output ?? {})) if (!SUPPORTED_OUTPUT_FIELDS.has(key)) out.push(`spec.output.${key}`);
  for (const key of Object.keys(spec)) if (!['steps', 'output'].includes(key)) out.push(`spec.${key}`);
  return out;
}

/** What is wrong with the graph itself (a reference to nothing, a cycle), or undefined. */
export function pipelineGraphProblem(name: string, spec: PipelineSpec): string | undefined {
  const steps = spec.steps.map((s) => s.name);
  const duplicate = steps.find((s, i) => steps.indexOf(s) !== i);
  if (duplicate) return `step ${duplicate} is defined twice`;
  for (const step of spec.steps) {
    for (const text of [...(step.inputs ?? []), ...(step.triggers ?? [])]) {
      if (!parseRef(text, name, steps)) return `step ${step.name}: '${text}' names no step of pipeline ${name} nor its inputs`;
    }
  }
  for (const text of spec.output?.steps ?? []) {
    const ref = parseRef(text, name, steps);
    if (!ref || ref.of === name) return `output: '${text}' names no step of pipeline ${name}`;
  }
  const batched = spec.steps.filter((s) => s.batch !== undefined);
  for (const step of batched) {
    if (!step.batch?.size || step.batch.size < 1) return `step ${step.name}: batch.size must be a whole number of at least 1`;
    const reader = spec.steps.find((s) => dependencies(name, spec, s).includes(step.name));
    if (reader) return `step ${reader.name} reads the batched step ${step.name}: a batched step's answer goes to its topic only`;
    const output = (spec.output?.steps ?? [steps[steps.length - 1]]).find((t) => parseRef(t, name, steps)?.of === step.name);
    if (output) return `output: '${output}' names the batched step ${step.name}: a batched step's answer goes to its topic only`;
  }
  try {
    order(name, spec);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

const dependencies = (name: string, spec: PipelineSpec, step: PipelineSpec['steps'][number]): string[] =>
  [...(step.inputs ?? []), ...(step.triggers ?? [])]
    .map((t) => parseRef(t, name, spec.steps.map((s) => s.name)))
    .filter((r): r is Ref => r !== undefined && r.of !== name)
    .map((r) => r.of);

/** The steps in an order where each comes after those it reads; a cycle is refused. */
function order(name: string, spec: PipelineSpec): PipelineSpec['steps'] {
  const done = new Set<string>();
  const out: PipelineSpec['steps'] = [];
  while (out.length < spec.steps.length) {
    const next = spec.steps.find((s) => !done.has(s.name) && dependencies(name, spec, s).every((d) => done.has(d)));
    if (!next) throw new Error(`the steps ${spec.steps.filter((s) => !done.has(s.name)).map((s) => s.name).join(', ')} form a cycle (allowCycles is not supported)`);
    done.add(next.name);
    out.push(next);
  }
  return out;
}

/**
 * Run the pipeline `name` on the request's tensors; `call` asks a step's Model. A pipeline input a
 * step needs and the request lacks is the client's error (400), as is a step's own 4xx.
 */
export async function runPipeline(
  name: string,
  spec: PipelineSpec,
  inputs: Tensor[],
  call: (model: string, inputs: Tensor[]) => Promise<StepAnswer>,
  batched?: { batches: StepBatches; run: (step: string, tensors: Tensor[]) => void },
): Promise<PipelineRun> {
  const stepNames = spec.steps.map((s) => s.name);
  const seen = new Map<string, Tensor[]>([[`${name}.inputs`, inputs]]);
  const ran: string[] = [];
  /** The tensors a reference names now: empty when its step did not run or has no such tensor. */
  const resolve = (ref: Ref): Tensor[] => {
    const all = seen.get(`${ref.of}.${ref.side}`) ?? [];
    return ref.tensor === undefined ? all : all.filter((t) => t.name === ref.tensor);
  };
  for (const step of order(name, spec)) {
    const refs = (step.inputs ?? [`${name}.inputs`]).map((t) => parseRef(t, name, stepNames)!);
    const triggers = (step.triggers ?? []).map((t) => parseRef(t, name, stepNames)!);
    const found = refs.map(resolve);
    const inner = (step.inputsJoinType ?? 'inner') === 'inner';
    if (inner) {
      const missing = refs.find((r, i) => r.of === name && found[i].length === 0);
      if (missing) throw new PipelineError(400, `pipeline ${name} needs the input tensor '${missing.tensor ?? '(any)'}' (step ${step.name} reads ${missing.text}); the request has ${inputs.map((t) => `'${t.name}'`).join(', ') || 'no tensors'}`);
    }
    const joined = inner ? found.every((f) => f.length > 0) : found.some((f) => f.length > 0);
    const fired = triggers.length === 0 || ((step.triggersJoinType ?? 'inner') === 'inner' ? triggers.every((t) => resolve(t).length > 0) : triggers.some((t) => resolve(t).length > 0));
    if (!joined || !fired) continue;
    const given = refs.flatMap((r, i) => found[i].map((t) => ({ ...t, name: step.tensorMap?.[`${r.of}.${r.side}.${t.name}`] ?? step.tensorMap?.[r.text] ?? t.name })));
    seen.set(`${step.name}.inputs`, given);
    if (step.batch?.size) {
      const batch = batched?.batches.add(`${name}/${step.name}`, step.batch.size, given);
      if (batch) batched!.run(step.name, batch);
      continue;
    }
    const answer = await call(step.name, given);
    if ('error' in answer) throw new PipelineError(answer.status, `step ${step.name} of pipeline ${name}: ${answer.error}`);
    seen.set(`${step.name}.outputs`, answer.outputs);
    ran.push(step.name);
  }
  // output.steps: steps (their outputs) or one tensor of a step (`<step>.outputs.<tensor>`)
  const wanted = (spec.output?.steps ?? [stepNames[stepNames.length - 1]]).map((t) => parseRef(t, name, stepNames)!);
  const join = spec.output?.stepsJoin ?? 'inner';
  const produced = wanted.filter((r) => resolve(r).length > 0);
  const chosen = join === 'any' ? produced.slice(0, 1) : produced;
  if (chosen.length === 0 || (join === 'inner' && produced.length < wanted.length)) {
    throw new PipelineError(500, `pipeline ${name} produced no output: ${wanted.filter((r) => !produced.includes(r)).map((r) => r.text).join(', ')} not produced (stepsJoin ${join}; steps run: ${ran.join(', ') || 'none'})`);
  }
  const outputs = chosen.flatMap((r) => resolve(r).map((t) => ({ ...t, name: spec.output?.tensorMap?.[`${r.of}.outputs.${t.name}`] ?? t.name })));
  return { outputs, steps: ran };
}
