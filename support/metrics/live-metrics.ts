/**
 * Serving figures (requests, request rate, error ratio, P95 latency) from the best live source:
 * Prometheus through the named PromQL queries when it answers; otherwise the stack's own /metrics,
 * sampled every second into a bounded history and computed the same way (`LIVE:stack-metrics`);
 * and only when neither answers, a seeded simulation that is labelled `SIMULATED` and says why.
 */
import { PrometheusClient, PrometheusUnreachable } from '../clients/prometheus-client.ts';
import { bucketIncrease, histogramQuantile, MetricsReader, type Buckets, type MetricsSnapshot } from '../clients/metrics-reader.ts';
import type { FigureSource } from '../evidence/figure.ts';
import { PROMQL, windowSeconds, type QueryScope, type Window } from './promql.ts';
import { simulatedServing } from './simulated-serving.ts';

export interface Point {
  /** Unix seconds. */
  time: number;
  value: number;
}

export interface ServingView {
  source: FigureSource;
  /** Why a fallback source was used, or what the figures cover. */
  note?: string;
  observedAt: string;
  window: Window;
  /** Successful requests per model since the servers started. */
  requestsTotal: Record<string, number>;
  /** Requests per second per model over the window. */
  requestRate: Record<string, number>;
  /** Share of non-2xx responses over the window; null when there was no traffic. */
  errorRatio: number | null;
  /** P95 inference latency in seconds over the window; null when there was no traffic. */
  p95Seconds: number | null;
  /**
   * The period the windowed figures really cover, when it is not the window asked for (the
   * /metrics fallback only has the samples it took since it started, or since the platform started
   * when it has one sample); undefined when it is the window.
   */
  covers?: string;
  /** Request rate per model over time. */
  rateSeries: Record<string, Point[]>;
  /** P95 latency (seconds) over time. */
  p95Series: Point[];
}

interface Sample {
  time: number;
  /** Counter value per "model\u0000code". */
  calls: Map<string, number>;
  buckets: Buckets;
}

const HISTORY_SECONDS = 3600;
const finiteOrNull = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

export interface LiveMetricsOptions {
  prometheusUrl?: string;
  /** The Seldon agent's /metrics endpoint, for the fallback. */
  metricsUrl?: string;
  scope?: QueryScope;
  /** Experiment candidates and weights, used only by the simulated stand-in. */
  weights?: Record<string, number>;
  seed?: number;
}

