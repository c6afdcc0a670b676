/**
 * The local target: a real PostgreSQL holding the MLflow store, the training step, and the
 * embedded stack (`stack/`) as a child process on loopback (stack-process.ts). Only targets/ knows
 * how to start the stack; everything else talks to it over the network.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { HarnessConfig } from '../config.ts';
import { MlflowStore } from '../clients/mlflow-store.ts';
import { providePostgres, type Database } from '../db/postgres-provider.ts';
import { publishPredictors, type PublishedPredictor } from '../training/publish-predictors.ts';
import { waitFor } from '../wait.ts';
import { launchStack, type StackProcess } from './stack-process.ts';

export interface RunningTarget {
  kind: 'local';
  uatRunId: string;
  seed: number;
  inferenceUrl: string;
  metricsUrl: string;
  dashboardUrl: string;
  database: Pick<Database, 'source' | 'maskedUrl' | 'serverVersion' | 'skipped'>;
  store: MlflowStore;
  published: PublishedPredictor[];
  stackFault?: string;
  stop(): Promise<void>;
}

const STACK_START_DEADLINE_MS = 30_000;

export async function startLocalTarget(config: HarnessConfig, log: (line: string) => void): Promise<RunningTarget> {
  const uatRunId = randomUUID();
  const db = await providePostgres({ mlflowDbUrl: config.mlflowDbUrl, keep: config.keep, log });
  const store = MlflowStore.connect(db.url);
  let started: StackProcess | undefined;
  try {
    await store.ensureSchema();
    const t0 = Date.now();
    const published = await publishPredictors({
      seed: config.seed,
      manifests: config.manifests,
      storageMap: config.storageMap,
      store,
      experimentName: config.mlflowExperiment,
      uatRunId,
    });
    log(`trained and logged ${published.length} predictors in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${published.map((p) => `${p.name}=${p.accuracy.toFixed(3)}`).join(', ')}`);

    const logDir = path.join(config.reportsDir, 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    const stackLog = fs.createWriteStream(path.join(logDir, 'stack.log'), { flags: 'a' });
    const stack = await launchStack({
      args: [
        ...config.manifests.flatMap((m) => ['--manifests', m]),
        ...config.storageMap.flatMap(([prefix, dir]) => ['--storage-map', `${prefix}=${dir}`]),
        '--seed', String(config.seed),
        '--mlflow-experiment', config.mlflowExperiment,
        ...(config.stackFault ? ['--fault', config.stackFault] : []),
      ],
      env: { ...process.env, STACK_MLFLOW_DB_URL: db.url },
      log: stackLog,
      deadlineMs: STACK_START_DEADLINE_MS,
    });
    started = stack;
    const { url } = stack;
    await waitFor('the embedded stack answers /v2/health/ready', 10_000, async () => {
      const res = await fetch(`${url}/v2/health/ready`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    });
    log(`embedded stack ready at ${url}${config.stackFault ? ` (fault injected: ${config.stackFault})` : ''}`);

    return {
      kind: 'local',
      uatRunId,
      seed: config.seed,
      inferenceUrl: url,
      metricsUrl: `${url}/metrics`,
      dashboardUrl: `${url}/dashboard`,
      database: { source: db.source, maskedUrl: db.maskedUrl, serverVersion: db.serverVersion, skipped: db.skipped },
      store,
      published,
      stackFault: config.stackFault,
      stop: async () => {
        await stack.stop();
        stackLog.end();
        await store.close();
        await db.stop();
      },
    };
  } catch (error) {
    if (started) await started.stop();
    await store.close().catch(() => undefined);
    await db.stop().catch(() => undefined);
    throw error;
  }
}
