/**
 * The retraining job a drift episode starts (on a cluster it would be a Kubernetes Job):
 *
 *   tsx monitor/retrain.ts --model <predictor> --seed N --episode ID [--features a,b] [--experiment NAME]
 *
 * It fits the predictor again with the training fixture on a fresh seeded market history (the
 * market since the drift: seed + the episode's number) and logs the fit as an MLflow run with a new
 * version of the registered model, tagged with the episode, in the store at MLFLOW_DB_URL. It prints
 * {"event":"logged","runUuid":...,"version":...}. Deploying the new version is a release decision
 * and is not done here.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_TRAINING, trainPredictor } from '../fixtures/train-predictors.ts';
import { MlflowStore } from '../support/clients/mlflow-store.ts';
import { fatal } from '../stack/program.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    seed: { type: 'string', default: '42' },
    episode: { type: 'string' },
    features: { type: 'string', default: '' },
    experiment: { type: 'string', default: 'financial-mlops-uat-retraining' },
  },
});
if (!values.model) fatal('--model is required: the predictor to retrain');
if (!values.episode) fatal('--episode is required: the drift episode that asked for the retraining');
const seed = Number(values.seed);
if (!Number.isInteger(seed)) fatal(`--seed must be a whole number, got '${values.seed}'`);
const url = process.env.MLFLOW_DB_URL;
if (!url) fatal('MLFLOW_DB_URL is not set: the retraining logs its run in the MLflow store');
const episodeNumber = Number(/(\d+)$/.exec(values.episode)?.[1] ?? 1);
const training = { seed: seed + episodeNumber, ...DEFAULT_TRAINING };
const started = Date.now();
const fitted = trainPredictor(values.model, training);
const store = MlflowStore.connect(url);
try {
  const experimentId = await store.experimentId(values.experiment, 'gs://financial-mlops-models/mlflow');
  const runUuid = await store.logRun(experimentId, {
    name: `${values.model}-retrained-${values.episode}`,
    artifactUri: `gs://financial-mlops-models/retrained/${values.model}/${values.episode}`,
    startTime: started,
    endTime: Date.now(),
    params: { algorithm: fitted.spec.algorithm, features: fitted.spec.features.join(','), seed: training.seed, training_days: training.days, heldout_fraction: training.heldOutFraction, data_generator: 'fixtures/market-data.ts' },
    metrics: { ...fitted.metrics, train_seconds: fitted.trainMillis / 1000 },
    tags: { 'seldon.model': values.model, 'uat.trigger': 'drift-episode', 'drift.episode': values.episode, 'drift.features': values.features },
    registeredModel: values.model,
  });
  const version = await store.latestVersion(values.model);
  process.stdout.write(`${JSON.stringify({ event: 'logged', runUuid, version, accuracy: fitted.metrics.accuracy })}\n`);
} catch (error) {
  fatal(`cannot log the retraining in the MLflow store: ${(error as Error).message}`);
} finally {
  await store.close();
}
