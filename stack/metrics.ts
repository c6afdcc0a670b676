/**
 * Seldon Core v2 agent metrics, same names, labels and buckets as Seldon
 * (scheduler/pkg/metrics/agent.go), exposed through prom-client.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const SELDON_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const SERVER = 'mlserver';
const REPLICA = '0';

export class SeldonMetrics {
  readonly registry = new Registry();
  private readonly inferTotal = new Counter({
    name: 'seldon_model_infer_total',
    help: 'A count of server inference calls',
    labelNames: ['server', 'server_replica', 'model', 'model_internal', 'method_type', 'code'],
    registers: [this.registry],
  });
  private readonly inferSeconds = new Counter({
    name: 'seldon_model_infer_seconds_total',
    help: 'A sum of server inference call durations',
    labelNames: ['server', 'server_replica', 'model', 'model_internal', 'method_type', 'code'],
    registers: [this.registry],
  });
  private readonly aggregateTotal = new Counter({
    name: 'seldon_model_aggregate_infer_total',
    help: 'A count of server inference calls (aggregate)',
    labelNames: ['server', 'server_replica', 'method_type'],
    registers: [this.registry],
  });
  private readonly aggregateSeconds = new Counter({
    name: 'seldon_model_aggregate_infer_seconds_total',
    help: 'A sum of server inference call durations (aggregate)',
    labelNames: ['server', 'server_replica', 'method_type'],
    registers: [this.registry],
  });
  private readonly apiSeconds = new Histogram({
    name: 'seldon_model_infer_api_seconds',
    help: 'A histogram of latencies for inference server',
    labelNames: ['server', 'server_replica', 'method', 'code'],
    buckets: SELDON_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly loaded = new Gauge({
    name: 'seldon_loaded_model_gauge',
    help: 'Gauge of models loaded onto server replica',
    labelNames: ['server', 'server_replica', 'model_internal'],
    registers: [this.registry],
  });

  modelLoaded(modelInternal: string): void {
    this.loaded.set({ server: SERVER, server_replica: REPLICA, model_internal: modelInternal }, 1);
  }

  /** One REST inference call that reached a model. */
  observeInfer(model: string, modelInternal: string, code: number, seconds: number): void {
    const labels = { server: SERVER, server_replica: REPLICA, model, model_internal: modelInternal, method_type: 'rest', code: String(code) };
    this.inferTotal.inc(labels);
    this.inferSeconds.inc(labels, seconds);
    this.aggregateTotal.inc({ server: SERVER, server_replica: REPLICA, method_type: 'rest' });
    this.aggregateSeconds.inc({ server: SERVER, server_replica: REPLICA, method_type: 'rest' }, seconds);
    this.apiSeconds.observe({ server: SERVER, server_replica: REPLICA, method: 'rest', code: String(code) }, seconds);
  }

  /** Successful (HTTP 200) inference calls per external model name, read from the counters. */
  async requestsPerModel(): Promise<Record<string, number>> {
    const metric = await this.inferTotal.get();
    const counts: Record<string, number> = {};
    for (const v of metric.values) {
      if (v.labels.code !== '200') continue;
      const model = String(v.labels.model);
      counts[model] = (counts[model] ?? 0) + v.value;
    }
    return counts;
  }
}
