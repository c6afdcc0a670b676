import assert from 'node:assert/strict';
import { test } from 'node:test';
import { featureRows, OipError, parseInferenceRequest } from '../stack/inference-request.ts';

const req = (input: Record<string, unknown>): string => JSON.stringify({ inputs: [{ name: 'features', shape: [2, 3], datatype: 'FP64', data: [1, 2, 3, 4, 5, 6], ...input }] });

test('a well-formed request gives its rows, flat or nested data alike', () => {
  assert.deepEqual(featureRows(parseInferenceRequest(req({})), 3), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(featureRows(parseInferenceRequest(req({ data: [[1, 2, 3], [4, 5, 6]] })), 3), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(featureRows(parseInferenceRequest(req({ shape: [3], data: [7, 8, 9] })), 3), [[7, 8, 9]]);
});

const refused = (fn: () => unknown, status: number, message: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof OipError && e.status === status && message.test(e.message));
};

test('malformed requests are refused with 400 and a message that says what is wrong', () => {
  refused(() => parseInferenceRequest('{"inputs": ['), 400, /invalid JSON body/);
  refused(() => parseInferenceRequest('{}'), 400, /field 'inputs'/);
  refused(() => parseInferenceRequest('{"inputs": []}'), 400, /at least one tensor/);
  refused(() => parseInferenceRequest(req({ datatype: 'FLOAT' })), 400, /field 'inputs.0.datatype'/);
  refused(() => parseInferenceRequest(req({ shape: [-1, 3] })), 400, /field 'inputs.0.shape.0'/);
  refused(() => featureRows(parseInferenceRequest(req({ shape: [2, 4] })), 3), 400, /expected \[n, 3\]/);
  refused(() => featureRows(parseInferenceRequest(req({ shape: [3, 3] })), 3), 400, /holds 6 values; shape \[3, 3\] needs 9/);
  refused(() => featureRows(parseInferenceRequest(req({ datatype: 'INT64' })), 3), 400, /datatype INT64/);
  refused(() => featureRows(parseInferenceRequest(req({ data: [1, 2, 'x', 4, 5, 6] })), 3), 400, /value 2 is "x"/);
});
