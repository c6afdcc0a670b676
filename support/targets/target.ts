/**
 * The target port: what the suite needs of the platform under test, whichever serves it. A target
 * deploys a stack's manifest folder, waits until its resources are ready, reads their status,
 * patches an Experiment's candidates, gives the endpoints (inference, metrics, Prometheus, the
 * MLflow database, the dashboard) and tears down what this run created. Steps and tasks see only
 * this; `serving` is the adapter that differs:
 *
 * - local (support/targets/local-serving.ts): the embedded stack (`stack/`) as a child process
 *   serving the manifest folders on loopback;
 * - kubernetes (support/targets/kubernetes-serving.ts): the folders applied to a namespace of a
 *   Kubernetes API server, served by Seldon Core v2 (or the embedded stack in operator mode).
 *
 * The rest is the same for both and started here: a real PostgreSQL holding the MLflow store (or
 * MLFLOW_DB_URL), the training that publishes the predictors, a real Prometheus scraping the
 * serving metrics (or PROMETHEUS_URL) and the live dashboard. A database or Prometheus that cannot
 * be had does not stop the run: the target says what is missing and why, and the scenarios that
 * need it fail with that cause.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { stackFaults, type HarnessConfig } from '../config.ts';
import { interruptedBy } from '../interrupt.ts';
import { MlflowStore } from '../clients/mlflow-store.ts';
import type { ResourceStatusClient, SeldonKind } from '../clients/resource-status-client.ts';
import { providePostgres, type Database } from '../db/postgres-provider.ts';
import { publishPredictors, type PublishedPredictor } from '../training/publish-predictors.ts';
import { startPrometheus, LOCAL_POD, type PrometheusServer } from './prometheus-server.ts';
import { launchAuditGateway, launchDashboard, launchDriftMonitor, type ChildWatch, type StackProcess } from './stack-process.ts';
import { startWebhookReceiver, type ReceivedAlert } from './webhook-receiver.ts';
import { freePort } from '../free-port.ts';
import { DRIFT_DETECTORS } from '../../fixtures/drift-artifact.ts';
import { readManifests } from '../k8s/manifest-reader.ts';
import { AuditStore } from '../../audit/store.ts';
import { banditExperiment, startBandit, type BanditHandle } from './bandit-process.ts';
import { localServing } from './local-serving.ts';
import type { KubernetesApiAccess } from '../security/kubernetes-api.ts';
import { registerSecret, urlPassword } from '../security/secret-scan.ts';

export type TargetKind = HarnessConfig['target'];
export type TargetPart = 'stack' | 'dashboard' | 'prometheus' | 'bandit' | 'explanation gateway' | 'drift monitor';
/** The parts a fault drill kills and starts again: those the harness runs on both targets. */
export type DrillPart = 'dashboard' | 'database';

/** An Experiment candidate and its weight, as `spec.candidates` holds them. */
export type { Candidate } from '../../bandit/experiment-access.ts';
import type { Applied, Candidate } from '../../bandit/experiment-access.ts';
import { waitFor } from '../wait.ts';

const MODEL_CHANGE_DEADLINE_MS = 30_000;

