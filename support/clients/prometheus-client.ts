/**
 * A client of Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`, `/api/v1/targets`,
 * `/api/v1/status/buildinfo`, `/-/ready`). Errors keep Prometheus's own `errorType` and message;
 * a server that cannot be reached is a `PrometheusUnreachable`.
 */

export interface VectorSample {
  metric: Record<string, string>;
  /** Unix seconds. */
  time: number;
  value: number;
}

export interface MatrixSeries {
  metric: Record<string, string>;
  points: { time: number; value: number }[];
}

/** Prometheus answered with `status: "error"` (bad_data, execution, timeout, ...). */
export class PrometheusQueryError extends Error {
  constructor(readonly httpStatus: number, readonly errorType: string, message: string, readonly query: string) {
    super(`Prometheus refused the query (${httpStatus} ${errorType}): ${message} [query: ${query}]`);
    this.name = 'PrometheusQueryError';
  }
}

/** Nothing answered at the Prometheus URL. */
export class PrometheusUnreachable extends Error {
  constructor(readonly url: string, cause: string) {
    super(`Prometheus at ${url} is unreachable: ${cause}`);
    this.name = 'PrometheusUnreachable';
  }
}

interface Envelope {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

const sampleValue = (v: string): number => Number(v); // "NaN", "+Inf" and "-Inf" parse as JS numbers too

export class PrometheusClient {
  constructor(readonly url: string, private readonly timeoutMs = 5000) {}

  private async call(path: string, params: Record<string, string>, query: string): Promise<Envelope['data']> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new PrometheusUnreachable(this.url, describeFetchError(error));
    }
    const text = await res.text();
    let body: Envelope;
    try {
      body = JSON.parse(text) as Envelope;
    } catch {
      throw new PrometheusQueryError(res.status, 'invalid_response', `not JSON: ${text.slice(0, 200)}`, query);
    }
    if (body.status !== 'success') throw new PrometheusQueryError(res.status, body.errorType ?? 'unknown', body.error ?? 'no message', query);
    return body.data;
  }

  /** Instant query; a scalar result comes back as one sample with no labels. */
  async query(promql: string, time?: Date): Promise<VectorSample[]> {
    const params: Record<string, string> = { query: promql };
    if (time) params.time = String(time.getTime() / 1000);
    const data = await this.call('/api/v1/query', params, promql);
    if (data?.resultType === 'vector') {
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, time: r.value[0], value: sampleValue(r.value[1]) }));
    }
    if (data?.resultType === 'scalar') {
      const [time, value] = data.result as [number, string];
      return [{ metric: {}, time, value: sampleValue(value) }];
    }
    throw new PrometheusQueryError(200, 'unexpected_result', `result type ${data?.resultType} is not a vector or scalar`, promql);
  }

  /** Range query from `start` to `end` (both inclusive) every `stepSeconds`. */
  async queryRange(promql: string, start: Date, end: Date, stepSeconds: number): Promise<MatrixSeries[]> {
    const data = await this.call('/api/v1/query_range', { query: promql, start: String(start.getTime() / 1000), end: String(end.getTime() / 1000), step: String(stepSeconds) }, promql);
    return (data?.result as { metric: Record<string, string>; values: [number, string][] }[]).map((r) => ({
      metric: r.metric,
      points: r.values.map(([time, value]) => ({ time, value: sampleValue(value) })),
    }));
  }

  /** Scrape targets with their health ("up", "down", "unknown") and last error. */
  async targets(): Promise<{ job: string; scrapeUrl: string; health: string; lastError: string; lastScrape: string }[]> {
    const res = await this.get('/api/v1/targets');
    const body = (await res.json()) as { data: { activeTargets: { labels: Record<string, string>; scrapeUrl: string; health: string; lastError: string; lastScrape: string }[] } };
    return body.data.activeTargets.map((t) => ({ job: t.labels.job, scrapeUrl: t.scrapeUrl, health: t.health, lastError: t.lastError, lastScrape: t.lastScrape }));
  }

  async version(): Promise<string> {
    const res = await this.get('/api/v1/status/buildinfo');
    const body = (await res.json()) as { data?: { version?: string } };
    return body.data?.version ?? 'unknown';
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(this.timeoutMs) })).status === 200;
    } catch {
      return false;
    }
  }

  private async get(path: string): Promise<Response> {
    try {
      const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new PrometheusQueryError(res.status, 'http', `GET ${path} answered ${res.status}`, path);
      return res;
    } catch (error) {
      if (error instanceof PrometheusQueryError) throw error;
      throw new PrometheusUnreachable(this.url, describeFetchError(error));
    }
  }
}

/** fetch() hides the socket error in `cause`; name it (ECONNREFUSED, timeout, ...). */
export function describeFetchError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}
