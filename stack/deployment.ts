/**
 * What the embedded stack makes of a set of manifests, resource by resource, the way Seldon's
 * control plane does: a schema-invalid object is refused alone (as the API server refuses one
 * object); a Model the server cannot schedule or load, an Experiment whose candidates are not
 * available and a Pipeline whose steps are not available, whose graph is broken or that uses a
 * field the embedded pipeline gateway does not run (stack/pipeline.ts) are accepted, reported not
 * ready with the reason, and everything else serves. A Model's artifact is a trained predictor, the
 * market-regime router (fixtures/regime-router.ts, its thresholds from the Model's parameters), a
 * KernelSHAP explainer (fixtures/explainer-artifact.ts) of the Model its `spec.explainer.modelRef`
 * names, a counterfactual explainer of the Model its `model_ref` parameter names, or an alibi-detect
 * drift detector (fixtures/drift-artifact.ts, stack/drift-detector.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACT_FILE, loadPredictor, type Predictor } from '../fixtures/model-artifact.ts';
import { isCounterfactualArtifact, isExplainerArtifact, loadCounterfactualArtifact, loadExplainerArtifact, type CounterfactualArtifact, type ExplainerArtifact } from '../fixtures/explainer-artifact.ts';
import { isDriftArtifact, loadDriftArtifact } from '../fixtures/drift-artifact.ts';
import { createDriftDetector, type DriftDetector } from './drift-detector.ts';
import { isRouterArtifact, loadRouter, routeOf, routerThresholds, type RegimeRoute, type Thresholds } from '../fixtures/regime-router.ts';
import { pipelineGraphProblem, unsupportedPipelineFields } from './pipeline.ts';
import { artifactFolder } from '../fixtures/storage-map.ts';
import { experimentRefusal, unsupportedReason, type ManifestDocument, type PipelineSpec, type SeldonResource } from './manifests.ts';
import { experimentStatus, modelStatus, pipelineStatus, SCHEDULE_FAILED_REASON, type ResourceStatus } from './resource-status.ts';

export interface ServedModel {
  name: string;
  version: string;
  algorithm: string;
  inputFeatures: string[];
  predict: Predictor;
  /** P(up) per row (MLServer's `predict_proba` output), for the models that have it. */
  probability?: Predictor;
  artifactBytes: number;
  /** A KernelSHAP explainer answers with an explanation of the model it names, instead of predicting. */
  explainer?: { modelRef: string; artifact: ExplainerArtifact };
  /** A counterfactual explainer (a custom runtime) answers with the smallest change that flips the call of the model its parameters name. */
  counterfactual?: { modelRef: string; maxFeatures: number; artifact: CounterfactualArtifact };
  /** A drift detector answers with alibi-detect's verdict on the batch of rows it is sent, instead of predicting. */
  drift?: DriftDetector;
  /** A router answers with the tensor its rules pick from the context tensors, instead of predicting. */
  router?: { thresholds: Thresholds; outputs: Record<RegimeRoute, string>; route: (volatility: number, trend: number) => string };
}

export interface ServedPipeline {
  name: string;
  spec: PipelineSpec;
}

export interface ActiveExperiment {
  name: string;
  defaultModel?: string;
  candidates: { name: string; weight: number }[];
  mirror?: { name: string; percent: number };
}

export interface DeployedResource {
  resource: SeldonResource;
  status: ResourceStatus;
  /** Why it is not ready, for the stack's log (the status holds Seldon's own words). */
  detail?: string;
}

export interface Deployment {
  models: ServedModel[];
  experiments: ActiveExperiment[];
  pipelines: ServedPipeline[];
  resources: DeployedResource[];
  /** Documents refused as a whole, each naming the file and the field at fault. */
  refused: { kind?: string; name?: string; message: string }[];
}

/** The `predict` of a Model that answers with something else: it refuses, saying what it answers with. */
const answersWith = (what: string): Predictor => () => {
  throw new Error(`this model answers with ${what}, not a prediction`);
};

