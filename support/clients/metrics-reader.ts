/**
 * Reads a Prometheus text exposition (the stack's /metrics) with prom2javascript, and answers the
 * questions the harness asks of it: counter sums by label, histogram buckets, and differences
 * between two snapshots (what Prometheus's `increase` would see, without extrapolation).
 */
import { Readable } from 'node:stream';
import { getMetricsFromStream, type PromData, type PromHistogramData, type PromMetrics } from 'prom2javascript';

type Filter = Record<string, string>;
const matches = (labels: Record<string, string>, filter: Filter): boolean => Object.entries(filter).every(([k, v]) => labels[k] === v);

/** Cumulative bucket counts keyed by upper bound ("+Inf" included), summed over matching series. */
export type Buckets = Map<number, number>;

export class MetricsSnapshot {
  constructor(readonly families: PromMetrics, readonly takenAt: Date) {}

  static async parse(text: string, takenAt = new Date()): Promise<MetricsSnapshot> {
    return new MetricsSnapshot(await getMetricsFromStream(Readable.from([text])), takenAt);
  }

  private samples(name: string): PromData[] {
    const family = this.families[name];
    return family && family.type !== 'histogram' && family.type !== 'summary' ? (family.data as PromData[]) : [];
  }

  /** Sum of a counter or gauge over the series whose labels match the filter. */
  sum(name: string, filter: Filter = {}): number {
    return this.samples(name)
      .filter((m) => matches(m.labels, filter))
      .reduce((total, m) => total + m.value, 0);
  }

  /** Counter totals grouped by one label. */
  sumBy(name: string, label: string, filter: Filter = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.samples(name)) {
      if (!matches(m.labels, filter)) continue;
      const key = m.labels[label] ?? '';
      out[key] = (out[key] ?? 0) + m.value;
    }
    return out;
  }

  /** Successful (HTTP 200) inference calls per external model name, from Seldon's agent counter. */
  answeredPerModel(): Record<string, number> {
    return this.sumBy('seldon_model_infer_total', 'model', { code: '200' });
  }

  /** A histogram's cumulative buckets summed over the matching series (like `sum by (le)`). */
  buckets(name: string, filter: Filter = {}): Buckets {
    const family = this.families[name];
    const out: Buckets = new Map();
    if (family?.type !== 'histogram') return out;
    for (const series of family.data as PromHistogramData[]) {
      if (!matches(series.labels, filter)) continue;
      for (const [le, count] of Object.entries(series.buckets)) {
        const bound = le === '+Inf' ? Infinity : Number(le);
        out.set(bound, (out.get(bound) ?? 0) + count);
      }
    }
    return out;
  }
}

/**
 * Buckets of `later` minus those of `earlier` (a histogram's increase between two snapshots). A
 * bucket that went down was reset (its series gone and back, or the process restarted): its
 * increase is its count now, as Prometheus's `increase()` counts a counter reset.
 */
export function bucketIncrease(later: Buckets, earlier: Buckets): Buckets {
  const out: Buckets = new Map();
  for (const [bound, count] of later) {
    const before = earlier.get(bound) ?? 0;
    out.set(bound, count < before ? count : count - before);
  }
  return out;
}

/**
 * `histogram_quantile` on classic buckets, with Prometheus's rules (promql/quantile.go
 * BucketQuantile): NaN without a +Inf bucket, with fewer than two buckets or no observations;
 * the second-highest bound when the rank falls in the +Inf bucket; linear interpolation otherwise.
 */
export function histogramQuantile(q: number, buckets: Buckets): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  if (sorted.length < 2 || sorted[sorted.length - 1][0] !== Infinity) return NaN;
  // force monotonic counts, as Prometheus does for buckets scraped at slightly different times
  for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) sorted[i][1] = sorted[i - 1][1];
  const total = sorted[sorted.length - 1][1];
  if (total === 0) return NaN;
  const rank = q * total;
  // as sort.Search over all but the +Inf bucket: no bucket reaching the rank means the +Inf bucket
  const found = sorted.findIndex(([, count]) => count >= rank);
  const b = found === -1 ? sorted.length - 1 : found;
  if (b === sorted.length - 1) return sorted[sorted.length - 2][0];
  if (b === 0 && sorted[0][0] <= 0) return sorted[0][0];
  const start = b === 0 ? 0 : sorted[b - 1][0];
  const prevCount = b === 0 ? 0 : sorted[b - 1][1];
  const [end, count] = sorted[b];
  return start + (end - start) * ((rank - prevCount) / (count - prevCount));
}

export class MetricsReader {
  constructor(readonly metricsUrl: string) {}

  async snapshot(): Promise<MetricsSnapshot> {
    const res = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${this.metricsUrl} answered ${res.status}`);
    return MetricsSnapshot.parse(await res.text());
  }
}