export class LiveMetrics {
  readonly prometheus?: PrometheusClient;
  private readonly reader?: MetricsReader;
  private readonly history: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: LiveMetricsOptions) {
    if (options.prometheusUrl) this.prometheus = new PrometheusClient(options.prometheusUrl);
    if (options.metricsUrl) this.reader = new MetricsReader(options.metricsUrl);
  }

  /** Sample the stack's /metrics every `intervalMs` so the fallback has a history to compute rates from. */
  startSampling(intervalMs = 1000): void {
    if (!this.reader || this.timer) return;
    const tick = (): void => void this.sample().catch(() => undefined);
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stopSampling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async sample(): Promise<Sample> {
    if (!this.reader) throw new Error('no stack metrics URL configured');
    const snapshot = await this.reader.snapshot();
    const sample = toSample(snapshot);
    this.history.push(sample);
    while (this.history.length > 0 && this.history[0].time < sample.time - HISTORY_SECONDS) this.history.shift();
    return sample;
  }

  /** The serving figures over `window`, from the first source that answers. */
  async view(window: Window, models: string[] = [], options: { skipPrometheus?: boolean } = {}): Promise<ServingView> {
    const scope: QueryScope = { ...this.options.scope, models };
    let prometheusProblem = options.skipPrometheus ? 'Prometheus not asked' : 'no Prometheus configured';
    if (this.prometheus && !options.skipPrometheus) {
      try {
        return await this.fromPrometheus(window, scope);
      } catch (error) {
        prometheusProblem = error instanceof PrometheusUnreachable ? error.message : `Prometheus query failed: ${(error as Error).message}`;
      }
    }
    try {
      return { ...(await this.fromStackMetrics(window, models)), note: `${prometheusProblem}; figures computed from the stack's /metrics` };
    } catch (error) {
      const stackProblem = `stack metrics unreachable: ${(error as Error).message}`;
      return {
        ...simulatedServing(window, this.options.weights ?? {}, models, this.options.seed ?? 42),
        note: `${prometheusProblem}; ${stackProblem}; showing simulated figures`,
      };
    }
  }

  private async fromPrometheus(window: Window, scope: QueryScope): Promise<ServingView> {
    const prometheus = this.prometheus!;
    const end = new Date();
    const seconds = windowSeconds(window);
    const start = new Date(end.getTime() - seconds * 1000);
    const step = Math.max(1, Math.round(seconds / 60));
    // a rate needs at least two samples inside its range: use a sub-window of a few steps for the series
    const seriesWindow = `${Math.max(step * 4, 5)}s`;
    const [totals, rates, errors, p95, rateRange, p95Range] = await Promise.all([
      prometheus.query(PROMQL.requestsTotalByModel(scope), end),
      prometheus.query(PROMQL.requestRateByModel(window, scope), end),
      prometheus.query(PROMQL.errorRatio(window, scope), end),
      prometheus.query(PROMQL.p95LatencySeconds(window, scope), end),
      prometheus.queryRange(PROMQL.requestRateByModel(seriesWindow, scope), start, end, step),
      prometheus.queryRange(PROMQL.p95LatencySeconds(seriesWindow, scope), start, end, step),
    ]);
    const byModel = (samples: { metric: Record<string, string>; value: number }[]) => Object.fromEntries(samples.map((s) => [s.metric.model ?? '', s.value]));
    return {
      source: 'LIVE:prometheus',
      observedAt: end.toISOString(),
      window,
      requestsTotal: byModel(totals),
      requestRate: byModel(rates),
      errorRatio: finiteOrNull(errors[0]?.value),
      p95Seconds: finiteOrNull(p95[0]?.value),
      rateSeries: Object.fromEntries(rateRange.map((s) => [s.metric.model ?? '', s.points])),
      p95Series: (p95Range[0]?.points ?? []).filter((p) => Number.isFinite(p.value)),
    };
  }

  private async fromStackMetrics(window: Window, models: string[]): Promise<ServingView> {
    const latest = await this.sample();
    const seconds = windowSeconds(window);
    const inWindow = this.history.filter((s) => s.time >= latest.time - seconds);
    const first = inWindow[0];
    const keep = (model: string): boolean => models.length === 0 || models.includes(model);
    const requestsTotal: Record<string, number> = {};
    for (const [key, value] of latest.calls) {
      const [model, code] = key.split('\u0000');
      if (code === '200' && keep(model)) requestsTotal[model] = (requestsTotal[model] ?? 0) + value;
    }
    const rateBetween = (a: Sample, b: Sample): Record<string, number> => {
      const out: Record<string, number> = {};
      const dt = b.time - a.time;
      for (const [key, value] of b.calls) {
        const model = key.split('\u0000')[0];
        if (!keep(model) || dt <= 0) continue;
        out[model] = (out[model] ?? 0) + (value - (a.calls.get(key) ?? 0)) / dt;
      }
      return out;
    };
    const calls = (s: Sample, errorsOnly: boolean): number =>
      [...s.calls].filter(([key]) => keep(key.split('\u0000')[0]) && (!errorsOnly || !key.split('\u0000')[1].startsWith('2'))).reduce((t, [, v]) => t + v, 0);
    const total = calls(latest, false) - calls(first, false);
    const failed = calls(latest, true) - calls(first, true);
    const rateSeries: Record<string, Point[]> = {};
    const p95Series: Point[] = [];
    for (let i = 1; i < inWindow.length; i++) {
      for (const [model, rate] of Object.entries(rateBetween(inWindow[i - 1], inWindow[i]))) (rateSeries[model] ??= []).push({ time: inWindow[i].time, value: rate });
      const q = histogramQuantile(0.95, bucketIncrease(inWindow[i].buckets, inWindow[i - 1].buckets));
      if (Number.isFinite(q)) p95Series.push({ time: inWindow[i].time, value: q });
    }
    return {
      source: 'LIVE:stack-metrics',
      observedAt: new Date(latest.time * 1000).toISOString(),
      window,
      requestsTotal,
      requestRate: inWindow.length > 1 ? rateBetween(first, latest) : {},
      errorRatio: total > 0 ? failed / total : null,
      p95Seconds: finiteOrNull(histogramQuantile(0.95, bucketIncrease(latest.buckets, first === latest ? new Map() : first.buckets))),
      covers: coverage(first, latest, seconds),
      rateSeries,
      p95Series,
    };
  }
}

/** The period between two /metrics samples, in words, when it falls short of the window asked for. */
export function coverage(first: { time: number }, latest: { time: number }, windowSeconds: number): string | undefined {
  if (first === latest) return 'since the platform started (one /metrics sample so far)';
  const covered = latest.time - first.time;
  // Sampling every second: a window covered to within two samples is the window.
  return covered >= windowSeconds - 2 ? undefined : `the last ${Math.round(covered)} s of /metrics samples`;
}

/** One pod's endpoint: no namespace label to filter on (Prometheus adds it when it scrapes). */
function toSample(snapshot: MetricsSnapshot): Sample {
  const calls = new Map<string, number>();
  const family = snapshot.families.seldon_model_infer_total;
  for (const m of (family?.data ?? []) as { labels: Record<string, string>; value: number }[]) {
    const key = `${m.labels.model}\u0000${m.labels.code}`;
    calls.set(key, (calls.get(key) ?? 0) + m.value);
  }
  return { time: snapshot.takenAt.getTime() / 1000, calls, buckets: snapshot.buckets('seldon_model_infer_api_seconds') };
}
