/**
 * MLflow -> Seldon: the accuracy logged for each training run is the accuracy its served model has
 * on the held-out days, recomputed through the inference endpoint.
 */
import { marketDataFor } from '../../fixtures/train-predictors.ts';
import { featuresRequest, routedModel } from '../clients/oip-client.ts';
import type { UatWorld } from '../world.ts';

const BATCH_ROWS = 64;

export interface ServedAccuracy {
  model: string;
  logged: number;
  served: number;
  rows: number;
  runUuid: string;
}

export async function readLoggedRuns(world: UatWorld): Promise<void> {
  const runs = await world.store.latestAccuracies(world.run.config.mlflowExperiment, world.target.uatRunId);
  const expected = world.target.published.map((p) => p.name).sort();
  const found = runs.map((r) => r.model).sort();
  if (JSON.stringify(found) !== JSON.stringify(expected)) {
    throw new Error(`the MLflow store holds accuracy runs for [${found.join(', ')}] in this release, expected [${expected.join(', ')}]`);
  }
  world.mlflow.loggedRuns = runs;
}

/**
 * Headers that make every request for `model` reach that model. A model that is an experiment's
 * default shares its route with the other candidates; there Seldon honours a sticky
 * `x-seldon-route` (the value of an answer the model gave). A route with one candidate has no
 * sticky routes and refuses the header (404), so none is sent.
 */
async function stickyHeaders(world: UatWorld, model: string, row: number[]): Promise<Record<string, string>> {
  let route: string | null = null;
  for (let i = 0; i < 50 && route === null; i++) {
    const answer = await world.oip.infer(model, featuresRequest([row]));
    if (answer.status !== 200) throw new Error(`${model} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    if (routedModel(answer.route) === model) route = answer.route;
  }
  if (route === null) throw new Error(`50 requests to ${model} were all answered by other models`);
  const pinned = await world.oip.infer(model, featuresRequest([row]), { headers: { 'x-seldon-route': route } });
  return pinned.status === 404 ? {} : { 'x-seldon-route': route };
}

/** What `model` predicts for each row, asked through OIP in batches and pinned to that model; fails on any other answer. */
export async function servedPredictions(world: UatWorld, model: string, rows: number[][]): Promise<number[]> {
  const pin = await stickyHeaders(world, model, rows[0]);
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const batch = rows.slice(i, i + BATCH_ROWS);
    const response = await world.oip.infer(model, featuresRequest(batch), { headers: pin });
    if (routedModel(response.route) !== model) throw new Error(`a batch of rows for ${model} was answered by ${routedModel(response.route) ?? 'an unknown route'}`);
    const predictions = (response.body as { outputs?: { name: string; data: number[] }[] }).outputs?.find((o) => o.name === 'predict')?.data;
    if (response.status !== 200 || !predictions || predictions.length !== batch.length) {
      throw new Error(`${model} answered ${response.status} to a batch of ${batch.length} rows: ${JSON.stringify(response.body).slice(0, 200)}`);
    }
    out.push(...predictions);
  }
  return out;
}

/** Rebuild the held-out days from each run's logged parameters and score them through OIP. */
export async function scoreHeldOutThroughServing(world: UatWorld): Promise<void> {
  const runs = world.mlflow.loggedRuns;
  if (!runs) throw new Error('the training runs were not read in this scenario');
  const out: ServedAccuracy[] = [];
  for (const run of runs) {
    const { heldOut } = marketDataFor({
      seed: Number(run.params.seed),
      days: Number(run.params.training_days),
      heldOutFraction: Number(run.params.heldout_fraction),
    });
    const predictions = await servedPredictions(world, run.model, heldOut.map((r) => r.features));
    const correct = predictions.filter((p, k) => p === heldOut[k].label).length;
    out.push({ model: run.model, logged: run.accuracy, served: correct / heldOut.length, rows: heldOut.length, runUuid: run.runUuid });
  }
  world.mlflow.servedAccuracies = out;
}

export async function checkServedAccuracyMatchesLogged(world: UatWorld, tolerance: number): Promise<void> {
  const results = world.mlflow.servedAccuracies;
  if (!results) throw new Error('the held-out days were not scored in this scenario');
  for (const r of results) {
    const difference = Math.abs(r.served - r.logged);
    await world.check({
      id: `served-accuracy-matches-mlflow-${r.model}`,
      statement: `${r.model} accuracy on the held-out days, served, equals the accuracy logged in MLflow`,
      threshold: `|served - logged| <= ${tolerance}`,
      measured: r.served,
      unit: 'accuracy',
      source: 'LIVE:oip',
      passed: difference <= tolerance,
      details: { loggedAccuracy: r.logged, loggedSource: 'LIVE:mlflow-postgres', runUuid: r.runUuid, heldOutRows: r.rows, difference },
    });
  }
}
