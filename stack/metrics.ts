/**
 * The metrics a Seldon Core v2 server pod exposes, under the same names, labels and buckets, through
 * prom-client, in three registries that are scraped as three endpoints like the pod's containers:
 *  - `agent` (/metrics): Seldon's agent (scheduler/pkg/metrics/agent.go);
 *  - `mlserver` (/metrics/mlserver): the inference server's own REST and queue histograms;
 *  - `container` (/metrics/cadvisor): this process's CPU and memory under the kubelet's cAdvisor names.
 * The scrape configuration adds namespace, pod and container labels, as a PodMonitor does.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const SELDON_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** prometheus_client's DEFAULT_BUCKETS (client_python metrics.py), which MLServer's histograms use. */
export const PROMETHEUS_DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** The label starlette_exporter gives every MLServer REST series. */
const APP_NAME = 'mlserver';
/** The method label of seldon_model_infer_api_seconds for REST calls (Seldon agent: the lower-case HTTP method). */
export const REST_METHOD = 'post';
const SERVER = 'mlserver';
export const INFER_PATH = '/v2/models/{model_name}/infer';
const REPLICA = '0';
/** The agent's aggregate series' labels (REST calls of the one server replica). */
const AGGREGATE_LABELS: Readonly<Record<string, string>> = { server: SERVER, server_replica: REPLICA, method_type: 'rest' };

export class SeldonMetrics {
  readonly registry = new Registry();
  readonly mlserverRegistry = new Registry();
  readonly containerRegistry = new Registry();
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

  private readonly loadedBytes = new Gauge({
    name: 'seldon_loaded_model_memory_bytes_gauge',
    help: 'Gauge of memory of models loaded onto server replica',
    labelNames: ['server', 'server_replica', 'model_internal'],
    registers: [this.registry],
  });
  private readonly evictedBytes = new Gauge({
    name: 'seldon_evicted_model_memory_bytes_gauge',
    help: 'Gauge of memory of models evicted from server replica',
    labelNames: ['server', 'server_replica', 'model_internal'],
    registers: [this.registry],
  });
  private readonly capacityBytes = new Gauge({
    name: 'seldon_server_replica_memory_capacity_bytes_gauge',
    help: 'Gauge of memory capacity of server replica',
    labelNames: ['server', 'server_replica'],
    registers: [this.registry],
  });
  private readonly overcommitBytes = new Gauge({
    name: 'seldon_server_replica_memory_capacity_overcommit_bytes_gauge',
    help: 'Gauge of memory capacity with overcommit of server replica',
    labelNames: ['server', 'server_replica'],
    registers: [this.registry],
  });
  private readonly loadCounter = new Counter({ name: 'seldon_load_model_counter', help: 'A count of models loaded', labelNames: ['server', 'server_replica'], registers: [this.registry] });
  private readonly unloadCounter = new Counter({ name: 'seldon_unload_model_counter', help: 'A count of models unloaded', labelNames: ['server', 'server_replica'], registers: [this.registry] });
  private readonly evictCounter = new Counter({ name: 'seldon_cache_evict_count', help: 'A count of models evicted from the cache', labelNames: ['server', 'server_replica'], registers: [this.registry] });
  private readonly missCounter = new Counter({ name: 'seldon_cache_miss_count', help: 'A count of model cache misses', labelNames: ['server', 'server_replica'], registers: [this.registry] });

  // MLServer's REST metrics: starlette_exporter's PrometheusMiddleware(app_name="mlserver",
  // prefix="rest_server") in mlserver/rest/app.py, with the library's default buckets and the route
  // template as `path`; health endpoints are skipped and unmatched routes are not counted.
  private readonly restTotal = new Counter({
    name: 'rest_server_requests_total',
    help: 'Total HTTP requests',
    labelNames: ['method', 'path', 'status_code', 'app_name'],
    registers: [this.mlserverRegistry],
  });
  private readonly restDuration = new Histogram({
    name: 'rest_server_request_duration_seconds',
    help: 'HTTP request duration, in seconds',
    labelNames: ['method', 'path', 'status_code', 'app_name'],
    buckets: PROMETHEUS_DEFAULT_BUCKETS,
    registers: [this.mlserverRegistry],
  });
  private readonly restInProgress = new Gauge({
    name: 'rest_server_requests_in_progress',
    help: 'Total HTTP requests currently in progress',
    labelNames: ['method', 'app_name'],
    registers: [this.mlserverRegistry],
  });
  // mlserver/parallel/dispatcher.py: requests in flight when one is dispatched; no labels, default buckets.
  private readonly queue = new Histogram({
    name: 'parallel_request_queue',
    help: 'counter of request queue size for workers',
    buckets: PROMETHEUS_DEFAULT_BUCKETS,
    registers: [this.mlserverRegistry],
  });
  // mlserver/handlers/dataplane.py: per model (MLServer's name for it: the internal name) and URL version.
  private readonly modelSuccess = new Counter({
    name: 'model_infer_request_success',
    help: 'Model infer request success count',
    labelNames: ['model', 'version'],
    registers: [this.mlserverRegistry],
  });
  private readonly modelFailure = new Counter({
    name: 'model_infer_request_failure',
    help: 'Model infer request failure count',
    labelNames: ['model', 'version'],
    registers: [this.mlserverRegistry],
  });
  private inFlight = 0;

