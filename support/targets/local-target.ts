/**
 * The local target: a real PostgreSQL holding the MLflow store, the training step, the embedded
 * stack (`stack/`) as a child process on loopback, a real Prometheus scraping it (or PROMETHEUS_URL),
 * and the live dashboard. Only targets/ knows how to start them; everything else talks to them over
 * the network. A database or Prometheus that cannot be had does not stop the run: the target says
 * what is missing and why, and the scenarios that need it fail with that cause.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { HarnessConfig } from '../config.ts';
import { MlflowStore } from '../clients/mlflow-store.ts';
import { providePostgres, type Database } from '../db/postgres-provider.ts';
import { publishPredictors, type PublishedPredictor } from '../training/publish-predictors.ts';
import { freePort } from '../free-port.ts';
import { waitFor } from '../wait.ts';
import { startPrometheus, LOCAL_POD, type PrometheusServer } from './prometheus-server.ts';
import { launchDashboard, launchStack, type ChildWatch } from './stack-process.ts';

export interface RunningTarget {
  kind: 'local';
  uatRunId: string;
  seed: number;
  inferenceUrl: string;
  /** Where the resources' status is read, in the Kubernetes API's shape, and their namespace. */
  statusUrl: string;
  statusNamespace: string;
  metricsUrl: string;
  dashboardUrl: string;
  /** The database, or why there is none. */
  database: Pick<Database, 'source' | 'maskedUrl' | 'serverVersion' | 'skipped'> | { problem: string };
  store?: MlflowStore;
  /** Prometheus: its URL and where it came from, or why there is none. */
  prometheus: { url: string; source: 'PROMETHEUS_URL' | 'local binary'; version: string } | { problem: string };
  /** Namespace label the Seldon series carry in Prometheus. */
  namespace?: string;
  published: PublishedPredictor[];
  stackFault?: string;
  /** Stop the local Prometheus mid-run (the fallback scenario); false when there is none to stop. */
  stopPrometheus(): Promise<boolean>;
  /**
   * Fails with the cause (process, exit code, last log lines) when the named part died during the
   * run; a Prometheus stopped on purpose (stopPrometheus) is not a death.
   */
  requireRunning(part: TargetPart): void;
  /** Every part that died during the run, with its cause. */
  deaths(): string[];
  /** Deploy another manifest folder beside the main stack (its own endpoints); torn down with the target or by the caller. */
  deploy(folder: string): Promise<DeployedStack>;
  /** Start the local Prometheus again on the same address, with an empty history. */
  restartPrometheus(): Promise<void>;
  stop(): Promise<void>;
}

export type TargetPart = 'stack' | 'dashboard' | 'prometheus';

/** A manifest folder deployed on its own: endpoints, objects refused at apply, and its teardown. */
export interface DeployedStack {
  folder: string;
  inferenceUrl: string;
  statusUrl: string;
  namespace: string;
  refused: { kind?: string | null; name?: string | null; message: string }[];
  teardown(): Promise<void>;
}

const STACK_START_DEADLINE_MS = 30_000;

export interface LocalTargetOptions {
  /** Called at once when a part of the target dies during the run (after it was logged). */
  onDeath?: (part: TargetPart, cause: string) => void;
}