/** Whether seldon-mesh serves `model` (`/v2/models/<model>/ready` answers 200). */
async function modelReady(inferenceUrl: string, model: string): Promise<boolean> {
  const res = await fetch(`${inferenceUrl}/v2/models/${encodeURIComponent(model)}/ready`, { headers: { 'seldon-model': model }, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return res?.status === 200;
}

/** A manifest folder deployed beside the main stack: its endpoints, its objects, those refused at apply, and its teardown. */
export interface DeployedStack {
  folder: string;
  inferenceUrl: string;
  status: ResourceStatusClient;
  /** The folder's objects (whether or not they were accepted). */
  objects: { kind: SeldonKind | string; name: string }[];
  refused: { kind?: string | null; name?: string | null; message: string }[];
  teardown(): Promise<void>;
}

export interface RunningTarget {
  kind: TargetKind;
  uatRunId: string;
  seed: number;
  inferenceUrl: string;
  /** The serving metrics (Seldon's agent endpoint; `/metrics/mlserver` and `/metrics/cadvisor` beside it). */
  metricsUrl: string;
  dashboardUrl: string;
  /** The main stack's resources' status (conditions), read where this target keeps them. */
  status: ResourceStatusClient;
  /** What serves the stack, for the reports: the embedded stack's address, or the API server and namespace. */
  servedBy: string;
  /** On a Kubernetes target whose namespace runs no Seldon pod: why this is not a Seldon cluster (no verdict for release). */
  notACluster?: string;
  /** The database, or why there is none. */
  database: Pick<Database, 'source' | 'maskedUrl' | 'serverVersion' | 'skipped'> | { problem: string };
  store?: MlflowStore;
  /** The database's connection URL, credentials included (never log it), when there is a database. */
  databaseUrl(): string | undefined;
  /** Prometheus: its URL and where it came from, or why there is none. */
  prometheus: { url: string; source: 'PROMETHEUS_URL' | 'local binary'; version: string } | { problem: string };
  /** Namespace label the Seldon series carry in Prometheus. */
  namespace?: string;
  published: PublishedPredictor[];
  /** The bandit controller of the MAB Experiment, or why there is none. */
  bandit: BanditHandle | { problem: string };
  /** The explanation gateway (audit/) in front of the explainers, and the audit trail it writes; or why there is none. */
  explanations: { url: string; audit: AuditStore; databaseUrl: string } | { problem: string };
  /** The drift monitor on the detectors of the manifests, and the harness's receiver of its alerts; or why there is none. */
  driftMonitor: { url: string; alerts: () => ReceivedAlert[]; pipeline: string; retrainModel: string } | { problem: string };
  stackFault?: string;
  /** Stop the local Prometheus mid-run (the fallback scenario); false when there is none to stop. */
  stopPrometheus(): Promise<boolean>;
  /** Start the local Prometheus again on the same address, with an empty history. */
  restartPrometheus(): Promise<void>;
  /**
   * Fails with the cause (process, exit code, last log lines) when the named part died during the
   * run; a Prometheus stopped on purpose (stopPrometheus) is not a death.
   */
  requireRunning(part: TargetPart): void;
  /** Every part that died during the run, with its cause. */
  deaths(): string[];
  /** Deploy another manifest folder beside the main stack; torn down by the caller or with the target. */
  deploy(folder: string): Promise<DeployedStack>;
  /** Set an Experiment's candidates and weights while it serves (the split changes without a restart); resolves once the control plane has observed the change, or says why that is not known. */
  patchExperiment(name: string, candidates: Candidate[]): Promise<Applied>;
  /** Take a Model of the main stack away (its object deleted, as when its server is gone); resolves once seldon-mesh no longer serves it. */
  removeModel(name: string): Promise<void>;
  /** Bring a Model taken away back from the main manifests; resolves once it is Ready and served. */
  restoreModel(name: string): Promise<void>;
  /** What a failed scenario needs to know of the resources: each one's conditions, and its events where the target has them. */
  diagnose(): Promise<string>;
  /** The Kubernetes API server the platform's access is proven on (support/security/kubernetes-api.ts), or why there is none. */
  kubernetesApi(): Promise<KubernetesApiAccess>;
  /** A fault drill: kill a part the harness runs with SIGKILL (as a crash or the OOM killer would); resolves once it has exited. */
  killPart(part: DrillPart): Promise<{ pid?: number }>;
  /** Start a killed part again as it was (same address, same settings); resolves once it reports ready. */
  restartPart(part: DrillPart): Promise<void>;
  stop(): Promise<void>;
}

/** The part of a target that differs: what serves the manifests. */
export interface Serving {
  /** The address whose `/metrics`, `/metrics/mlserver` and `/metrics/cadvisor` Prometheus scrapes, known before `up`. */
  metricsBase: string;
  /** Deploy the main manifest folders (after the training published their artifacts) and resolve once they serve. */
  up(): Promise<ServingUp>;
  /** The Kubernetes API server the platform's access is proven on, or why there is none. */
  kubernetesApi(): Promise<KubernetesApiAccess>;
  /** Undo what `up` and `deploy` did (unless UAT_KEEP); called once, also when `up` failed. */
  stop(): Promise<void>;
}

export interface ServingUp {
  inferenceUrl: string;
  status: ResourceStatusClient;
  /** The namespace the stacks serve in, on a cluster (the Seldon series' namespace label there). */
  namespace?: string;
  servedBy: string;
  /** Why what serves is not a Seldon cluster, when the target can tell (kubernetes: no pod runs in the namespace). */
  notACluster?: string;
  /** The process serving the stack, when the harness runs it. */
  watch?: ChildWatch;
  /** How a program of its own (the bandit controller, bandit/main.ts) reaches the Experiments: its CLI arguments. */
  experimentAccessArgs: string[];
  deploy(folder: string): Promise<DeployedStack>;
  patchExperiment(name: string, candidates: Candidate[]): Promise<Applied>;
  /** Delete a Model object of the main stack. */
  deleteModel(name: string): Promise<void>;
  /** Create a Model object again from the main manifests. */
  createModel(name: string): Promise<void>;
  diagnose(): Promise<string>;
}

export interface TargetOptions {
  /** Called at once when a part of the target dies during the run (after it was logged). */
  onDeath?: (part: TargetPart, cause: string) => void;
}

export interface ServingContext {
  config: HarnessConfig;
  uatRunId: string;
  log: (line: string) => void;
  /** A log file under reports/logs, closed with the target. */
  logFile: (name: string) => fs.WriteStream;
  onDeath: (part: TargetPart) => (cause: string) => void;
}

/** Start the target UAT_TARGET names. */
export async function startConfiguredTarget(config: HarnessConfig, log: (line: string) => void, options: TargetOptions = {}): Promise<RunningTarget> {
  // the Kubernetes client is loaded only for that target: every local run starts faster without it
  const serving = config.target === 'kubernetes' ? (await import('./kubernetes-serving.ts')).kubernetesServing : localServing;
  return startTarget(config, log, serving, options);
}

/**
 * Start a target: `makeServing` gives the adapter; database, training, Prometheus and dashboard
 * are started around it. Whatever started is stopped again when a later step fails.
 */
export async function startTarget(
  config: HarnessConfig,
  log: (line: string) => void,
  makeServing: (context: ServingContext) => Promise<Serving>,
  options: TargetOptions = {},
): Promise<RunningTarget> {
  const uatRunId = config.runId ?? randomUUID();
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch((error: Error) => log(`stopping: ${error.message}`));
  };
  const watched = new Map<TargetPart, { watch: ChildWatch }>();
  const died = (part: TargetPart) => (cause: string): void => {
    // Ctrl-C reaches every part (one process group): they stop themselves, they do not die
    if (interruptedBy()) return;
    log(`DIED: ${cause}`);
    options.onDeath?.(part, cause);
  };
  const logDir = path.join(config.reportsDir, 'logs');
  const logFile = (name: string): fs.WriteStream => {
    fs.mkdirSync(logDir, { recursive: true });
    const stream = fs.createWriteStream(path.join(logDir, name), { flags: 'a' });
    cleanup.push(async () => stream.end());
    return stream;
  };
  try {
    const serving = await makeServing({ config, uatRunId, log, logFile, onDeath: died });
    cleanup.push(() => serving.stop());
    // Prometheus starts first, on the serving address known now: its first target discovery (about
    // 5 s) overlaps the database, the training and the stack's start.
    let stackUp: { resolve: (at: Date) => void; reject: (error: Error) => void } | undefined;
    const stackUpAt = new Promise<Date>((resolve, reject) => (stackUp = { resolve, reject }));
    stackUpAt.catch(() => undefined); // a stack that never came up is reported by its own start
    const prometheusLog = new PassThrough();
    prometheusLog.pipe(logFile('prometheus.log'));
    // the drift monitor's port is chosen now so Prometheus scrapes it from the start
    const driftPipeline = driftMonitoring(config.manifests);
    const monitorPort = driftPipeline ? await freePort() : undefined;
    const launchPrometheus = (port?: number, scrapedAfter?: Promise<Date>) => startPrometheus({ bin: config.prometheusBin, stackUrl: serving.metricsBase, extraTargets: monitorPort ? [{ job: 'drift-monitor', url: `http://127.0.0.1:${monitorPort}/metrics` }] : [], log: prometheusLog, keepData: config.keep, port, onDeath: died('prometheus'), scrapedAfter });
    const prometheusStarting = config.prometheusUrl ? undefined : launchPrometheus(undefined, stackUpAt).then((server) => ({ server }), (error: Error) => ({ error }));
    cleanup.push(async () => {
      stackUp?.reject(new Error('the target stopped before the stack was up'));
      const started = await prometheusStarting;
      if (started && 'server' in started) await started.server.stop();
    });
    let db: Database | undefined;
    let database: RunningTarget['database'];
    try {
      db = await providePostgres({ mlflowDbUrl: config.mlflowDbUrl, keep: config.keep, log, ...(stackFaults(config).includes('database-cleartext-password') ? { auth: 'password' as const } : {}) });
      registerSecret('the MLflow database password', urlPassword(db.url));
      cleanup.push(() => db!.stop());
      database = { source: db.source, maskedUrl: db.maskedUrl, serverVersion: db.serverVersion, skipped: db.skipped };
    } catch (error) {
      database = { problem: `PostgreSQL unreachable: ${(error as Error).message}` };
      log(`${database.problem}; the MLflow store is unavailable for this run`);
    }
    const store = db ? MlflowStore.connect(db.url) : undefined;
    if (store) {
      cleanup.push(() => store.close());
      await store.ensureSchema();
    }
    const t0 = Date.now();
    const published = await publishPredictors({
      seed: config.seed,
      manifests: config.manifests,
      storageMap: config.storageMap,
      store,
      experimentName: config.mlflowExperiment,
      uatRunId,
      cacheDir: config.trainingCache,
      faults: stackFaults(config),
    });
    log(`${config.trainingCache ? `fitted or reused (UAT_TRAINING_CACHE=${config.trainingCache})` : 'trained'}${store ? ' and logged' : ' (not logged: no MLflow store)'} ${published.length} predictors in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${published.map((p) => `${p.name}=${p.accuracy.toFixed(3)}`).join(', ')}`);

    const served = await serving.up();
    if (served.watch) watched.set('stack', { watch: served.watch });
    stackUp?.resolve(new Date());

    let prometheus: RunningTarget['prometheus'];
    let localPrometheus: PrometheusServer | undefined;
    // the Seldon series' namespace label: a given Prometheus's is UAT_NAMESPACE; the local one labels them as LOCAL_POD
    let namespace = served.namespace ?? config.namespace;
    if (!prometheusStarting) {
      prometheus = { url: config.prometheusUrl!, source: 'PROMETHEUS_URL', version: 'unknown' };
      log(`Prometheus: PROMETHEUS_URL ${config.prometheusUrl}`);
    } else {
      try {
        const started = await prometheusStarting;
        if ('error' in started) throw started.error;
        localPrometheus = started.server;
        watched.set('prometheus', localPrometheus);
        prometheus = { url: localPrometheus.url, source: 'local binary', version: localPrometheus.version };
        namespace = LOCAL_POD.namespace;
        log(`Prometheus ${localPrometheus.version} at ${localPrometheus.url}, scraping ${serving.metricsBase} every second`);
      } catch (error) {
        prometheus = { problem: (error as Error).message };
        log(`Prometheus not available: ${prometheus.problem}; serving figures will come from the stack's /metrics`);
      }
    }

    // the bandit controller, on the Experiment that carries its annotations (k8s/mab), fresh for this run
    let bandit: RunningTarget['bandit'] = { problem: 'no Experiment in the manifests carries bandit annotations' };
    const banditOn = banditExperiment(config.manifests);
    if (banditOn && !db) bandit = { problem: `no PostgreSQL for the bandit controller of ${banditOn} (it keeps its posteriors there): ${'problem' in database ? database.problem : ''}` };
    else if (banditOn) {
      try {
        const handle = await startBandit({
          experiment: banditOn,
          accessArgs: served.experimentAccessArgs,
          databaseUrl: db!.url,
          seed: config.seed,
          faults: stackFaults(config).filter((f) => f.startsWith('bandit-')).map((f) => f.slice('bandit-'.length)),
          log: logFile('bandit.log'),
          onDeath: died('bandit'),
        });
        cleanup.push(() => handle.stop());
        bandit = handle;
        log(`bandit controller on Experiment ${banditOn} at ${handle.url} (${String(handle.ready.strategy)})`);
      } catch (error) {
        bandit = { problem: `the bandit controller did not start: ${(error as Error).message}` };
        log(bandit.problem);
      }
    }

    // the explanation gateway in front of the explainers of the manifests, writing the run's audit trail
    const explainers = readManifests(config.manifests).flatMap((r) => {
      const ref = r.kind === 'Model' ? (r.spec as { explainer?: { modelRef?: string } }).explainer?.modelRef : undefined;
      return ref ? [`${r.name}=${ref}`] : [];
    });
    let explanations: RunningTarget['explanations'] = { problem: 'no Model in the manifests is an explainer' };
    if (explainers.length > 0 && !db) explanations = { problem: `no PostgreSQL for the explanation gateway (it writes the audit trail there): ${'problem' in database ? database.problem : ''}` };
    else if (explainers.length > 0) {
      try {
        const gateway = await launchAuditGateway({
          args: ['--inference-url', served.inferenceUrl, ...explainers.flatMap((e) => ['--explains', e]), ...stackFaults(config).filter((f) => f.startsWith('audit-')).flatMap((f) => ['--fault', f.slice('audit-'.length)])],
          env: { ...process.env, AUDIT_DB_URL: db!.url },
          log: logFile('explanation-gateway.log'),
          onDeath: died('explanation gateway'),
        });
        cleanup.push(() => gateway.stop());
        watched.set('explanation gateway', gateway);
        const audit = await AuditStore.connect(db!.url);
        cleanup.push(() => audit.close());
        explanations = { url: gateway.url, audit, databaseUrl: db!.url };
        log(`explanation gateway at ${gateway.url} (audit trail in the run's PostgreSQL): ${explainers.join(', ')}`);
      } catch (error) {
        explanations = { problem: `the explanation gateway did not start: ${(error as Error).message}` };
        log(explanations.problem);
      }
    }

    // the drift monitor on the batched detector steps of the drift pipeline, alerting the harness's receiver
    let driftMonitor: RunningTarget['driftMonitor'] = { problem: 'no Pipeline in the manifests has a batched drift detector step' };
    if (driftPipeline && !db) driftMonitor = { problem: `no PostgreSQL for the drift monitor's retraining runs (MLflow store): ${'problem' in database ? database.problem : ''}` };
    else if (driftPipeline) {
      try {
        const receiver = await startWebhookReceiver();
        cleanup.push(() => receiver.stop());
        const monitor = await launchDriftMonitor({
          args: [
            '--inference-url', served.inferenceUrl,
            '--namespace', served.namespace ?? config.namespace ?? 'seldon-mesh',
            ...driftPipeline.detectors.flatMap((d) => ['--detector', `${d}=${DRIFT_DETECTORS[d as keyof typeof DRIFT_DETECTORS].features.join(',')}`]),
            '--webhook-url', receiver.url,
            '--retrain-model', driftPipeline.model,
            '--seed', String(config.seed),
            // retrained candidates in an experiment of their own: the serving models' runs stay the latest of theirs
            '--experiment', `${config.mlflowExperiment}-retraining`,
            '--port', String(monitorPort),
            ...stackFaults(config).filter((f) => f.startsWith('monitor-')).flatMap((f) => ['--fault', f.slice('monitor-'.length)]),
          ],
          env: { ...process.env, MLFLOW_DB_URL: db!.url },
          log: logFile('drift-monitor.log'),
          onDeath: died('drift monitor'),
        });
        cleanup.push(() => monitor.stop());
        watched.set('drift monitor', monitor);
        driftMonitor = { url: monitor.url, alerts: receiver.received, pipeline: driftPipeline.name, retrainModel: driftPipeline.model };
        log(`drift monitor at ${monitor.url} on ${driftPipeline.name} (${driftPipeline.detectors.join(', ')}), alerts to ${receiver.url}`);
      } catch (error) {
        driftMonitor = { problem: `the drift monitor did not start: ${(error as Error).message}` };
        log(driftMonitor.problem);
      }
    }

    const startDashboard = (port: number): Promise<StackProcess> =>
      launchDashboard({
        args: [
          '--port', String(port),
          '--metrics-url', `${serving.metricsBase}/metrics`,
          ...('url' in prometheus ? ['--prometheus-url', prometheus.url] : []),
          ...(namespace ? ['--namespace', namespace] : []),
          ...config.manifests.flatMap((m) => ['--manifests', m]),
          '--mlflow-experiment', config.mlflowExperiment,
          '--refresh-seconds', '2',
          ...('url' in bandit ? ['--bandit-url', bandit.url] : []),
          ...('url' in driftMonitor ? ['--drift-url', driftMonitor.url] : []),
          // the run's evidence ledger, for the security view
          '--evidence', path.join(config.reportsDir, 'evidence', 'evidence.ndjson'),
          '--seed', String(config.seed),
          ...stackFaults(config).filter((f) => f.startsWith('dashboard-')).flatMap((f) => ['--fault', f]),
        ],
        env: { ...process.env, MLFLOW_DB_URL: db?.url ?? '' },
        log: logFile('dashboard.log'),
        onDeath: died('dashboard'),
      });
    let dashboard = await startDashboard(config.dashboardPort);
    cleanup.push(() => dashboard.stop());
    watched.set('dashboard', dashboard);
    log(`dashboard at ${dashboard.url}`);

    return {
      kind: config.target,
      uatRunId,
      seed: config.seed,
      inferenceUrl: served.inferenceUrl,
      metricsUrl: `${serving.metricsBase}/metrics`,
      dashboardUrl: dashboard.url,
      status: served.status,
      servedBy: served.servedBy,
      notACluster: served.notACluster,
      database,
      databaseUrl: () => db?.url,
      store,
      prometheus,
      namespace,
      published,
      bandit,
      explanations,
      driftMonitor,
      stackFault: config.stackFault,
      stopPrometheus: async () => {
        if (!localPrometheus) return false;
        await localPrometheus.stop();
        return true;
      },
      restartPrometheus: async () => {
        if (!localPrometheus || (localPrometheus.child.exitCode === null && localPrometheus.child.signalCode === null)) return; // none, or still running
        const again = await launchPrometheus(localPrometheus.port);
        Object.assign(localPrometheus, again);
      },
      requireRunning: (part) => {
        const cause = watched.get(part)?.watch.deathCause();
        if (cause) throw new Error(`the ${part} is down: ${cause}`);
      },
      deploy: served.deploy,
      patchExperiment: served.patchExperiment,
      removeModel: async (name) => {
        await served.deleteModel(name);
        await waitFor(`seldon-mesh to stop serving ${name}`, MODEL_CHANGE_DEADLINE_MS, async () => ((await modelReady(served.inferenceUrl, name)) ? undefined : true), 50);
      },
      restoreModel: async (name) => {
        await served.createModel(name);
        await served.status.waitFor('Model', name, 'Ready', 'True', MODEL_CHANGE_DEADLINE_MS);
        await waitFor(`seldon-mesh to serve ${name} again`, MODEL_CHANGE_DEADLINE_MS, async () => ((await modelReady(served.inferenceUrl, name)) ? true : undefined), 50);
      },
      diagnose: served.diagnose,
      killPart: async (part) => {
        if (part === 'dashboard') {
          const exited = new Promise<void>((resolve) => (dashboard.child.exitCode !== null || dashboard.child.signalCode !== null ? resolve() : dashboard.child.once('exit', () => resolve())));
          dashboard.child.kill('SIGKILL');
          await exited;
          return { pid: dashboard.child.pid };
        }
        if (!db) throw new Error(`there is no database in this run to kill: ${'problem' in database ? database.problem : ''}`);
        await db.kill();
        return {};
      },
      restartPart: async (part) => {
        if (part === 'dashboard') {
          // on the same address, so the pages and links of the run stay valid
          dashboard = await startDashboard(Number(new URL(dashboard.url).port));
          watched.set('dashboard', dashboard);
          return;
        }
        if (!db) throw new Error('there is no database in this run to restart');
        await db.restart();
      },
      kubernetesApi: () => serving.kubernetesApi(),
      deaths: () => [...watched.values()].map((w) => w.watch.deathCause()).filter((c): c is string => c !== undefined),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The Pipeline whose batched steps are drift detectors the training step fits, its first unbatched step (the predictor it serves), and the detectors. */
function driftMonitoring(manifests: string[]): { name: string; model: string; detectors: string[] } | undefined {
  for (const r of readManifests(manifests)) {
    if (r.kind !== 'Pipeline') continue;
    const steps = (r.spec as { steps?: { name: string; batch?: unknown }[] }).steps ?? [];
    const detectors = steps.filter((s) => s.batch !== undefined && s.name in DRIFT_DETECTORS).map((s) => s.name);
    const model = steps.find((s) => s.batch === undefined)?.name;
    if (detectors.length > 0 && model) return { name: r.name, model, detectors };
  }
  return undefined;
}
