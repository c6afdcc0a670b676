/**
 * The embedded stack's HTTP gateway: one port that plays, in order, the parts a request crosses in
 * a Seldon Core v2 mesh, each answering the way the real part does:
 *
 *  1. the ingress limits (body size, timeouts, connections: stack/http-hardening.ts);
 *  2. Envoy: routing by `seldon-model` / `x-seldon-route` (stack/routing.ts); no route is a 404
 *     with an empty body; the route adds `x-seldon-route: :<model>_<version>:` to the answer and
 *     mirrors a fraction of requests;
 *  3. the Seldon agent (scheduler/pkg/agent/rproxy.go): rewrites the path to the internal model
 *     name, counts every proxied REST request in `seldon_model_infer_total` under the answer's
 *     code and times it in `seldon_model_infer_api_seconds` with the lower-case HTTP method
 *     (promhttp), and adds `X-Request-Id` (the upstream's, else the request's, else a new xid);
 *  4. MLServer: FastAPI validation (422 `{"detail": [...]}`), the model runtime (MLServer errors:
 *     `{"error": "mlserver.errors.InferenceError: ..."}`, with parallel workers on, the default),
 *     metadata and readiness under the internal name, and its REST metrics.
 *
 * Beside the mesh it serves what a cluster exposes elsewhere: the server's health and metadata
 * (`/v2/health/*`, `/v2`), the pod's metrics endpoints, the resources' status in the shape of
 * the Kubernetes API (`/apis/mlops.seldon.io/v1alpha1/...`), and the output topics of batched
 * pipeline steps, which Seldon writes to Kafka (`GET /kafka/topics/<topic>?offset=N`).
 */
import http from 'node:http';
import seedrandom from 'seedrandom';
import { randomFillSync } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isPredictor, type Deployment, type ServedModel, type ServedPipeline } from './deployment.ts';
import { memoryBatches, PipelineError, runPipeline, type StepAnswer, type Tensor } from './pipeline.ts';
import { createHardenedServer, readBody, sendJson, type HttpLimits } from './http-hardening.ts';
import { contextValues, featureRows, OipError, parseInferenceRequest, RequestValidationError } from './inference-request.ts';
import { explainOptions, explainRows } from './explainer.ts';
import { findCounterfactual, type Counterfactual } from './counterfactual.ts';
import { INFER_PATH, type SeldonMetrics } from './metrics.ts';
import { internalName, routeHeader, Router } from './routing.ts';
import { modelStatus, readyStatus } from './resource-status.ts';
import { patchAnswer, statusApi, writeAnswer, type PatchHandler, type WriteHandlers } from './status-api.ts';

/** Metrics endpoints and the registry each one exposes (agent, inference server, container). */
const METRICS_PATHS = { '/metrics': 'registry', '/metrics/mlserver': 'mlserverRegistry', '/metrics/cadvisor': 'containerRegistry' } as const;

/** Deliberate defects for the harness's own mutation tests; never set in normal runs. */
export const FAULTS = [
  'ignore-weights', // the experiment split ignores the weights
  'swap-outputs', // a model answers with the next model's predictions
  'crash-on-bad-input', // a refused request becomes a 500
  'metrics-down', // the metrics endpoints answer 503
  'count-errors-as-answered', // the agent counts every answer under code 200
  'all-ready', // the status reports every resource ready
  'slow-inference', // every inference takes 150 ms more
  'stalled-inference', // every inference takes 2 s more: a sustained arrival rate outruns the connections the load may hold
  'drifting-inference', // every inference takes 1 ms more for each 2 s since the first: latency drifts upward under a long load
  'leaky-inference', // every inference keeps 16 KiB it never frees: memory grows with the requests served
  'fail-every-20th', // every 20th routed request is answered 503
  'refuse-every-50th', // every 50th routed request is answered 429, as an overloaded rate limiter would
  'crash-under-load', // the process kills itself (SIGKILL, as the OOM killer would) at its 300th routed request
  'misroute-direct', // requests for decision-tree-predictor are answered by ensemble-predictor
  'uncounted-model', // the agent does not count enhanced-predictor's requests
  'stale-metrics-for-prometheus', // Prometheus is served the metrics as they were at start-up
  'unready-after-bad-input', // a model that refused a request reports ModelFailed
  'accept-invalid-quantity', // a Model with an invalid `memory` quantity is accepted
  'route-unready-experiments', // an experiment whose candidates are not all ready is routed anyway
  'keep-routes-to-removed-models', // after a Model is taken away the old routes stay, and what they send it answers 503
  'drop-ready-experiment-routes', // a ready experiment gets no route
  'stale-version-serves-challenger', // enhanced-predictor's requests are answered by a left-over model enhanced-predictor-v0
  'invert-router-threshold', // the regime router sends volatility below its threshold to robust, and above it on by trend
  'pipeline-guesses-missing-input', // the pipeline gateway fills a pipeline input the request lacks with 0 instead of refusing it
  'shap-values-off', // the explainer's SHAP values are scaled by 1.1: they no longer add up to the prediction
  'explainer-few-samples', // the explainer evaluates 40 coalitions, whatever it is asked
  'slow-explainer', // every explanation takes 1000 ms more
  'counterfactual-overshoots', // a counterfactual moves its feature twice as far as it needs to
  'counterfactual-stops-short', // a counterfactual stops just short of the boundary (it keeps the call) and is reported as found
  'drift-detector-blind', // the drift detectors never report drift
  'drift-detector-uncorrected', // the feature-wise detectors compare each p-value with p_val: no multiple-testing correction
  'drift-pvalues-misordered', // the feature-wise detectors report each feature's p-value under the next feature
] as const;
export type Fault = (typeof FAULTS)[number];