  constructor(memoryCapacityBytes: number) {
    for (const counter of [this.loadCounter, this.unloadCounter, this.evictCounter, this.missCounter]) counter.inc({ server: SERVER, server_replica: REPLICA }, 0);
    this.capacityBytes.set({ server: SERVER, server_replica: REPLICA }, memoryCapacityBytes);
    this.overcommitBytes.set({ server: SERVER, server_replica: REPLICA }, memoryCapacityBytes);
    new Counter({
      name: 'container_cpu_usage_seconds_total',
      help: 'Cumulative cpu time consumed in seconds',
      labelNames: ['container'],
      registers: [this.containerRegistry],
      collect() {
        const used = process.cpuUsage();
        this.reset();
        this.inc({ container: SERVER }, (used.user + used.system) / 1e6);
      },
    });
    new Gauge({
      name: 'container_memory_working_set_bytes',
      help: 'Current working set in bytes',
      labelNames: ['container'],
      registers: [this.containerRegistry],
      collect() {
        this.set({ container: SERVER }, process.memoryUsage().rss);
      },
    });
  }

  /** A model was loaded onto the server; `bytes` is the size of its artifact. */
  modelLoaded(model: string, modelInternal: string, bytes: number): void {
    this.loaded.set({ server: SERVER, server_replica: REPLICA, model_internal: modelInternal }, 1);
    this.loadedBytes.set({ server: SERVER, server_replica: REPLICA, model_internal: modelInternal }, bytes);
    this.evictedBytes.set({ server: SERVER, server_replica: REPLICA, model_internal: modelInternal }, 0);
    this.loadCounter.inc({ server: SERVER, server_replica: REPLICA });
    // Series of a successful call exist from the start (at zero), so the first requests are not
    // lost to a rate() or increase() that has no earlier sample to compare with.
    const labels = { server: SERVER, server_replica: REPLICA, model, model_internal: modelInternal, method_type: 'rest', code: '200' };
    this.inferTotal.inc(labels, 0);
    this.inferSeconds.inc(labels, 0);
    this.aggregateTotal.inc({ server: SERVER, server_replica: REPLICA, method_type: 'rest' }, 0);
    this.aggregateSeconds.inc({ server: SERVER, server_replica: REPLICA, method_type: 'rest' }, 0);
    this.apiSeconds.zero({ server: SERVER, server_replica: REPLICA, method: REST_METHOD, code: '200' });
    this.restTotal.inc({ method: 'POST', path: INFER_PATH, status_code: '200', app_name: APP_NAME }, 0);
    this.restDuration.zero({ method: 'POST', path: INFER_PATH, status_code: '200', app_name: APP_NAME });
    this.restInProgress.set({ method: 'POST', app_name: APP_NAME }, 0);
    this.modelSuccess.inc({ model: modelInternal, version: 'None' }, 0);
    this.modelFailure.inc({ model: modelInternal, version: 'None' }, 0);
    this.queue.zero({});
  }

