/**
 * MLflow -> Seldon: the accuracy logged for each training run is the accuracy its served model has
 * on the held-out days, recomputed through the inference endpoint.
 */
import { marketDataFor } from '../../fixtures/train-predictors.ts';
import { servedPredictions } from '../clients/served-predictions.ts';
import type { UatWorld } from '../world.ts';

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
    const predictions = await servedPredictions(world.oip, run.model, heldOut.map((r) => r.features));
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
