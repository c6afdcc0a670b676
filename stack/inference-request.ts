/**
 * Open Inference Protocol v2 inference requests: shape checks and conversion of the input tensor
 * into feature rows. Every failure is an OipError carrying the HTTP status and the message that
 * goes into the `{"error": ...}` body.
 */
import { z } from 'zod';

export class OipError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'OipError';
  }
}

export const OIP_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'BF16'] as const;
const NUMERIC_INPUT_TYPES = new Set(['FP16', 'FP32', 'FP64', 'BF16']);

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
type NestedData = unknown[];
const requestSchema = z
  .object({
    id: z.string().optional(),
    parameters: parameters.optional(),
    inputs: z
      .array(
        z.object({
          name: z.string().min(1),
          shape: z.array(z.number().int().nonnegative()),
          datatype: z.enum(OIP_DATATYPES),
          parameters: parameters.optional(),
          data: z.array(z.unknown()) as z.ZodType<NestedData>,
        }),
      )
      .min(1, 'inputs must hold at least one tensor'),
    outputs: z.array(z.object({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
  });
export type InferenceRequest = z.infer<typeof requestSchema>;

export function parseInferenceRequest(body: string): InferenceRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    throw new OipError(400, `invalid JSON body: ${(error as Error).message}`);
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length > 0 ? `field '${issue.path.join('.')}': ` : '';
    throw new OipError(400, `invalid inference request: ${at}${issue.message}`);
  }
  return parsed.data;
}

function flatten(data: unknown[]): unknown[] {
  return data.flatMap((item) => (Array.isArray(item) ? flatten(item) : [item]));
}

/** The rows of the single numeric input tensor, each `width` features wide. */
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
  const values = flatten(input.data);
  if (values.length !== shape[0] * shape[1]) {
    throw new OipError(400, `input '${input.name}' holds ${values.length} values; shape [${shape.join(', ')}] needs ${shape[0] * shape[1]}`);
  }
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) {
    throw new OipError(400, `input '${input.name}' value ${bad} is ${JSON.stringify(values[bad])}; expected a finite number`);
  }
  const numbers = values as number[];
  return Array.from({ length: shape[0] }, (_, i) => numbers.slice(i * width, (i + 1) * width));
}
