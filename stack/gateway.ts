/**
 * The embedded stack's HTTP gateway: Open Inference Protocol v2 REST with Seldon's routing
 * (`seldon-model` header, experiments with weighted candidates, `x-seldon-route`), and the pod's
 * metrics endpoints (agent, inference server, container).
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import seedrandom from 'seedrandom';
import type { Predictor } from '../fixtures/model-artifact.ts';
import { featureRows, OipError, parseInferenceRequest } from './inference-request.ts';
import type { SeldonMetrics } from './metrics.ts';

export interface ServedModel {
  name: string;
  version: string;
  algorithm: string;
  inputFeatures: string[];
  predict: Predictor;
}

export interface ServedExperiment {
  name: string;
  defaultModel?: string;
  candidates: { name: string; weight: number }[];
  mirror?: { name: string; percent: number };
}

/** Deliberate defects for the harness's own mutation tests; never set in normal runs. */
/** Metrics endpoints and the registry each one exposes (agent, inference server, container). */
const METRICS_PATHS = { '/metrics': 'registry', '/metrics/mlserver': 'mlserverRegistry', '/metrics/cadvisor': 'containerRegistry' } as const;

export const FAULTS = ['ignore-weights', 'swap-outputs', 'crash-on-bad-input', 'metrics-down'] as const;
export type Fault = (typeof FAULTS)[number];

export interface GatewayOptions {
  models: ServedModel[];
  experiments: ServedExperiment[];
  metrics: SeldonMetrics;
  seed: number;
  maxBodyBytes: number;
  fault?: Fault;
}

const internalName = (m: ServedModel): string => `${m.name}_${m.version}`;

