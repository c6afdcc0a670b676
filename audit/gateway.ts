/**
 * The explanation gateway: the one way explanations reach people, so each one is on the audit
 * trail. It takes an explainer's OIP request, forwards it to the serving mesh (the embedded stack
 * or seldon-mesh), writes one audit row per explained instance, and only then returns the
 * explainer's answer unchanged. An explanation whose rows could not be written is withheld (503):
 * nothing is explained off the record.
 *
 *   POST /v2/models/<explainer>/infer   header x-requester: who asks (required)
 *        -> the explainer's answer, with header x-audit-rows: <rows written>
 *        no x-requester -> 400; an explainer the gateway does not audit -> 404; both {"error": "..."}
 *   GET  /health   200
 *
 * The trail is read where it is kept: `npm run audit`, the dashboard and the harness query PostgreSQL.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { parseExplanation } from '../support/clients/explanation.ts';
import type { AuditRecord, AuditStore } from './store.ts';

/** Deliberate defects, for the meta tests: every fourth explanation returned without its rows. */
export const GATEWAY_FAULTS = ['skip-every-4th-write'] as const;
export type GatewayFault = (typeof GATEWAY_FAULTS)[number];

/** Features kept per row: the largest |SHAP| for the up class. */
export const TOP_FEATURES = 5;
const MAX_BODY = 8 * 1024 * 1024;

export interface GatewayOptions {
  inferenceUrl: string;
  store: AuditStore;
  /** Explainer -> the model it explains (its Model's spec.explainer.modelRef). */
  explains: Map<string, string>;
  faults?: GatewayFault[];
  now?: () => Date;
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`the request body exceeds ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The instances of the request's first input tensor, one row each (shape [n, width]). */
function requestInstances(body: unknown): number[][] {
  const input = (body as { inputs?: { shape?: number[]; data?: unknown }[] } | undefined)?.inputs?.[0];
  const flat = ([input?.data].flat(Infinity) as unknown[]).map(Number);
  const [n, width] = input?.shape?.length === 2 ? input.shape : [1, flat.length];
  return Array.from({ length: n }, (_, i) => flat.slice(i * width, (i + 1) * width));
}

const inputHash = (row: number[]): string => createHash('sha256').update(JSON.stringify(row)).digest('hex');

export function createAuditGateway(options: GatewayOptions): http.Server {
  const faults = new Set(options.faults ?? []);
  const now = options.now ?? (() => new Date());
  let explanations = 0;

  const modelVersion = async (model: string): Promise<string> => {
    const res = await fetch(`${options.inferenceUrl}/v2/models/${encodeURIComponent(model)}`, { headers: { 'seldon-model': model } }).catch(() => undefined);
    const body = res?.ok ? ((await res.json()) as { versions?: string[] }) : undefined;
    return body?.versions?.[0] ?? 'unknown';
  };

  const explain = async (req: http.IncomingMessage, res: http.ServerResponse, explainer: string): Promise<void> => {
    const requester = req.headers['x-requester'];
    if (typeof requester !== 'string' || requester.trim() === '') return json(res, 400, { error: 'header x-requester must name who asks for the explanation (it goes on the audit trail)' });
    const model = options.explains.get(explainer);
    if (!model) return json(res, 404, { error: `${explainer} is not an explainer this gateway audits (explainers: ${[...options.explains.keys()].join(', ')})` });
    const body = await readBody(req);
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id']) || randomUUID();
    const answer = await fetch(`${options.inferenceUrl}/v2/models/${encodeURIComponent(explainer)}/infer`, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', 'seldon-model': explainer, 'x-request-id': requestId },
      body,
    });
    const text = await answer.text();
    if (answer.status !== 200) {
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      return void res.end(text);
    }
    const payload = JSON.parse(text) as { id?: string; model_version?: string };
    const explanation = parseExplanation(payload);
    const instances = requestInstances(JSON.parse(body.toString('utf8')));
    const at = now();
    const version = await modelVersion(model);
    const records: AuditRecord[] = explanation.data.shap_values[1].map((shap, i) => {
      const order = shap.map((_, j) => j).sort((a, b) => Math.abs(shap[b]) - Math.abs(shap[a])).slice(0, TOP_FEATURES);
      return {
        requestId: payload.id ?? requestId,
        instance: i,
        explainer,
        explainerVersion: payload.model_version ?? 'unknown',
        model,
        modelVersion: version,
        inputSha256: inputHash(instances[i] ?? []),
        topFeatures: order.map((j) => ({ feature: explanation.data.feature_names[j], value: instances[i]?.[j], shap: shap[j] })),
        requester: requester.trim(),
        explainedAt: at,
      };
    });
    explanations += 1;
    const skipped = faults.has('skip-every-4th-write') && explanations % 4 === 0;
    if (!skipped) {
      try {
        await options.store.write(records);
      } catch (error) {
        return json(res, 503, { error: `the explanation is withheld: its audit rows could not be written (${(error as Error).message})` });
      }
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-audit-rows': String(skipped ? 0 : records.length), 'x-request-id': requestId });
    res.end(text);
  };

  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const infer = /^\/v2\/models\/([\w.-]+)\/infer$/.exec(url.pathname);
    const handle = async (): Promise<void> => {
      if (req.method === 'POST' && infer) return explain(req, res, decodeURIComponent(infer[1]));
      if (req.method === 'GET' && url.pathname === '/health') return json(res, 200, { status: 'ok' });
      json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    };
    handle().catch((error: Error) => {
      if (!res.headersSent) json(res, 502, { error: `the explanation gateway failed: ${error.message}` });
      else res.end();
    });
  });
}
