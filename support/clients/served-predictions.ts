/**
 * What one model predicts for feature rows, asked through OIP and pinned to that model even when
 * it is an experiment's default (whose route it shares with the other candidates).
 */
import { featuresRequest, routedModel, type OipClient } from './oip-client.ts';

const BATCH_ROWS = 64;

/**
 * Headers that make every request for `model` reach that model. A model that is an experiment's
 * default shares its route with the other candidates; there Seldon honours a sticky
 * `x-seldon-route` (the value of an answer the model gave). A route with one candidate has no
 * sticky routes and refuses the header (404), so none is sent.
 */
async function stickyHeaders(oip: OipClient, model: string, row: number[]): Promise<Record<string, string>> {
  let route: string | null = null;
  for (let i = 0; i < 50 && route === null; i++) {
    const answer = await oip.infer(model, featuresRequest([row]));
    if (answer.status !== 200) throw new Error(`${model} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    if (routedModel(answer.route) === model) route = answer.route;
  }
  if (route === null) throw new Error(`50 requests to ${model} were all answered by other models`);
  const pinned = await oip.infer(model, featuresRequest([row]), { headers: { 'x-seldon-route': route } });
  return pinned.status === 404 ? {} : { 'x-seldon-route': route };
}

/** What `model` predicts for each row, asked through OIP in batches and pinned to that model; fails on any other answer. */
export function servedPredictions(oip: OipClient, model: string, rows: number[][]): Promise<number[]> {
  return servedOutput(oip, model, rows, 'predict');
}

/** The probability of an up day `model` gives each row (its `predict_proba` output, second column), asked as servedPredictions asks. */
export function servedProbabilities(oip: OipClient, model: string, rows: number[][]): Promise<number[]> {
  return servedOutput(oip, model, rows, 'predict_proba');
}

async function servedOutput(oip: OipClient, model: string, rows: number[][], output: 'predict' | 'predict_proba'): Promise<number[]> {
  const pin = await stickyHeaders(oip, model, rows[0]);
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const batch = rows.slice(i, i + BATCH_ROWS);
    const request = output === 'predict' ? featuresRequest(batch) : { ...featuresRequest(batch), outputs: [{ name: output }] };
    const response = await oip.infer(model, request, { headers: pin });
    if (routedModel(response.route) !== model) throw new Error(`a batch of rows for ${model} was answered by ${routedModel(response.route) ?? 'an unknown route'}`);
    const data = (response.body as { outputs?: { name: string; data: number[] }[] } | undefined)?.outputs?.find((o) => o.name === output)?.data;
    const width = output === 'predict' ? 1 : 2;
    if (response.status !== 200 || !data || data.length !== batch.length * width) {
      throw new Error(`${model} answered ${response.status} to a batch of ${batch.length} rows asking for ${output}: ${JSON.stringify(response.body).slice(0, 200)}`);
    }
    out.push(...(width === 1 ? data : batch.map((_, r) => data[2 * r + 1])));
  }
  return out;
}
