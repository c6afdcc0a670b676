import assert from 'node:assert/strict';
import { test } from 'node:test';
import { featureRows, OipError, parseInferenceRequest, RequestValidationError } from '../stack/inference-request.ts';

const req = (input: Record<string, unknown>): string => JSON.stringify({ inputs: [{ name: 'features', shape: [2, 3], datatype: 'FP64', data: [1, 2, 3, 4, 5, 6], ...input }] });

test('a well-formed request gives its rows, flat or nested data alike', () => {
  assert.deepEqual(featureRows(parseInferenceRequest(req({})), 3), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(featureRows(parseInferenceRequest(req({ data: [[1, 2, 3], [4, 5, 6]] })), 3), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(featureRows(parseInferenceRequest(req({ shape: [3], data: [7, 8, 9] })), 3), [[7, 8, 9]]);
});

/** FastAPI's 422 for MLServer's pydantic InferenceRequest (mlserver/types/dataplane.py, fastapi routing.py / exception_handlers.py). */
const invalid = (fn: () => unknown, type: string, loc: (string | number)[]): void => {
  assert.throws(fn, (e: unknown) => e instanceof RequestValidationError && e.status === 422 && e.detail.some((d) => d.type === type && JSON.stringify(d.loc) === JSON.stringify(loc) && d.msg.length > 0));
};

test('a body MLServer cannot validate is a 422 with FastAPI detail entries in pydantic v2 shape', () => {
  invalid(() => parseInferenceRequest('{"inputs": ['), 'json_invalid', ['body', 0]);
  invalid(() => parseInferenceRequest('{}'), 'missing', ['body', 'inputs']);
  invalid(() => parseInferenceRequest('[1]'), 'model_attributes_type', ['body']);
  invalid(() => parseInferenceRequest(req({ datatype: 'FLOAT' })), 'enum', ['body', 'inputs', 0, 'datatype']);
  invalid(() => parseInferenceRequest(req({ datatype: 'BF16' })), 'enum', ['body', 'inputs', 0, 'datatype']);
  invalid(() => parseInferenceRequest(req({ shape: 'x' })), 'list_type', ['body', 'inputs', 0, 'shape']);
  invalid(() => parseInferenceRequest(req({ shape: [1.5, 3] })), 'int_from_float', ['body', 'inputs', 0, 'shape', 0]);
  invalid(() => parseInferenceRequest(req({ shape: ['a', 3] })), 'int_parsing', ['body', 'inputs', 0, 'shape', 0]);
  invalid(() => parseInferenceRequest(req({}), 'text/plain'), 'model_attributes_type', ['body']);
  // The MLServer test suite's own message for an unknown datatype (tests/conftest.py datatype_error_message).
  assert.throws(() => parseInferenceRequest(req({ datatype: 'INT322' })), (e: unknown) => e instanceof RequestValidationError && e.detail[0].msg === "Input should be 'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64' or 'BYTES'");
  // pydantic's lax mode accepts integral strings in a shape.
  assert.deepEqual(featureRows(parseInferenceRequest(req({ shape: ['2', 3] }), 'application/json; charset=utf-8'), 3), [[1, 2, 3], [4, 5, 6]]);
});

const refused = (fn: () => unknown, status: number, message: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof OipError && e.status === status && message.test(e.message));
};

test("what the model's runtime refuses is an MLServer InferenceError (mlserver/errors.py: 400) with a message that says what is wrong", () => {
  refused(() => featureRows(parseInferenceRequest('{"inputs": []}'), 3), 400, /exactly one input tensor, got 0/);
  refused(() => featureRows(parseInferenceRequest(req({ shape: [-1, 3] })), 3), 400, /shape \[-1, 3\]/);
  refused(() => featureRows(parseInferenceRequest(req({ shape: [2, 4] })), 3), 400, /expected \[n, 3\]/);
  refused(() => featureRows(parseInferenceRequest(req({ shape: [3, 3] })), 3), 400, /holds 6 values; shape \[3, 3\] needs 9/);
  refused(() => featureRows(parseInferenceRequest(req({ datatype: 'INT64' })), 3), 400, /datatype INT64/);
  refused(() => featureRows(parseInferenceRequest(req({ data: [1, 2, 'x', 4, 5, 6] })), 3), 400, /value 2 is "x"/);
  refused(() => featureRows(parseInferenceRequest(req({ data: [[1, 2, 3, 4], [5, 6]] })), 3), 400, /4 entries at depth 1/);
  refused(() => featureRows(parseInferenceRequest(req({ shape: [1000000000, 3] })), 3), 400, /needs 3000000000/);
});

test('tensor data nested far deeper than any shape is refused without recursion', () => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const body = `{"inputs":[{"name":"f","shape":[2,3],"datatype":"FP64","data":[${deep}]}]}`;
  refused(() => featureRows(parseInferenceRequest(body), 3), 400, /nested deeper than its shape|entries at depth/);
});
