/**
 * The local target: a real PostgreSQL holding the MLflow store, the training step, and the
 * embedded stack (`stack/`) as a child process on loopback. The only module that knows how to
 * start the stack; everything else talks to it over the network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { HarnessConfig } from '../config.ts';
import { PROJECT_ROOT } from '../config.ts';
import { MlflowStore } from '../clients/mlflow-store.ts';
import { providePostgres, type Database } from '../db/postgres-provider.ts';
import { publishPredictors, type PublishedPredictor } from '../training/publish-predictors.ts';
import { waitFor } from '../wait.ts';

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
  let stack: ChildProcess | undefined;
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
    const args = [
      '--import', 'tsx', path.join(PROJECT_ROOT, 'stack', 'main.ts'),
      ...config.manifests.flatMap((m) => ['--manifests', m]),
      ...config.storageMap.flatMap(([prefix, dir]) => ['--storage-map', `${prefix}=${dir}`]),
      '--seed', String(config.seed),
      '--mlflow-experiment', config.mlflowExperiment,
      ...(config.stackFault ? ['--fault', config.stackFault] : []),
    ];
    stack = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, STACK_MLFLOW_DB_URL: db.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = stack;
    // If the harness process ends without AfterAll (killed, crashed), take the stack down with it.
    const killOnExit = (): void => void child.kill('SIGTERM');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    child.stderr?.pipe(stackLog);
    const url = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      let errors = '';
      const timer = setTimeout(() => reject(new Error(`the embedded stack did not report ready within ${STACK_START_DEADLINE_MS} ms`)), STACK_START_DEADLINE_MS);
      child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      child.stdout?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        stackLog.write(chunk);
        const line = buffer.split('\n').find((l) => l.includes('"event":"ready"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line).url as string);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the embedded stack exited with code ${code} before it was ready: ${errors.trim() || 'no message'}`));
      });
    });
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
        await stopChild(child);
        stackLog.end();
        await store.close();
        await db.stop();
      },
    };
  } catch (error) {
    if (stack) await stopChild(stack);
    await store.close().catch(() => undefined);
    await db.stop().catch(() => undefined);
    throw error;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