/** What the drifting-inference and leaky-inference faults keep between requests. */
let firstInferenceAt: number | undefined;
const leaked: Buffer[] = [];

/** A counterfactual explainer's outputs: name, datatype, one value per feature (else one per day), and its data. */
const COUNTERFACTUAL_OUTPUTS: [string, string, boolean, (c: Counterfactual) => unknown][] = [
  ['counterfactual', 'FP64', true, (c) => c.row],
  ['found', 'BOOL', false, (c) => c.found],
  ['distance', 'FP64', false, (c) => c.distance],
  ['original_probability', 'FP64', false, (c) => c.originalProbability],
  ['counterfactual_probability', 'FP64', false, (c) => c.probability],
  ['changed_features', 'BYTES', false, (c) => JSON.stringify(c.changed)],
];

/** One record of a model's output topic: the batch's answer (or its error), keyed by the request that completed the batch. */
export interface TopicRecord {
  offset: number;
  timestamp: number;
  key: string;
  headers: { pipeline: string; step: string };
  value: { model_name: string; parameters: Record<string, unknown>; outputs: Tensor[] } | { error: string; status: number };
}

/** Records kept per topic (the oldest go first). */
const TOPIC_RETENTION = 10_000;

export interface GatewayOptions {
  /** What is deployed, read on every request (in operator mode it changes while serving). */
  deployment: () => Deployment;
  metrics: SeldonMetrics;
  seed: number;
  limits: HttpLimits;
  namespace: string;
  /** Deliberate defects for the meta tests (none in normal runs). */
  faults?: ReadonlySet<Fault>;
  /** Merge patches of the served objects (a served folder; in operator mode they go to the API server). */
  patch?: PatchHandler;
  /** Deleting and creating objects through the API paths (a served folder); absent, they are refused with 405. */
  write?: WriteHandlers;
  /** An object's generation (its spec changes; 1 when never patched). */
  generation?: (kind: string, name: string) => number;
}

/** MLServer's model routes after the agent's rewrite: what follows `/v2/models/<name>`, its method and route template. */
const MLSERVER_ROUTES: Record<string, { method: string; template: string }> = {
  '': { method: 'GET', template: '/v2/models/{model_name}' },
  '/ready': { method: 'GET', template: '/v2/models/{model_name}/ready' },
  '/infer': { method: 'POST', template: INFER_PATH },
};

/** Rows predicted between two turns of the event loop, so health probes answer during long work. */
const ROWS_PER_TURN = 256;
/** MLServer's server metadata (`GET /v2`): settings.server_name and version. */
const SERVER_METADATA = { name: 'mlserver', version: '1.7.1', extensions: [] as string[] };

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** JSON payload, or undefined for an empty body. */
  payload?: unknown;
}

/** An xid-like request id (20 characters of base32hex), as the agent's util.CreateRequestId makes. */
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const ID_LENGTH = 20;
/** Random bytes for request ids, drawn 512 ids at a time (one call into the CSPRNG per 512 requests, not one per request). */
const idBytes = Buffer.alloc(ID_LENGTH * 512);
let idOffset = idBytes.length;

function newRequestId(): string {
  if (idOffset + ID_LENGTH > idBytes.length) {
    randomFillSync(idBytes);
    idOffset = 0;
  }
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[idBytes[idOffset + i] & 31];
  idOffset += ID_LENGTH;
  return id;
}

