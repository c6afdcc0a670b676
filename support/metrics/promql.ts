/**
 * Every PromQL query the harness runs, by name, on Seldon Core v2's metric names
 * (scheduler/pkg/metrics/agent.go). The same strings serve the local target's Prometheus and a
 * cluster's: nothing here depends on how the series were scraped beyond Seldon's own labels plus
 * the `namespace` label a PodMonitor adds.
 */

export interface QueryScope {
  /** Kubernetes namespace of the Seldon servers; all namespaces when absent. */
  namespace?: string;
  /** External model names to keep; all models when absent or empty. */
  models?: string[];
}

/** A Prometheus range selector duration such as `5m` or `30s`. */
export type Window = string;

const quoteRegex = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&').replace(/"/g, '\\"');

function matchers(scope: QueryScope, extra: string[] = [], withModel = true): string {
  const parts = [...extra];
  if (scope.namespace) parts.push(`namespace="${scope.namespace.replace(/"/g, '\\"')}"`);
  if (withModel && scope.models && scope.models.length > 0) parts.push(`model=~"${scope.models.map(quoteRegex).join('|')}"`);
  return `{${parts.join(', ')}}`;
}

export const PROMQL = {
  /** Successful inference calls per model since the servers started (counter values, exact). */
  requestsTotalByModel: (scope: QueryScope = {}) => `sum by (model) (seldon_model_infer_total${matchers(scope, ['code="200"'])})`,
  /** Inference calls per model and response code since the servers started. */
  requestsTotalByModelAndCode: (scope: QueryScope = {}) => `sum by (model, code) (seldon_model_infer_total${matchers(scope)})`,
  /** Successful inference calls per model within the window (Prometheus `increase`, extrapolated). */
  requestsInWindowByModel: (window: Window, scope: QueryScope = {}) => `sum by (model) (increase(seldon_model_infer_total${matchers(scope, ['code="200"'])}[${window}]))`,
  /** Inference calls per second per model, averaged over the window. */
  requestRateByModel: (window: Window, scope: QueryScope = {}) => `sum by (model) (rate(seldon_model_infer_total${matchers(scope)}[${window}]))`,
  /** Share of inference calls within the window whose response code was not 2xx (0 when none failed, empty when none came). */
  errorRatio: (window: Window, scope: QueryScope = {}) =>
    `(sum(rate(seldon_model_infer_total${matchers(scope, ['code!~"2.."'])}[${window}])) or vector(0)) / sum(rate(seldon_model_infer_total${matchers(scope)}[${window}]))`,
  /** 95th percentile of the agent's inference latency over the window, in seconds (no model label on this histogram). */
  p95LatencySeconds: (window: Window, scope: QueryScope = {}) =>
    `histogram_quantile(0.95, sum by (le) (rate(seldon_model_infer_api_seconds_bucket${matchers(scope, [], false)}[${window}])))`,
  /** The agent's latency histogram over the window: requests per bucket (`le`, cumulative), for a quantile and the bucket that holds it. */
  latencyBucketsIncrease: (window: Window, scope: QueryScope = {}) => `sum by (le) (increase(seldon_model_infer_api_seconds_bucket${matchers(scope, [], false)}[${window}]))`,
  /** The inference servers' memory: the working set of their `mlserver` containers (cAdvisor's name, as the kubelet exposes it), summed over replicas, in bytes. */
  serverMemoryBytes: (scope: QueryScope = {}) => `sum(container_memory_working_set_bytes${matchers(scope, ['container="mlserver"'], false)})`,
} as const;

export type QueryName = keyof typeof PROMQL;

/** Seconds in a window such as `5m`, `30s`, `1h`. */
export function windowSeconds(window: Window): number {
  const match = /^(\d+)(s|m|h)$/.exec(window);
  if (!match) throw new Error(`window '${window}' must look like 30s, 5m or 1h`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
}