/** A predictor: a Model that predicts (not a router, an explainer or a counterfactual explainer). */
export const isPredictor = (m: ServedModel): boolean => !m.router && !m.explainer && !m.counterfactual && !m.drift;

type Of<K extends SeldonResource['kind']> = Extract<SeldonResource, { kind: K }>;

export function deploy(documents: ManifestDocument[], storageMap: [string, string][], now = new Date()): Deployment {
  const at = now.toISOString();
  const refused: Deployment['refused'] = [];
  const accepted: SeldonResource[] = [];
  const seen = new Set<string>();
  for (const doc of documents) {
    if ('refused' in doc) {
      refused.push({ kind: doc.kind, name: doc.name, message: doc.refused });
      continue;
    }
    const key = `${doc.resource.kind}/${doc.resource.metadata.name}`;
    if (seen.has(key)) {
      refused.push({ kind: doc.resource.kind, name: doc.resource.metadata.name, message: `${doc.resource.source}: ${key} is defined twice; the first definition is kept` });
      continue;
    }
    seen.add(key);
    accepted.push(doc.resource);
  }

  const resources: DeployedResource[] = [];
  const models: ServedModel[] = [];
  for (const r of accepted.filter((x): x is Of<'Model'> => x.kind === 'Model')) {
    const unsupported = unsupportedReason(r);
    if (unsupported) {
      resources.push({ resource: r, status: modelStatus({ state: 'ScheduleFailed', reason: SCHEDULE_FAILED_REASON }, at), detail: unsupported });
      continue;
    }
    try {
      const file = path.join(artifactFolder(r.spec.storageUri, storageMap), ARTIFACT_FILE);
      if (!fs.existsSync(file)) throw new Error(`no artifact at ${file} (storageUri ${r.spec.storageUri}); train the predictors first`);
      const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      const version = String(r.spec.artifactVersion ?? 1);
      const artifactBytes = fs.statSync(file).size;
      if (isRouterArtifact(raw)) {
        const router = loadRouter(raw);
        const thresholds = routerThresholds(router, r.spec.parameters);
        const route = (volatility: number, trend: number): string => router.outputs[routeOf(volatility, trend, thresholds)];
        models.push({ name: r.metadata.name, version, algorithm: 'regime-router', inputFeatures: [...router.inputs], predict: answersWith('a route'), artifactBytes, router: { thresholds, outputs: router.outputs, route } });
      } else if (isCounterfactualArtifact(raw)) {
        const artifact = loadCounterfactualArtifact(raw);
        const parameters = new Map((r.spec.parameters ?? []).map((p) => [p.name, p.value]));
        const unknown = [...parameters.keys()].find((k) => k !== 'model_ref' && k !== 'max_features');
        if (unknown !== undefined) throw new Error(`spec.parameters: '${unknown}' is not a parameter of the counterfactual runtime (model_ref, max_features)`);
        const modelRef = parameters.get('model_ref');
        if (!modelRef) throw new Error("spec.parameters: 'model_ref' must name the model whose calls are explained");
        const maxFeatures = Number(parameters.get('max_features') ?? 3);
        if (!Number.isInteger(maxFeatures) || maxFeatures < 1 || maxFeatures > artifact.mutable.length) throw new Error(`spec.parameters: 'max_features' must be an integer from 1 to ${artifact.mutable.length}, got '${parameters.get('max_features')}'`);
        models.push({ name: r.metadata.name, version, algorithm: 'counterfactual', inputFeatures: artifact.featureNames, predict: answersWith('a counterfactual'), artifactBytes, counterfactual: { modelRef, maxFeatures, artifact } });
      } else if (isDriftArtifact(raw)) {
        if (!(r.spec.requirements ?? []).includes('alibi-detect')) throw new Error(`the artifact of ${r.metadata.name} is an alibi-detect detector: spec.requirements must list alibi-detect`);
        const artifact = loadDriftArtifact(raw);
        models.push({ name: r.metadata.name, version, algorithm: `drift-${artifact.detector}`, inputFeatures: artifact.inputFeatures, predict: answersWith('a drift verdict'), artifactBytes, drift: createDriftDetector(artifact, r.metadata.name) });
      } else if (r.spec.explainer) {
        if (!isExplainerArtifact(raw)) throw new Error(`the artifact of explainer ${r.metadata.name} is not a kernel_shap explainer`);
        const artifact = loadExplainerArtifact(raw);
        models.push({ name: r.metadata.name, version, algorithm: 'kernel-shap', inputFeatures: artifact.featureNames, predict: answersWith('an explanation'), artifactBytes, explainer: { modelRef: r.spec.explainer.modelRef!, artifact } });
      } else {
        const { artifact, predict, probability } = loadPredictor(raw);
        models.push({ name: r.metadata.name, version, algorithm: artifact.algorithm, inputFeatures: artifact.inputFeatures, predict, probability, artifactBytes });
      }
      resources.push({ resource: r, status: modelStatus({ state: 'ModelAvailable' }, at) });
    } catch (error) {
      const reason = `failed to load model: ${(error as Error).message}`;
      resources.push({ resource: r, status: modelStatus({ state: 'ModelFailed', reason }, at), detail: reason });
    }
  }
  const available = new Set(models.map((m) => m.name));

  const experiments: ActiveExperiment[] = [];
  const baselines = new Map<string, string>();
  for (const r of accepted.filter((x): x is Of<'Experiment'> => x.kind === 'Experiment')) {
    const refusal = experimentRefusal(r, baselines);
    if (refusal) {
      resources.push({ resource: r, status: experimentStatus({ refused: refusal }, at), detail: refusal });
      continue;
    }
    if (r.spec.default !== undefined) baselines.set(r.spec.default, r.metadata.name);
    const pipelines = r.spec.resourceType === 'pipeline';
    const missingCandidate = r.spec.candidates.find((c) => pipelines || !available.has(c.name));
    const mirrorReady = !r.spec.mirror || (!pipelines && available.has(r.spec.mirror.name));
    const route = `${r.metadata.name}.experiment`;
    // The Envoy processor's error for the first candidate (then the mirror) with no live replica.
    const blocking = missingCandidate?.name ?? (mirrorReady ? undefined : r.spec.mirror!.name);
    const zeroWeights = r.spec.candidates.length > 0 && r.spec.candidates.every((c) => c.weight === 0);
    const description = blocking !== undefined
      ? `no live replica for ${pipelines ? 'pipeline' : 'model'} ${blocking} for model route ${route}`
      : zeroWeights ? `the candidate weights of ${route} sum to zero` : 'experiment active';
    const active = blocking === undefined && !zeroWeights;
    resources.push({
      resource: r,
      status: experimentStatus({ active, description, candidatesReady: missingCandidate === undefined, mirrorReady }, at),
      detail: active ? undefined : description,
    });
    if (active) experiments.push({ name: r.metadata.name, defaultModel: r.spec.default, candidates: r.spec.candidates, mirror: r.spec.mirror });
  }

  const pipelines: ServedPipeline[] = [];
  for (const r of accepted.filter((x): x is Of<'Pipeline'> => x.kind === 'Pipeline')) {
    const missing = r.spec.steps.map((s) => s.name).filter((n) => !available.has(n));
    const unsupported = unsupportedPipelineFields(r.spec);
    const problem = unsupported.length > 0 ? `the embedded pipeline gateway does not support ${unsupported.join(', ')}` : pipelineGraphProblem(r.metadata.name, r.spec);
    resources.push({ resource: r, status: pipelineStatus({ missingModels: missing, problem }, at), detail: problem ?? (missing.length > 0 ? `models not available: ${missing.join(', ')}` : undefined) });
    if (!problem && missing.length === 0) pipelines.push({ name: r.metadata.name, spec: r.spec });
  }
  return { models, experiments, pipelines, resources, refused };
}