  /**
   * Start of one REST request that reached the inference server on a route it serves (`path` is
   * the route template); call the returned function with the status it was answered with.
   */
  requestStarted(method: string, path: string): (status: number) => void {
    if (path === INFER_PATH) this.queue.observe(this.inFlight);
    this.inFlight += 1;
    const progress = this.labelSet(`progress\u0000${method}`, () => ({ method, app_name: APP_NAME }));
    this.restInProgress.inc(progress);
    const started = process.hrtime();
    return (status) => {
      this.inFlight -= 1;
      this.restInProgress.dec(progress);
      // as prom-client's startTimer measures: seconds from process.hrtime, observed under the start and end labels
      const delta = process.hrtime(started);
      this.restDuration.observe(this.labelSet(`duration\u0000${method}\u0000${path}\u0000${status}`, () => ({ method, path, app_name: APP_NAME, status_code: String(status) })), delta[0] + delta[1] / 1e9);
      this.restTotal.inc(this.labelSet(`total\u0000${method}\u0000${path}\u0000${status}`, () => ({ method, path, status_code: String(status), app_name: APP_NAME })));
    };
  }

  /** Label sets reused across requests (a request adds no allocation or key per series it touches). */
  private readonly labelSets = new Map<string, Record<string, string>>();
  private labelSet(key: string, make: () => Record<string, string>): Record<string, string> {
    let labels = this.labelSets.get(key);
    if (labels === undefined) this.labelSets.set(key, (labels = make()));
    return labels;
  }
  /** MLServer's data-plane counters for one inference that reached a model's handler. */
  modelInferred(modelInternal: string, succeeded: boolean): void {
    (succeeded ? this.modelSuccess : this.modelFailure).inc(this.labelSet(`model\u0000${modelInternal}`, () => ({ model: modelInternal, version: 'None' })));
  }

  /** One REST request the agent proxied to a model (inference, metadata or readiness), under its answer's code. */
  observeInfer(model: string, modelInternal: string, code: number, seconds: number, method: string = REST_METHOD): void {
    const labels = this.labelSet(`infer\u0000${model}\u0000${modelInternal}\u0000${code}`, () => ({ server: SERVER, server_replica: REPLICA, model, model_internal: modelInternal, method_type: 'rest', code: String(code) }));
    this.inferTotal.inc(labels);
    this.inferSeconds.inc(labels, seconds);
    this.aggregateTotal.inc(AGGREGATE_LABELS);
    this.aggregateSeconds.inc(AGGREGATE_LABELS, seconds);
    this.apiSeconds.observe(this.labelSet(`api\u0000${method}\u0000${code}`, () => ({ server: SERVER, server_replica: REPLICA, method, code: String(code) })), seconds);
  }

  /** The pipeline gateway's series (server `pipeline-gateway`): one per synchronous pipeline request; each step is also a model call. */
  private readonly pipelineTotal = new Counter({ name: 'seldon_pipeline_infer_total', help: 'A count of pipeline inference calls', labelNames: ['server', 'pipeline', 'method_type', 'code'], registers: [this.registry] });
  private readonly pipelineSeconds = new Counter({ name: 'seldon_pipeline_infer_seconds_total', help: 'A sum of pipeline inference call durations', labelNames: ['server', 'pipeline', 'method_type', 'code'], registers: [this.registry] });
  private readonly pipelineAggregateTotal = new Counter({ name: 'seldon_pipeline_aggregate_infer_total', help: 'A count of pipeline inference calls (aggregate)', labelNames: ['server', 'method_type'], registers: [this.registry] });
  private readonly pipelineAggregateSeconds = new Counter({ name: 'seldon_pipeline_aggregate_infer_seconds_total', help: 'A sum of pipeline inference call durations (aggregate)', labelNames: ['server', 'method_type'], registers: [this.registry] });
  private readonly pipelineApiSeconds = new Histogram({ name: 'seldon_pipeline_infer_api_seconds', help: 'A histogram of latencies for the pipeline gateway', labelNames: ['server', 'pipeline', 'method', 'code'], buckets: SELDON_LATENCY_BUCKETS, registers: [this.registry] });

  observePipeline(pipeline: string, code: number, seconds: number): void {
    const labels = { server: 'pipeline-gateway', pipeline, method_type: 'rest', code: String(code) };
    this.pipelineTotal.inc(labels);
    this.pipelineSeconds.inc(labels, seconds);
    this.pipelineAggregateTotal.inc({ server: 'pipeline-gateway', method_type: 'rest' });
    this.pipelineAggregateSeconds.inc({ server: 'pipeline-gateway', method_type: 'rest' }, seconds);
    this.pipelineApiSeconds.observe({ server: 'pipeline-gateway', pipeline, method: REST_METHOD, code: String(code) }, seconds);
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