const firstHeader = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** For the `route-unready-experiments` fault: experiments routed over whichever candidates are available. */
function withUnreadyExperiments(deployment: Deployment): Deployment['experiments'] {
  const available = new Set(deployment.models.map((m) => m.name));
  const extra = deployment.resources.flatMap(({ resource: r }) =>
    r.kind === 'Experiment' && !deployment.experiments.some((e) => e.name === r.metadata.name)
      ? [{ name: r.metadata.name, candidates: r.spec.candidates.filter((c) => available.has(c.name)) }]
      : [],
  );
  return [...deployment.experiments, ...extra.filter((e) => e.candidates.length > 0)];
}

export function createGateway(options: GatewayOptions): http.Server {
  const { metrics, deployment: current } = options;
  const faults = options.faults ?? new Set<Fault>();
  const has = (f: Fault): boolean => faults.has(f);
  // Envoy's routes follow the deployment: rebuilt when it changes, kept while it does not; the
  // split's random stream runs on across rebuilds (a patched weight must not replay the same draws)
  let routes: { of: Deployment; router: Router } | undefined;
  const random = seedrandom(`router:${options.seed}`);
  const routerNow = (): Router => {
    const deployment = current();
    // under the fault, routes that reach a model the new deployment lacks are kept
    const stale = has('keep-routes-to-removed-models') && routes !== undefined && routes.of.models.some((m) => !deployment.models.some((n) => n.name === m.name));
    if (routes?.of !== deployment && !stale) {
      const routedExperiments = has('drop-ready-experiment-routes') ? [] : has('route-unready-experiments') ? withUnreadyExperiments(deployment) : deployment.experiments;
      routes = { of: deployment, router: new Router(deployment.models, routedExperiments, random, { ignoreWeights: has('ignore-weights'), misroute: has('misroute-direct') ? ['decision-tree-predictor', 'ensemble-predictor'] : undefined }) };
    }
    return routes!.router;
  };
  const status = statusApi(() => (has('all-ready') ? current().resources.map((r) => ({ ...r, status: readyStatus(r.resource.kind) })) : current().resources), options.namespace, options.generation);
  // Prometheus (recognised by its User-Agent) is served the metrics of start-up under that fault.
  const frozen: Record<string, Promise<string> | undefined> = has('stale-metrics-for-prometheus') ? Object.fromEntries(Object.entries(METRICS_PATHS).map(([p, r]) => [p, metrics[r].metrics()])) : {};
  let routedRequests = 0;
  /**
   * Inference requests are served one per turn of the event loop, in the order they were read. Node
   * (libuv 1.45 and later) accepts one new connection per turn, and a turn runs the handlers of every
   * socket that became readable: on a saturated CPU with a thousand connections each with a request
   * waiting, a turn lasts a second and the connections not yet accepted wait until the load stops
   * (a burst of 2,500 users saw a P99 of 10 s). One request per turn keeps turns short, so connections
   * are accepted, timers run and every request waits its turn in one queue.
   */
  let turnTaken = false;
  const waiting: (() => void)[] = [];
  const nextTurn = (): void => {
    const next = waiting.shift();
    turnTaken = next !== undefined;
    if (next) {
      next();
      setImmediate(nextTurn);
    }
  };
  /** Undefined when the request may run in this turn, else a promise of its turn. */
  const inferenceTurn = (): Promise<void> | undefined => {
    if (!turnTaken) {
      turnTaken = true;
      setImmediate(nextTurn);
      return undefined;
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  /** For the `unready-after-bad-input` fault: the model's status turns ModelFailed. */
  const markFailed = (modelName: string): void => {
    const entry = current().resources.find((r) => r.resource.kind === 'Model' && r.resource.metadata.name === modelName);
    if (entry) entry.status = modelStatus({ state: 'ModelFailed', reason: 'the server process restarted after a bad request' }, new Date().toISOString());
  };

  /** MLServer's runtime: predict (or predict_proba) in turns so a long batch does not block other requests. */
  const predict = async (model: ServedModel, rows: number[][], output: 'predict' | 'predict_proba' = 'predict'): Promise<number[]> => {
    const models = has('swap-outputs') ? current().models.filter(isPredictor) : [];
    const servedBy = has('swap-outputs') ? models[(models.findIndex((m) => m.name === model.name) + 1) % models.length] : model;
    const fn = output === 'predict' ? servedBy.predict : servedBy.probability;
    if (!fn) throw new OipError(400, `model ${internalName(model)} has no output '${output}' (outputs: predict)`);
    const out: number[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_TURN) {
      if (i > 0) await yieldToEventLoop();
      out.push(...fn(rows.slice(i, i + ROWS_PER_TURN)));
    }
    return out;
  };

  /** The model an explainer explains, called as through seldon-mesh (its infer_uri); 503 while it is not served. */
  const explainedModel = (modelRef: string): ServedModel => {
    const explained = current().models.find((m) => m.name === modelRef);
    if (!explained) throw new OipError(503, `the model ${modelRef} this explainer explains is not available`);
    return explained;
  };

  // each explainer's coalition stream, seeded at load (a redeployed explainer starts it again)
  const explainerStreams = new WeakMap<ServedModel, () => number>();
  /** The alibi-explain runtime: the model it explains is called as through seldon-mesh (its infer_uri). */
  const explain = async (model: ServedModel, request: ReturnType<typeof parseInferenceRequest>): Promise<string> => {
    const { modelRef, artifact } = model.explainer!;
    const explained = explainedModel(modelRef);
    const rows = featureRows(request, model.inputFeatures.length);
    const { nsamples } = explainOptions(request.parameters as Record<string, unknown> | undefined, model.inputFeatures.length);
    let random = explainerStreams.get(model);
    if (!random) explainerStreams.set(model, (random = seedrandom(`${artifact.seed}:kernel-shap:${model.name}`)));
    const f = async (batch: number[][]): Promise<number[][]> => (await predict(explained, batch, 'predict_proba')).map((p) => [1 - p, p]);
    const explanation = JSON.stringify(await explainRows(artifact, f, rows, { nsamples: has('explainer-few-samples') ? 40 : nsamples, random, scaleShap: has('shap-values-off') ? 1.1 : undefined }));
    if (has('slow-explainer')) await new Promise((resolve) => setTimeout(resolve, 1000));
    return explanation;
  };

  /** MLServer answering a request the agent forwarded to the model `model` (path already rewritten). */
  const mlserver = async (model: ServedModel, method: string, rest: string, contentType: string | undefined, body: Buffer): Promise<Answer> => {
    const name = internalName(model);
    const route = MLSERVER_ROUTES[rest];
    if (!route) return { status: 404, headers: {}, payload: { detail: 'Not Found' } };
    const done = metrics.requestStarted(method, route.template);
    const answer = await (async (): Promise<Answer> => {
      if (method !== route.method && !(method === 'HEAD' && route.method === 'GET')) return { status: 405, headers: { allow: route.method }, payload: { detail: 'Method Not Allowed' } };
      if (rest === '/ready') return { status: 200, headers: {} };
      if (rest === '') {
        const router = model.router;
        return {
          status: 200,
          headers: {},
          payload: {
            name,
            versions: [model.version],
            platform: `financial-mlops-uat/${model.algorithm}`,
            inputs: router ? model.inputFeatures.map((n) => ({ name: n, datatype: 'FP64', shape: [1] })) : [{ name: 'features', datatype: 'FP64', shape: [-1, model.inputFeatures.length] }],
            outputs: router
              ? Object.values(router.outputs).map((n) => ({ name: n, datatype: 'INT64', shape: [1] }))
              : model.explainer
                ? [{ name: 'explanation', datatype: 'BYTES', shape: [1, 1] }]
                : model.counterfactual
                  ? COUNTERFACTUAL_OUTPUTS.map(([n, datatype, width]) => ({ name: n, datatype, shape: width ? [-1, model.inputFeatures.length] : [-1] }))
                  : [{ name: 'predict', datatype: 'INT64', shape: [-1, 1] }, ...(model.probability ? [{ name: 'predict_proba', datatype: 'FP64', shape: [-1, 2] }] : [])],
            parameters: { content_type: 'np', ...router?.thresholds },
          },
        };
      }
      try {
        const request = parseInferenceRequest(body.toString('utf8'), contentType);
        try {
          const answered = (output: { name: string; shape: number[]; data: unknown[]; datatype?: string; parameters?: object }, parameters: object = {}): Answer => {
            metrics.modelInferred(name, true);
            const id = request.id ?? newRequestId();
            return {
              status: 200,
              headers: { 'ce-id': id, 'ce-requestid': id, 'ce-specversion': '0.3', 'ce-type': 'io.seldon.serving.inference.response', 'ce-modelid': name, 'ce-endpoint': name },
              payload: { model_name: name, model_version: model.version, id, parameters, outputs: [{ datatype: 'INT64', parameters: {}, ...output }] },
            };
          };
          if (model.counterfactual) {
            const { modelRef, maxFeatures, artifact } = model.counterfactual;
            const explained = explainedModel(modelRef);
            const rows = featureRows(request, model.inputFeatures.length);
            const f = (batch: number[][]): Promise<number[]> => predict(explained, batch, 'predict_proba');
            const found: Counterfactual[] = [];
            for (const row of rows) found.push(await findCounterfactual(f, row, artifact, maxFeatures, { overshoot: has('counterfactual-overshoots'), stopShort: has('counterfactual-stops-short') }));
            metrics.modelInferred(name, true);
            const id = request.id ?? newRequestId();
            const n = rows.length;
            return {
              status: 200,
              headers: {},
              payload: {
                model_name: name,
                model_version: model.version,
                id,
                parameters: { max_features: maxFeatures },
                outputs: COUNTERFACTUAL_OUTPUTS.map(([output, datatype, width, data]) => ({
                  name: output,
                  datatype,
                  shape: width ? [n, model.inputFeatures.length] : [n],
                  parameters: datatype === 'BYTES' ? { content_type: 'str' } : {},
                  data: width ? found.flatMap(data) : found.map(data),
                })),
              },
            };
          }
          if (model.explainer) {
            const unknown = request.outputs?.map((o) => o.name).find((n) => n !== 'explanation');
            if (unknown !== undefined) throw new OipError(400, `model ${name} has no output '${unknown}' (outputs: explanation)`);
            const explanation = await explain(model, request);
            const headers = { 'x-seldon-alibi-type': 'explanation', 'x-seldon-alibi-method': 'alibi.explainers.shap_wrappers' };
            return answered({ name: 'explanation', shape: [1, 1], datatype: 'BYTES', parameters: { content_type: 'str' }, data: [explanation] }, { headers });
          }
          if (model.drift) {
            const known = ['is_drift', 'distance', 'p_val', 'threshold', 'distance_threshold'];
            const unknown = request.outputs?.map((o) => o.name).find((n) => !known.includes(n));
            if (unknown !== undefined) throw new OipError(400, `model ${name} has no output '${unknown}' (outputs: ${known.join(', ')})`);
            const rows = featureRows(request, model.inputFeatures.length);
            if (rows.length < 2) throw new OipError(400, `a drift detector needs a batch of at least 2 rows, got ${rows.length}`);
            const outputs = model.drift.predict(rows, { blind: has('drift-detector-blind'), uncorrected: has('drift-detector-uncorrected'), misordered: has('drift-pvalues-misordered') });
            const headers = { 'x-seldon-alibi-type': 'drift', 'x-seldon-alibi-method': String(model.drift.meta.name) };
            metrics.modelInferred(name, true);
            const id = request.id ?? newRequestId();
            return { status: 200, headers: {}, payload: { model_name: name, model_version: model.version, id, parameters: { ...model.drift.meta, headers }, outputs } };
          }
          if (model.router) {
            const [volatility, trend] = contextValues(request, model.inputFeatures);
            const { route, thresholds, outputs } = model.router;
            // the fault: below the volatility threshold is robust, above it the trend decides
            const tensor = !has('invert-router-threshold') ? route(volatility, trend) : volatility < thresholds.volatility_threshold ? outputs.robust : route(0, trend);
            return answered({ name: tensor, shape: [1], data: [1] });
          }
          const rows = featureRows(request, model.inputFeatures.length);
          // MLServer's scikit-learn runtime: `predict` unless the request asks for `predict_proba`
          const served = model.probability ? ['predict', 'predict_proba'] : ['predict'];
          const unknown = request.outputs?.map((o) => o.name).find((n) => !served.includes(n));
          if (unknown !== undefined) throw new OipError(400, `model ${name} has no output '${unknown}' (outputs: ${served.join(', ')})`);
          if (request.outputs?.length && request.outputs.every((o) => o.name === 'predict_proba')) {
            const up = await predict(model, rows, 'predict_proba');
            return answered({ name: 'predict_proba', shape: [rows.length, 2], datatype: 'FP64', data: up.flatMap((p) => [1 - p, p]) });
          }
          if (request.outputs?.some((o) => o.name === 'predict_proba')) throw new OipError(400, `model ${name} answers predict or predict_proba, one per request`);
          const predictions = await predict(model, rows);
          if (has('slow-inference')) await new Promise((resolve) => setTimeout(resolve, 150));
          if (has('stalled-inference')) await new Promise((resolve) => setTimeout(resolve, 2000));
          if (has('drifting-inference')) {
            firstInferenceAt ??= Date.now();
            await new Promise((resolve) => setTimeout(resolve, Math.floor((Date.now() - firstInferenceAt!) / 2000)));
          }
          if (has('leaky-inference')) leaked.push(Buffer.alloc(16 * 1024, 1));
          return answered({ name: 'predict', shape: [rows.length, 1], data: predictions });
        } catch (error) {
          metrics.modelInferred(name, false);
          throw error;
        }
      } catch (error) {
        if (has('unready-after-bad-input')) markFailed(model.name);
        if (has('crash-on-bad-input')) return { status: 500, headers: {}, payload: { error: `builtins.ValueError: ${(error as Error).message}` } };
        if (error instanceof RequestValidationError) return { status: 422, headers: {}, payload: { detail: error.detail } };
        if (error instanceof OipError) return { status: error.status, headers: {}, payload: { error: `mlserver.errors.InferenceError: ${error.message}` } };
        throw error;
      }
    })();
    done(answer.status);
    return answer;
  };

  /** The Seldon agent in front of MLServer: path rewrite, metrics, request id. */
  const agent = async (model: ServedModel, req: http.IncomingMessage, path: string, body: Buffer): Promise<Answer> => {
    const started = process.hrtime.bigint();
    // rproxy.go rewritePath: (/v2/models/)([\w\-]+)(/versions/\w+)?(.*)$ -> /v2/models/<internal>$4
    const rewritten = /^\/v2\/models\/[\w-]+(?:\/versions\/\w+)?(.*)$/.exec(path);
    const answer = rewritten
      ? await mlserver(model, req.method ?? 'GET', rewritten[1], firstHeader(req.headers['content-type']), body)
      : { status: 404, headers: {}, payload: { detail: 'Not Found' } };
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const counted = has('count-errors-as-answered') ? 200 : answer.status;
    if (!(has('uncounted-model') && model.name === 'enhanced-predictor')) metrics.observeInfer(model.name, internalName(model), counted, seconds, (req.method ?? 'GET').toLowerCase());
    const requestId = firstHeader(req.headers['x-request-id']) || newRequestId();
    return { ...answer, headers: { ...answer.headers, 'x-request-id': requestId } };
  };

  /** One step of a pipeline: its Model called as the pipeline gateway calls it (through the agent's counters). */
  const callStep = async (modelName: string, inputs: Tensor[]): Promise<StepAnswer> => {
    const model = current().models.find((m) => m.name === modelName);
    if (!model) return { status: 404, error: `model ${modelName} is not available` };
    const started = process.hrtime.bigint();
    const answer = await mlserver(model, 'POST', '/infer', 'application/json', Buffer.from(JSON.stringify({ inputs })));
    metrics.observeInfer(model.name, internalName(model), answer.status, Number(process.hrtime.bigint() - started) / 1e9);
    if (answer.status === 200) {
      const { outputs, parameters } = answer.payload as { outputs: Tensor[]; parameters?: Record<string, unknown> };
      return { outputs, parameters };
    }
    const payload = answer.payload as { error?: string; detail?: unknown } | undefined;
    return { status: answer.status, error: payload?.error ?? JSON.stringify(payload?.detail ?? null) };
  };

  /**
   * Batched steps: each full batch is run apart from the request that completed it, one at a time,
   * and its answer appended to its Model's output topic (Kafka's `seldon.<namespace>.model.<model>.outputs`).
   */
  const batches = memoryBatches();
  // by model, whatever the namespace in the topic's name: in operator mode one mesh serves every watched namespace
  const topics = new Map<string, TopicRecord[]>();
  let batchRuns = Promise.resolve();
  const runBatch = (pipeline: string, key: string) => (step: string, tensors: Tensor[]): void => {
    batchRuns = batchRuns.then(async () => {
      const answer = await callStep(step, tensors);
      const records = topics.get(step) ?? [];
      const offset = records.length > 0 ? records[records.length - 1].offset + 1 : 0;
      const value = 'error' in answer ? { error: answer.error, status: answer.status } : { model_name: step, parameters: answer.parameters ?? {}, outputs: answer.outputs };
      records.push({ offset, timestamp: Date.now(), key, headers: { pipeline, step }, value });
      if (records.length > TOPIC_RETENTION) records.splice(0, records.length - TOPIC_RETENTION);
      topics.set(step, records);
    }).catch((error: unknown) => console.error(`batched step ${step} of ${pipeline}: ${(error as Error).message}`));
  };

  /** Seldon's pipeline gateway: `/v2/pipelines/<p>/infer|ready`, or a model path routed to `<p>.pipeline`. */
  const pipelineGateway = async (pipeline: ServedPipeline, req: http.IncomingMessage, path: string, body: Buffer): Promise<Answer> => {
    const rest = /^\/v2\/(?:pipelines|models)\/[^/]+(.*)$/.exec(path)?.[1] ?? '';
    const method = req.method ?? 'GET';
    if (rest === '/ready') return method === 'GET' || method === 'HEAD' ? { status: 200, headers: {} } : { status: 405, headers: { allow: 'GET' }, payload: { error: 'Method Not Allowed' } };
    if (rest !== '/infer') return { status: 404, headers: {}, payload: { error: `no ${path} on pipeline ${pipeline.name} (POST /v2/pipelines/${pipeline.name}/infer, GET /v2/pipelines/${pipeline.name}/ready)` } };
    if (method !== 'POST') return { status: 405, headers: { allow: 'POST' }, payload: { error: 'Method Not Allowed' } };
    const started = process.hrtime.bigint();
    const requestId = firstHeader(req.headers['x-request-id']) || newRequestId();
    const answer = await (async (): Promise<Answer> => {
      try {
        const request = parseInferenceRequest(body.toString('utf8'), firstHeader(req.headers['content-type']));
        const inputs: Tensor[] = request.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, data: i.data }));
        if (has('pipeline-guesses-missing-input')) {
          const read = pipeline.spec.steps.flatMap((s) => s.inputs ?? []).filter((r) => r.startsWith(`${pipeline.name}.inputs.`)).map((r) => r.slice(`${pipeline.name}.inputs.`.length));
          for (const name of new Set(read)) if (!inputs.some((t) => t.name === name)) inputs.push({ name, datatype: 'FP64', shape: [1], data: [0] });
        }
        const run = await runPipeline(pipeline.name, pipeline.spec, inputs, callStep, { batches, run: runBatch(pipeline.name, request.id ?? requestId) });
        const byName = new Map(current().models.map((m) => [m.name, m]));
        const route = [...run.steps.map((s) => (byName.has(s) ? routeHeader(byName.get(s)!) : `:${s}:`)), `:${pipeline.name}.pipeline:`].join(' ');
        return { status: 200, headers: { 'x-seldon-route': route }, payload: { model_name: pipeline.name, id: request.id ?? requestId, parameters: {}, outputs: run.outputs } };
      } catch (error) {
        if (error instanceof RequestValidationError) return { status: 422, headers: {}, payload: { detail: error.detail } };
        if (error instanceof OipError || error instanceof PipelineError) return { status: error.status, headers: {}, payload: { error: error.message } };
        throw error;
      }
    })();
    metrics.observePipeline(pipeline.name, answer.status, Number(process.hrtime.bigint() - started) / 1e9);
    return { ...answer, headers: { ...answer.headers, 'x-request-id': requestId } };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const target = req.url ?? '/';
    // Origin-form targets only ("/path?query"); absolute-form and "*" are refused as a proxy would.
    if (!target.startsWith('/')) return sendJson(res, 400, { error: `malformed request target '${target.slice(0, 100)}': expected a path` });
    const query = target.indexOf('?');
    const path = query < 0 ? target : target.slice(0, query);
    const method = req.method ?? 'GET';

    if (path === '/v2/health/live' || path === '/v2/health/ready') return void res.writeHead(200, { 'content-length': 0 }).end();
    if (path === '/v2' || path === '/v2/') return sendJson(res, 200, SERVER_METADATA);
    const registry = METRICS_PATHS[path as keyof typeof METRICS_PATHS];
    if (registry) {
      if (has('metrics-down')) return sendJson(res, 503, { error: 'metrics endpoint disabled by the metrics-down fault' });
      const stale = /prometheus/i.test(req.headers['user-agent'] ?? '') ? frozen[path] : undefined;
      const text = stale ? await stale : await metrics[registry].metrics();
      res.writeHead(200, { 'content-type': metrics[registry].contentType, 'x-content-type-options': 'nosniff' });
      return void res.end(text);
    }
    if (path.startsWith('/kafka/topics/')) {
      if (method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET' });
      const topic = decodeURIComponent(path.slice('/kafka/topics/'.length));
      const model = /^seldon\.[^.]+\.model\.(.+)\.outputs$/.exec(topic)?.[1];
      if (!model) return sendJson(res, 404, { error: `no topic '${topic}': a model's output topic is seldon.<namespace>.model.<model>.outputs` });
      const query = new URLSearchParams(target.split('?')[1] ?? '');
      await batchRuns; // what was batched before this read is on the topic
      const kept = topics.get(model) ?? [];
      const end = kept.length > 0 ? kept[kept.length - 1].offset + 1 : 0;
      // `offset=end`: where a new consumer that skips the backlog starts (Kafka's auto.offset.reset=latest)
      const offset = query.get('offset') === 'end' ? end : Number(query.get('offset') ?? 0);
      if (!Number.isInteger(offset) || offset < 0) return sendJson(res, 400, { error: `offset must be a whole number or 'end', got '${query.get('offset')}'` });
      const records = kept.filter((r) => r.offset >= offset);
      return sendJson(res, 200, { topic, records, next_offset: records.length > 0 ? records[records.length - 1].offset + 1 : offset });
    }
    if (path.startsWith('/apis/') && method === 'PATCH' && options.patch) {
      const body = await readBody(req, res, options.limits.maxBodyBytes);
      if (body === undefined) return;
      const answer = patchAnswer(path, firstHeader(req.headers['content-type']), body, options.namespace, options.patch);
      return sendJson(res, answer.status, answer.payload);
    }
    if (path.startsWith('/apis/') && (method === 'DELETE' || method === 'POST') && options.write) {
      const body = await readBody(req, res, options.limits.maxBodyBytes);
      if (body === undefined) return;
      const answer = writeAnswer(method, path, body, options.namespace, options.write);
      return sendJson(res, answer.status, answer.payload);
    }
    if (path.startsWith('/apis/')) {
      const answer = status(method, path);
      return sendJson(res, answer.status, answer.payload);
    }

    const body = await readBody(req, res, options.limits.maxBodyBytes);
    if (body === undefined) return; // refused (413) or the client went away
    const turn = inferenceTurn();
    if (turn) await turn;
    const seldonRoute = firstHeader(req.headers['x-seldon-route']);
    const pipelineRoute = Router.routeName(path, firstHeader(req.headers['seldon-model']), seldonRoute);
    if (path.startsWith('/v2/') && pipelineRoute?.endsWith('.pipeline')) {
      const pipeline = current().pipelines.find((p) => `${p.name}.pipeline` === pipelineRoute);
      if (!pipeline) return void res.writeHead(404, { 'content-length': 0 }).end(); // Envoy: no route, empty body
      const answer = await pipelineGateway(pipeline, req, path, body);
      if (answer.payload === undefined) return void res.writeHead(answer.status, { ...answer.headers, 'content-length': 0 }).end();
      return sendJson(res, answer.status, answer.payload, answer.headers);
    }
    const routed = routerNow().match(path, firstHeader(req.headers['seldon-model']), seldonRoute);
    if (!routed) return void res.writeHead(404, { 'content-length': 0 }).end(); // Envoy: no route, empty body
    if (has('fail-every-20th') && ++routedRequests % 20 === 0) return sendJson(res, 503, { error: 'upstream unavailable (fail-every-20th fault)' });
    if (has('refuse-every-50th') && ++routedRequests % 50 === 0) return sendJson(res, 429, { error: 'rate limit exceeded (refuse-every-50th fault)' });
    if (has('crash-under-load') && ++routedRequests === 300) process.kill(process.pid, 'SIGKILL');
    if (routed.mirror) {
      const mirror = routed.mirror;
      // Fire and forget, as Envoy's shadow: the answer is discarded.
      setImmediate(() => void agent(mirror, req, path, body).catch(() => undefined));
    }
    // Envoy's answer for a cluster with no endpoint left (only routes kept stale by the fault reach one)
    if (has('keep-routes-to-removed-models') && !current().models.some((m) => m.name === routed.model.name)) return sendJson(res, 503, { error: 'no healthy upstream' });
    const model = has('stale-version-serves-challenger') && routed.model.name === 'enhanced-predictor' ? { ...routed.model, name: 'enhanced-predictor-v0' } : routed.model;
    const answer = await agent(model, req, path, body);
    const headers = { ...answer.headers, 'x-seldon-route': routeHeader(model) };
    if (answer.payload === undefined) return void res.writeHead(answer.status, { ...headers, 'content-length': 0 }).end();
    return sendJson(res, answer.status, answer.payload, headers);
  };

  return createHardenedServer(options.limits, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Nothing a client sends should get here; if it does, the answer says so and the server stays up.
      if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${(error as Error).message}` });
      else res.destroy();
    });
  });
}
