/**
 * What one model predicts for feature rows, asked through OIP and pinned to that model even when
 * it is an experiment's default (whose route it shares with the other candidates).
 */
import { featuresRequest, predictOutput, routedModel, type OipClient } from './oip-client.ts';

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
export async function servedPredictions(oip: OipClient, model: string, rows: number[][]): Promise<number[]> {
  const pin = await stickyHeaders(oip, model, rows[0]);
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const batch = rows.slice(i, i + BATCH_ROWS);
    const response = await oip.infer(model, featuresRequest(batch), { headers: pin });
    if (routedModel(response.route) !== model) throw new Error(`a batch of rows for ${model} was answered by ${routedModel(response.route) ?? 'an unknown route'}`);
    const predictions = predictOutput(response.body);
    if (response.status !== 200 || !predictions || predictions.length !== batch.length) {
      throw new Error(`${model} answered ${response.status} to a batch of ${batch.length} rows: ${JSON.stringify(response.body).slice(0, 200)}`);
    }
    out.push(...predictions);
  }
  return out;
}

