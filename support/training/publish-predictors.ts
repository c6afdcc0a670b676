/**
 * The training step of the local target: fit the predictors on the seeded market data, write each
 * artifact (and the market-regime router's, the explainers' and the drift detectors') to the folder its Model's storageUri maps to, and log each fit as an MLflow run (when the
 * store is reachable: without it the models are still served, and scenarios that need the store
 * fail with the reason it is missing).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACT_FILE } from '../../fixtures/model-artifact.ts';
import { artifactFolder } from '../../fixtures/storage-map.ts';
import { DEFAULT_TRAINING, marketDataFor, trainPredictors, type TrainedPredictor } from '../../fixtures/train-predictors.ts';
import { buildCounterfactualArtifact, buildExplainerArtifact, COUNTERFACTUAL_MODELS, EXPLAINER_MODELS } from '../../fixtures/explainer-artifact.ts';
import { buildDriftArtifact, DRIFT_DETECTORS } from '../../fixtures/drift-artifact.ts';
import { defaultRouterArtifact, ROUTER_MODELS } from '../../fixtures/regime-router.ts';
import type { MlflowStore } from '../clients/mlflow-store.ts';
import { storageUris } from '../k8s/manifest-reader.ts';
import { PROJECT_ROOT } from '../config.ts';
import { STACKS } from '../scope/stacks.ts';

export interface PublishedPredictor {
  name: string;
  /** The MLflow run, or null when no store was reachable. */
  runUuid: string | null;
  storageUri: string;
  accuracy: number;
  trainMillis: number;
}

export async function publishPredictors(options: {
  seed: number;
  manifests: string[];
  storageMap: [string, string][];
  store?: MlflowStore;
  experimentName: string;
  uatRunId: string;
  /**
   * A folder where fitted predictors are kept and reused for the same training options (the
   * harness's own meta tests set it, so their many short runs do not refit the same seeded
   * models); unset in normal runs, which always fit.
   */
  cacheDir?: string;
  /**
   * Deliberate defects of the release process (meta tests only): `training-challenger-is-baseline` promotes
   * the baseline's fit under the enhanced predictor's name (its artifact and its logged metrics).
   */
  faults?: string[];
}): Promise<PublishedPredictor[]> {
  const uris = storageUris(options.manifests);
  const started = Date.now();
  const training = { seed: options.seed, ...DEFAULT_TRAINING };
  const fitted = fitOrReuse(training, options.cacheDir);
  const baselineFit = fitted.find((p) => p.spec.name === 'baseline-predictor');
  const predictors = options.faults?.includes('training-challenger-is-baseline') && baselineFit
    ? fitted.map((p) => (p.spec.name === 'enhanced-predictor' ? { ...baselineFit, spec: { ...baselineFit.spec, name: p.spec.name } } : p))
    : fitted;
  const experimentId = await options.store?.experimentId(options.experimentName, 'gs://financial-mlops-models/mlflow');
  const published: PublishedPredictor[] = [];
  for (const p of predictors) {
    const storageUri = uris.get(p.spec.name);
    if (!storageUri) {
      // a predictor of a stack this run does not deploy (UAT_STACKS) is not published; one no stack names is an error
      if (everyStackUris().has(p.spec.name)) continue;
      throw new Error(`no Model manifest names '${p.spec.name}'; cannot place its artifact`);
    }
    const folder = artifactFolder(storageUri, options.storageMap);
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, ARTIFACT_FILE), JSON.stringify(p.artifact));
    const runUuid = !options.store || experimentId === undefined ? null : await options.store.logRun(experimentId, {
      name: `${p.spec.name}-seed-${options.seed}`,
      artifactUri: storageUri,
      startTime: started,
      endTime: Date.now(),
      params: runParams(p, training),
      metrics: { ...p.metrics, train_seconds: p.trainMillis / 1000 },
      tags: { 'seldon.model': p.spec.name, 'seldon.storageUri': storageUri, 'uat.run_id': options.uatRunId, 'mlflow.note.content': p.spec.description },
      registeredModel: p.spec.name,
    });
    published.push({ name: p.spec.name, runUuid, storageUri, accuracy: p.metrics.accuracy, trainMillis: p.trainMillis });
  }
  // the router is not fitted: its artifact holds its rules' order and default thresholds (the Model's parameters set them)
  for (const name of ROUTER_MODELS) {
    const storageUri = uris.get(name);
    if (!storageUri) continue;
    const folder = artifactFolder(storageUri, options.storageMap);
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, ARTIFACT_FILE), JSON.stringify(defaultRouterArtifact(name)));
  }
  // an explainer is fitted on a seeded sample of the training days (its background set)
  // (and a counterfactual explainer on their plausible ranges and scales)
  // a drift detector holds a seeded sample of the training days as its reference
  const explainers = [...Object.keys(EXPLAINER_MODELS), ...COUNTERFACTUAL_MODELS].filter((name) => uris.has(name));
  const detectors = (Object.keys(DRIFT_DETECTORS) as (keyof typeof DRIFT_DETECTORS)[]).filter((name) => uris.has(name));
  if (explainers.length + detectors.length > 0) {
    const { train } = marketDataFor(training);
    for (const name of explainers) {
      const folder = artifactFolder(uris.get(name)!, options.storageMap);
      fs.mkdirSync(folder, { recursive: true });
      const artifact = (COUNTERFACTUAL_MODELS as readonly string[]).includes(name) ? buildCounterfactualArtifact(name, train) : buildExplainerArtifact(name, train, options.seed);
      fs.writeFileSync(path.join(folder, ARTIFACT_FILE), JSON.stringify(artifact));
    }
    for (const name of detectors) {
      const folder = artifactFolder(uris.get(name)!, options.storageMap);
      fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(path.join(folder, ARTIFACT_FILE), JSON.stringify(buildDriftArtifact(name, train, options.seed)));
    }
  }
  return published;
}