export async function startLocalTarget(config: HarnessConfig, log: (line: string) => void, options: LocalTargetOptions = {}): Promise<RunningTarget> {
  const uatRunId = randomUUID();
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  const watched = new Map<TargetPart, { watch: ChildWatch }>();
  const died = (part: TargetPart) => (cause: string): void => {
    log(`DIED: ${cause}`);
    options.onDeath?.(part, cause);
  };
  try {
    // Prometheus starts first, on the stack's address chosen now: its first target discovery (about
    // 5 s) overlaps the database, the training and the stack's start.
    const stackPort = await freePort();
    const url = `http://127.0.0.1:${stackPort}`;
    let stackUp: { resolve: (at: Date) => void; reject: (error: Error) => void } | undefined;
    const stackUpAt = new Promise<Date>((resolve, reject) => (stackUp = { resolve, reject }));
    stackUpAt.catch(() => undefined); // a stack that never came up is reported by its own start
    const prometheusLog = new PassThrough();
    const launchPrometheus = (port?: number, scrapedAfter?: Promise<Date>) => startPrometheus({ bin: config.prometheusBin, stackUrl: url, log: prometheusLog, keepData: config.keep, port, onDeath: died('prometheus'), scrapedAfter });
    const prometheusStarting = config.prometheusUrl ? undefined : launchPrometheus(undefined, stackUpAt).then((server) => ({ server }), (error: Error) => ({ error }));
    cleanup.push(async () => {
      stackUp?.reject(new Error('the target stopped before the stack was up'));
      const started = await prometheusStarting;
      if (started && 'server' in started) await started.server.stop();
    });
    let db: Database | undefined;
    let database: RunningTarget['database'];
    try {
      db = await providePostgres({ mlflowDbUrl: config.mlflowDbUrl, keep: config.keep, log });
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
    });
    log(`${config.trainingCache ? `fitted or reused (UAT_TRAINING_CACHE=${config.trainingCache})` : 'trained'}${store ? ' and logged' : ' (not logged: no MLflow store)'} ${published.length} predictors in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${published.map((p) => `${p.name}=${p.accuracy.toFixed(3)}`).join(', ')}`);

    const logDir = path.join(config.reportsDir, 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    const logFile = (name: string) => {
      const stream = fs.createWriteStream(path.join(logDir, name), { flags: 'a' });
      cleanup.push(async () => stream.end());
      return stream;
    };
    const faults = (config.stackFault ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    const stackArgs = (manifests: string[]): string[] => [
      ...manifests.flatMap((m) => ['--manifests', m]),
      ...config.storageMap.flatMap(([prefix, dir]) => ['--storage-map', `${prefix}=${dir}`]),
      '--seed', String(config.seed),
      ...faults.filter((f) => !f.startsWith('dashboard-') && !f.startsWith('doctor-')).flatMap((f) => ['--fault', f]),
    ];
    prometheusLog.pipe(logFile('prometheus.log'));
    const stack = await launchStack({
      args: [...stackArgs(config.manifests), '--port', String(stackPort)],
      log: logFile('stack.log'),
      deadlineMs: STACK_START_DEADLINE_MS,
      onDeath: died('stack'),
    });
    cleanup.push(() => stack.stop());
    watched.set('stack', stack);
    await waitFor('the embedded stack answers /v2/health/ready', 10_000, async () => {
      const res = await fetch(`${url}/v2/health/ready`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    });
    stackUp?.resolve(new Date());
    log(`embedded stack ready at ${url}${config.stackFault ? ` (fault injected: ${config.stackFault})` : ''}`);

    let prometheus: RunningTarget['prometheus'];
    let localPrometheus: PrometheusServer | undefined;
    let namespace = config.namespace;
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
        namespace ??= LOCAL_POD.namespace;
        log(`Prometheus ${localPrometheus.version} at ${localPrometheus.url}, scraping the stack every second`);
      } catch (error) {
        prometheus = { problem: (error as Error).message };
        log(`Prometheus not available: ${prometheus.problem}; serving figures will come from the stack's /metrics`);
      }
    }

    const dashboard = await launchDashboard({
      args: [
        '--port', String(config.dashboardPort),
        '--metrics-url', `${url}/metrics`,
        ...('url' in prometheus ? ['--prometheus-url', prometheus.url] : []),
        ...(namespace ? ['--namespace', namespace] : []),
        ...config.manifests.flatMap((m) => ['--manifests', m]),
        '--mlflow-experiment', config.mlflowExperiment,
        '--refresh-seconds', '2',
        '--seed', String(config.seed),
        ...faults.filter((f) => f.startsWith('dashboard-')).flatMap((f) => ['--fault', f]),
      ],
      env: { ...process.env, MLFLOW_DB_URL: db?.url ?? '' },
      log: logFile('dashboard.log'),
      onDeath: died('dashboard'),
    });
    cleanup.push(() => dashboard.stop());
    watched.set('dashboard', dashboard);
    log(`dashboard at ${dashboard.url}`);

    return {
      kind: 'local',
      uatRunId,
      seed: config.seed,
      inferenceUrl: url,
      statusUrl: url,
      statusNamespace: String(stack.ready.namespace),
      metricsUrl: `${url}/metrics`,
      dashboardUrl: dashboard.url,
      database,
      store,
      prometheus,
      namespace,
      published,
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
      deploy: async (folder) => {
        const extra = await launchStack({ args: stackArgs([folder]), log: logFile(`stack-${path.basename(folder)}.log`), deadlineMs: STACK_START_DEADLINE_MS });
        const teardown = (): Promise<void> => extra.stop();
        cleanup.push(teardown);
        log(`deployed ${folder} at ${extra.url}`);
        return { folder, inferenceUrl: extra.url, statusUrl: extra.url, namespace: String(extra.ready.namespace), refused: extra.ready.refused as DeployedStack['refused'], teardown };
      },
      deaths: () => [...watched.values()].map((w) => w.watch.deathCause()).filter((c): c is string => c !== undefined),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
