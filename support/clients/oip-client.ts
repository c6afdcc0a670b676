/**
 * Open Inference Protocol v2 REST client. Routes the Seldon way: POST to /v2/models/<name>/infer
 * with the `seldon-model` header naming the model (`name`) or experiment (`name.experiment`).
 */
export interface OipResponse {
  status: number;
  /** Parsed JSON body, or the raw text when the body is not JSON. */
  body: unknown;
  route: string | null;
  latencyMs: number;
}

export class OipClient {
  constructor(readonly baseUrl: string) {}

  async infer(target: string, payload: unknown, options: { rawBody?: string; headers?: Record<string, string> } = {}): Promise<OipResponse> {
    const pathName = target.replace(/\.(experiment|pipeline)$/, '');
    const started = performance.now();
    const res = await fetch(`${this.baseUrl}/v2/models/${encodeURIComponent(pathName)}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'seldon-model': target, ...options.headers },
      body: options.rawBody ?? JSON.stringify(payload),
    });
    const text = await res.text();
    const latencyMs = performance.now() - started;
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the raw text
    }
    return { status: res.status, body, route: res.headers.get('x-seldon-route'), latencyMs };
  }

  async get(path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.baseUrl}${path}`);
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      return { status: res.status, body: text };
    }
  }

  async isReady(): Promise<boolean> {
    return (await this.get('/v2/health/ready').catch(() => ({ status: 0 }))).status === 200;
  }
}

/** An OIP request for feature rows: one FP64 tensor [n, width]. */
export function featuresRequest(rows: number[][], id?: string): Record<string, unknown> {
  const width = rows[0]?.length ?? 0;
  return {
    ...(id ? { id } : {}),
    inputs: [{ name: 'features', shape: [rows.length, width], datatype: 'FP64', data: rows.flat() }],
  };
}

/** The data of an answer's `predict` output tensor (a predictor's calls), or undefined when it has none. */
export function predictOutput(body: unknown): number[] | undefined {
  return (body as { outputs?: { name: string; data: number[] }[] } | undefined)?.outputs?.find((o) => o.name === 'predict')?.data;
}

/** The model name in a Seldon route header `:<model>_<version>:`. */
export function routedModel(route: string | null): string | null {
  const match = route ? /:([^:]+)_(\d+):/.exec(route) : null;
  return match ? match[1] : null;
}