export function createGateway(options: GatewayOptions): http.Server {
  const models = new Map(options.models.map((m) => [m.name, m]));
  const experiments = new Map(options.experiments.map((e) => [e.name, e]));
  const byDefault = new Map(options.experiments.filter((e) => e.defaultModel).map((e) => [e.defaultModel as string, e]));
  const random = seedrandom(`router:${options.seed}`);
  const ordered = options.models;

  const pickCandidate = (experiment: ServedExperiment, routeHeader: string | undefined): ServedModel => {
    // Sticky session: a request that carries an earlier x-seldon-route stays on that candidate.
    if (routeHeader) {
      const sticky = experiment.candidates.find((c) => models.has(c.name) && routeHeader.includes(`:${internalName(models.get(c.name)!)}:`));
      if (sticky) return models.get(sticky.name)!;
    }
    const weights = options.fault === 'ignore-weights' ? experiment.candidates.map(() => 1) : experiment.candidates.map((c) => c.weight);
    const total = weights.reduce((a, b) => a + b, 0);
    let ticket = random() * total;
    for (let i = 0; i < weights.length; i++) {
      ticket -= weights[i];
      if (ticket < 0) return models.get(experiment.candidates[i].name)!;
    }
    return models.get(experiment.candidates[experiment.candidates.length - 1].name)!;
  };

  const resolve = (target: string, routeHeader: string | undefined): { model: ServedModel; experiment?: ServedExperiment } => {
    if (target.endsWith('.experiment')) {
      const experiment = experiments.get(target.slice(0, -'.experiment'.length));
      if (!experiment) throw new OipError(404, `experiment ${target.slice(0, -'.experiment'.length)} not found`);
      return { model: pickCandidate(experiment, routeHeader), experiment };
    }
    if (target.endsWith('.pipeline')) {
      throw new OipError(404, `pipeline ${target.slice(0, -'.pipeline'.length)} not found (pipelines are not served by the embedded stack yet)`);
    }
    const hijacking = byDefault.get(target);
    if (hijacking) return { model: pickCandidate(hijacking, routeHeader), experiment: hijacking };
    const model = models.get(target);
    if (!model) throw new OipError(404, `model ${target} not found`);
    return { model };
  };

  const infer = async (pathModel: string, req: http.IncomingMessage, body: string): Promise<{ headers: Record<string, string>; payload: unknown }> => {
    const header = req.headers['seldon-model'];
    const target = (Array.isArray(header) ? header[0] : header) || pathModel;
    const routeHeader = req.headers['x-seldon-route'] as string | undefined;
    const { model, experiment } = resolve(target, routeHeader);
    const started = process.hrtime.bigint();
    let code = 200;
    try {
      const request = parseInferenceRequest(body);
      const rows = featureRows(request, model.inputFeatures.length);
      const servedBy = options.fault === 'swap-outputs' ? ordered[(ordered.indexOf(model) + 1) % ordered.length] : model;
      const predictions = servedBy.predict(rows);
      const available = ['predict'];
      const wanted = request.outputs?.map((o) => o.name) ?? available;
      const unknown = wanted.find((name) => !available.includes(name));
      if (unknown) throw new OipError(400, `model ${model.name} has no output '${unknown}' (outputs: ${available.join(', ')})`);
      if (experiment?.mirror && random() * 100 < experiment.mirror.percent) {
        const mirror = models.get(experiment.mirror.name);
        if (mirror) {
          const t0 = process.hrtime.bigint();
          mirror.predict(rows);
          options.metrics.observeInfer(mirror.name, internalName(mirror), 200, Number(process.hrtime.bigint() - t0) / 1e9);
        }
      }
      return {
        headers: { 'x-seldon-route': `:${internalName(model)}:` },
        payload: {
          model_name: internalName(model),
          model_version: model.version,
          id: request.id ?? randomUUID(),
          parameters: {},
          outputs: [{ name: 'predict', shape: [rows.length, 1], datatype: 'INT64', parameters: {}, data: predictions }],
        },
      };
    } catch (error) {
      code = error instanceof OipError ? error.status : 500;
      if (options.fault === 'crash-on-bad-input' && error instanceof OipError) {
        code = 500;
        throw new Error(`unhandled: ${error.message}`);
      }
      throw error;
    } finally {
      options.metrics.observeInfer(model.name, internalName(model), code, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  const modelMetadata = (model: ServedModel) => ({
    name: model.name,
    versions: [model.version],
    platform: `financial-mlops-uat/${model.algorithm}`,
    inputs: [{ name: 'features', datatype: 'FP64', shape: [-1, model.inputFeatures.length] }],
    outputs: [{ name: 'predict', datatype: 'INT64', shape: [-1, 1] }],
    parameters: { feature_names: model.inputFeatures.join(',') },
  });

  return http.createServer((req, res) => {
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const fail = (error: unknown): void => {
      if (error instanceof OipError) send(error.status, { error: error.message });
      else send(500, { error: `internal error: ${(error as Error).message}` });
    };
    const url = new URL(req.url ?? '/', 'http://stack.local');
    const path = url.pathname;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > options.maxBodyBytes;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', fail);
    req.on('end', () => {
      void (async () => {
        try {
          if (path === '/v2/health/live') return send(200, { live: true });
          if (path === '/v2/health/ready') return send(200, { ready: true });
          if (path === '/v2' || path === '/v2/') return send(200, { name: 'financial-mlops-embedded-stack', version: '0.1.0', extensions: [] });
          const registry = METRICS_PATHS[path as keyof typeof METRICS_PATHS];
          if (registry) {
            if (options.fault === 'metrics-down') return send(503, { error: 'metrics endpoint disabled by the metrics-down fault' });
            const text = await options.metrics[registry].metrics();
            res.writeHead(200, { 'content-type': options.metrics[registry].contentType });
            return res.end(text);
          }
          const match = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(path);
          if (match) {
            const [, name, , action] = match;
            if (action === '/infer') {
              const done = options.metrics.requestStarted(req.method ?? 'POST', '/v2/models/{model_name}/infer');
              res.once('finish', () => done(res.statusCode));
              if (req.method !== 'POST') return send(405, { error: `use POST for ${path}` });
              if (tooLarge) return send(413, { error: `request body exceeds ${options.maxBodyBytes} bytes` });
              const result = await infer(decodeURIComponent(name), req, Buffer.concat(chunks).toString('utf8'));
              return send(200, result.payload, result.headers);
            }
            const model = models.get(decodeURIComponent(name));
            if (!model) return send(404, { error: `model ${decodeURIComponent(name)} not found` });
            if (action === '/ready') return send(200, { name: model.name, ready: true });
            return send(200, modelMetadata(model));
          }
          return send(404, { error: `no route for ${req.method} ${path}` });
        } catch (error) {
          fail(error);
        }
      })();
    });
  });
}