/** The storage URIs of every stack's Models (k8s/<stack>), deployed in this run or not. */
function everyStackUris(): Map<string, string> {
  return storageUris(STACKS.map((s) => path.join(PROJECT_ROOT, 'k8s', s)));
}

/** The training's own code: a cached fit is reused only while these files are what fitted it. */
const TRAINING_CODE = ['train-predictors.ts', 'market-data.ts', 'model-artifact.ts', 'regime-router.ts'].map((f) => path.join(PROJECT_ROOT, 'fixtures', f));

/** The seeded predictors, fitted now, or reused from `cacheDir` when the same options and training code fitted them before. */
export function fitOrReuse(training: { seed: number; days: number; heldOutFraction: number }, cacheDir?: string): TrainedPredictor[] {
  if (!cacheDir) return trainPredictors(training).predictors;
  const code = createHash('sha256');
  for (const f of TRAINING_CODE) code.update(fs.readFileSync(f));
  const file = path.join(cacheDir, `predictors-seed${training.seed}-days${training.days}-heldout${training.heldOutFraction}-${code.digest('hex').slice(0, 12)}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as TrainedPredictor[];
  const { predictors } = trainPredictors(training);
  fs.mkdirSync(cacheDir, { recursive: true });
  // written whole then renamed: runs that share the cache never read half a file
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, JSON.stringify(predictors));
  fs.renameSync(partial, file);
  return predictors;
}

function runParams(p: TrainedPredictor, training: { seed: number; days: number; heldOutFraction: number }): Record<string, string | number> {
  return {
    algorithm: p.spec.algorithm,
    features: p.spec.features.join(','),
    n_features: p.spec.features.length,
    seed: training.seed,
    training_days: training.days,
    heldout_fraction: training.heldOutFraction,
    data_generator: 'fixtures/market-data.ts',
    ...(p.spec.regime ? { training_regime: p.spec.regime, regime_rule: 'fixtures/regime-router.ts (plan thresholds)' } : {}),
    ...Object.fromEntries(Object.entries(p.spec.hyperparameters).map(([k, v]) => [`hp_${k}`, String(v)])),
  };
}
