/**
 * Open Inference Protocol v2 inference requests, refused the way MLServer refuses them:
 *
 *  - the request body is checked against MLServer's pydantic model `InferenceRequest`
 *    (MLServer `mlserver/types/dataplane.py`) by FastAPI, so a body that is not JSON, a missing
 *    `inputs`, a datatype outside MLServer's `Datatype` enum or a shape that is not a list of
 *    integers is a **422** with FastAPI's `{"detail": [{type, loc, msg, input}]}` body
 *    (FastAPI `request_validation_exception_handler`, pydantic v2 error types);
 *  - what the body holds is then checked by the model's runtime, which raises an MLServer
 *    `InferenceError` (MLServer `mlserver/errors.py`: HTTP 400), answered as `{"error": "..."}`
 *    by MLServer's `handle_mlserver_error` (MLServer `mlserver/rest/errors.py`).
 *
 * Tensor data are walked without recursion, so no nesting depth sent from outside can overflow the
 * stack; shapes are checked against the data before anything is allocated.
 */
import { z } from 'zod';

/** A refusal raised by the model runtime: an MLServer error with its HTTP status, body `{"error": message}`. */
export class OipError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'OipError';
  }
}

/** One entry of FastAPI's 422 `detail` list, in pydantic v2's shape. */
export interface ValidationDetail {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** FastAPI's request validation error: HTTP 422 with `{"detail": [...]}`. */
export class RequestValidationError extends Error {
  readonly status = 422;
  constructor(readonly detail: ValidationDetail[]) {
    super(detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; '));
    this.name = 'RequestValidationError';
  }
}

/** MLServer's `Datatype` enum (mlserver/types/dataplane.py); BF16 is Triton's, not MLServer's. */
export const OIP_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
const NUMERIC_INPUT_TYPES = new Set(['FP16', 'FP32', 'FP64']);

/** pydantic's lax int: an integer, an integral float, or a string holding an integer. */
const laxInt = z.union([z.number().int(), z.string().regex(/^\s*[+-]?\d+\s*$/).transform(Number)]);
/** MLServer's `Parameters`: extra fields allowed; `content_type` a string, `headers` a mapping. */
const parameters = z.looseObject({ content_type: z.string().nullish(), headers: z.record(z.string(), z.unknown()).nullish() });
const requestSchema = z.object({
  id: z.string().nullish(),
  parameters: parameters.nullish(),
  inputs: z.array(
    z.object({
      name: z.string(),
      shape: z.array(laxInt),
      datatype: z.enum(OIP_DATATYPES),
      parameters: parameters.nullish(),
      data: z.unknown().refine((v) => v !== undefined),
    }),
  ),
  outputs: z.array(z.object({ name: z.string(), parameters: parameters.nullish() })).nullish(),
});
export type InferenceRequest = z.infer<typeof requestSchema>;

const PYDANTIC_TYPES: Record<string, [string, string]> = {
  array: ['list_type', 'Input should be a valid list'],
  string: ['string_type', 'Input should be a valid string'],
  number: ['int_type', 'Input should be a valid integer'],
  object: ['model_attributes_type', 'Input should be a valid dictionary or object to extract fields from'],
};

/** The value at `path` in `root`, or undefined (no recursion: the path comes from the schema). */
function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A short, non-recursive rendering of a refused value, as pydantic echoes it in `input`. */
function echo(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}...` : value;
  return Array.isArray(value) ? `[array of ${value.length}]` : `{object with ${Object.keys(value).length} keys}`;
}

function detailOf(issue: z.core.$ZodIssue, raw: unknown): ValidationDetail {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  const loc = ['body', ...path];
  const input = valueAt(raw, issue.path);
  if (input === undefined) return { type: 'missing', loc, msg: 'Field required', input: echo(valueAt(raw, issue.path.slice(0, -1))) };
  if (issue.code === 'invalid_value') {
    const expected = OIP_DATATYPES.map((d) => `'${d}'`);
    const list = `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]}`;
    return { type: 'enum', loc, msg: `Input should be ${list}`, input: echo(input), ctx: { expected: list } };
  }
  if (issue.code === 'invalid_union' || (issue.code === 'invalid_type' && issue.expected === 'int')) {
    return typeof input === 'string'
      ? { type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: echo(input) }
      : typeof input === 'number'
        ? { type: 'int_from_float', loc, msg: 'Input should be a valid integer, got a number with a fractional part', input }
        : { type: 'int_type', loc, msg: 'Input should be a valid integer', input: echo(input) };
  }
  if (issue.code === 'invalid_type') {
    const [type, msg] = PYDANTIC_TYPES[issue.expected] ?? ['value_error', issue.message];
    return { type, loc, msg, input: echo(input) };
  }
  return { type: 'value_error', loc, msg: issue.message, input: echo(input) };
}

/**
 * Parse a request body as FastAPI and pydantic do for MLServer's infer endpoint. `contentType`
 * follows FastAPI: a body is read as JSON when the header is absent or `application/json` (or
 * `+json`); any other media type leaves the raw bytes, which the model then refuses.
 */
export function parseInferenceRequest(body: string, contentType?: string): InferenceRequest {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase();
  if (mediaType && !(mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json')))) {
    throw new RequestValidationError([
      { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: echo(body) },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    throw new RequestValidationError([
      { type: 'json_invalid', loc: ['body', position ? Number(position[1]) : 0], msg: 'JSON decode error', input: {}, ctx: { error: (error as Error).message } },
    ]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RequestValidationError([
      { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: echo(raw) },
    ]);
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) throw new RequestValidationError(parsed.error.issues.map((issue) => detailOf(issue, raw)));
  return parsed.data;
}

/**
 * The values of a row-major tensor, flat or nested to the tensor's rank, without recursion. Nested
 * data must follow the shape exactly (no ragged rows, no deeper nesting than the rank).
 */
function tensorValues(name: string, data: unknown, shape: number[]): unknown[] {
  if (!Array.isArray(data)) throw new OipError(400, `input '${name}' data must be a list`);
  const values: unknown[] = [];
  // Each entry: an array, its depth (0 = the tensor itself), and the next index to read.
  const stack: { items: unknown[]; depth: number; next: number }[] = [{ items: data, depth: 0, next: 0 }];
  const nested = data.some((item) => Array.isArray(item));
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next === 0 && nested && top.items.length !== shape[top.depth]) {
      throw new OipError(400, `input '${name}' has ${top.items.length} entries at depth ${top.depth}; shape [${shape.join(', ')}] needs ${shape[top.depth]}`);
    }
    if (top.next >= top.items.length) {
      stack.pop();
      continue;
    }
    const item = top.items[top.next++];
    if (Array.isArray(item)) {
      if (!nested || top.depth + 1 >= shape.length) throw new OipError(400, `input '${name}' is nested deeper than its shape [${shape.join(', ')}]`);
      stack.push({ items: item, depth: top.depth + 1, next: 0 });
    } else {
      if (nested && top.depth !== shape.length - 1) throw new OipError(400, `input '${name}' mixes values and lists at depth ${top.depth}`);
      values.push(item);
    }
  }
  return values;
}

/** The rows of the single numeric input tensor, each `width` features wide (the model runtime's checks). */
export function featureRows(request: InferenceRequest, width: number): number[][] {
  if (request.inputs.length !== 1) {
    throw new OipError(400, `expected exactly one input tensor, got ${request.inputs.length}`);
  }
  const input = request.inputs[0];
  if (!NUMERIC_INPUT_TYPES.has(input.datatype)) {
    throw new OipError(400, `input '${input.name}' has datatype ${input.datatype}; expected FP32 or FP64`);
  }
  const shape = input.shape.length === 1 ? [1, input.shape[0]] : input.shape;
  if (shape.length !== 2 || shape[1] !== width || shape[0] < 1) {
    throw new OipError(400, `input '${input.name}' has shape [${input.shape.join(', ')}]; expected [n, ${width}] with n >= 1`);
  }
  const declared = shape[0] * shape[1];
  if (!Array.isArray(input.data) || (!input.data.some(Array.isArray) && input.data.length !== declared)) {
    const count = Array.isArray(input.data) ? input.data.length : 0;
    throw new OipError(400, `input '${input.name}' holds ${count} values; shape [${shape.join(', ')}] needs ${declared}`);
  }
  const values = tensorValues(input.name, input.data, input.shape.length === 1 ? [shape[1]] : shape);
  if (values.length !== declared) {
    throw new OipError(400, `input '${input.name}' holds ${values.length} values; shape [${shape.join(', ')}] needs ${declared}`);
  }
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) {
    throw new OipError(400, `input '${input.name}' value ${bad} is ${JSON.stringify(echo(values[bad]))}; expected a finite number`);
  }
  const numbers = values as number[];
  return Array.from({ length: shape[0] }, (_, i) => numbers.slice(i * width, (i + 1) * width));
}

/** One number from each named tensor (a router's context: `volatility`, `trend`), in `names`' order; a missing or malformed one is a 400 naming it. */
export function contextValues(request: InferenceRequest, names: string[]): number[] {
  return names.map((name) => {
    const input = request.inputs.find((i) => i.name === name);
    if (!input) throw new OipError(400, `missing input tensor '${name}' (the router reads ${names.map((n) => `'${n}'`).join(' and ')}; got ${request.inputs.map((i) => `'${i.name}'`).join(', ') || 'none'})`);
    if (!NUMERIC_INPUT_TYPES.has(input.datatype)) throw new OipError(400, `input '${name}' has datatype ${input.datatype}; expected FP32 or FP64`);
    const values = tensorValues(name, input.data, input.shape);
    if (values.length !== 1 || typeof values[0] !== 'number' || !Number.isFinite(values[0])) throw new OipError(400, `input '${name}' must hold one finite number, got ${JSON.stringify(echo(values.slice(0, 3)))}`);
    return values[0] as number;
  });
}
