/**
 * Reads Seldon's Prometheus exposition from the stack's /metrics (parse-prometheus-text-format).
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export class MetricsSnapshot {
  constructor(readonly families: ParsedFamily[], readonly takenAt: Date) {}

  /** Sum of a counter or gauge over the series whose labels match the filter. */
  sum(name: string, filter: Record<string, string> = {}): number {
    const family = this.families.find((f) => f.name === name);
    if (!family) return 0;
    return family.metrics
      .filter((m) => Object.entries(filter).every(([k, v]) => m.labels?.[k] === v))
      .reduce((total, m) => total + Number(m.value ?? m.count ?? 0), 0);
  }

  /** Counter totals grouped by one label. */
  sumBy(name: string, label: string, filter: Record<string, string> = {}): Record<string, number> {
    const family = this.families.find((f) => f.name === name);
    const out: Record<string, number> = {};
    for (const m of family?.metrics ?? []) {
      if (!Object.entries(filter).every(([k, v]) => m.labels?.[k] === v)) continue;
      const key = m.labels?.[label] ?? '';
      out[key] = (out[key] ?? 0) + Number(m.value ?? 0);
    }
    return out;
  }
}

export class MetricsReader {
  constructor(readonly metricsUrl: string) {}

  async snapshot(): Promise<MetricsSnapshot> {
    const res = await fetch(this.metricsUrl);
    if (!res.ok) throw new Error(`GET ${this.metricsUrl} answered ${res.status}`);
    return new MetricsSnapshot(parsePrometheusTextFormat(await res.text()), new Date());
  }
}
