/**
 * The embedded PostgreSQL the harness starts (support/db/postgres-provider.ts): its password never
 * in a file others can read (not in the shared temp folder while initdb runs, not under its own
 * folder afterwards), its folder private (0700, owned by the server's user) and removed on stop,
 * SCRAM-SHA-256 for every connection; and killed with SIGKILL mid-use, the stores already open
 * fail at once instead of hanging, and read again through the same pools once it is restarted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { AuditStore } from '../audit/store.ts';
import { MlflowStore } from '../support/clients/mlflow-store.ts';
import { providePostgres, type Database } from '../support/db/postgres-provider.ts';
import { urlPassword } from '../support/security/secret-scan.ts';

let db: Database;
let base: string;
/** Every file that appeared directly in the shared temp folder while the server was set up, with its mode and content then. */
const seen: { name: string; mode: number; content: Buffer }[] = [];

before(async () => {
  const tmp = os.tmpdir();
  const earlier = new Set(fs.readdirSync(tmp));
  // a file is announced when created, maybe before it is written: read it then and twice more
  const look = (name: string): void => {
    try {
      const file = path.join(tmp, name);
      const stat = fs.statSync(file);
      if (stat.isFile()) seen.push({ name, mode: stat.mode & 0o777, content: fs.readFileSync(file) });
    } catch {
      // gone already
    }
  };
  const timers: NodeJS.Timeout[] = [];
  const watcher = fs.watch(tmp, (_event, name) => {
    if (!name) return;
    look(name);
    for (const ms of [20, 100]) timers.push(setTimeout(() => look(name), ms));
  });
  try {
    db = await providePostgres({ keep: false, log: () => undefined });
  } finally {
    watcher.close();
    timers.forEach(clearTimeout);
  }
  const created = fs.readdirSync(tmp).filter((f) => f.startsWith('uat-postgres-') && !earlier.has(f));
  assert.equal(created.length, 1, `one folder of its own: ${created.join(', ')}`);
  base = path.join(tmp, created[0]);
});
after(async () => db?.stop());

test('the password is never in a file others may read: not in the shared temp folder while initdb runs, not in its own folder', () => {
  const password = urlPassword(db.url)!;
  assert.ok(password.length >= 16);
  const leaked = seen.filter((f) => f.content.includes(password));
  assert.deepEqual(leaked.map((f) => `${f.name} (mode ${f.mode.toString(8)})`), [], 'a file in the shared temp folder held the password');
  const readableByOthers = (fs.readdirSync(base, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name))
    .filter((f) => (fs.statSync(f).mode & 0o044) !== 0 && fs.readFileSync(f).includes(password));
  assert.deepEqual(readableByOthers, []);
  assert.ok(!fs.existsSync(path.join(base, 'pwfile')), 'the password file initdb read is removed');
});

test('its folder is private to the user the server runs as', () => {
  const stat = fs.statSync(base);
  assert.equal((stat.mode & 0o777).toString(8), '700');
  if (process.getuid?.() === 0) assert.notEqual(stat.uid, 0, 'run as root, the server runs as postgres and owns its folder');
});

test('every connection authenticates with SCRAM-SHA-256, and passwords are stored as SCRAM verifiers', async () => {
  const hba = fs.readFileSync(path.join(base, 'data', 'pg_hba.conf'), 'utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  assert.ok(hba.length > 0);
  for (const line of hba) assert.match(line, /\sscram-sha-256$/, line);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    assert.equal((await client.query('SHOW password_encryption')).rows[0].password_encryption, 'scram-sha-256');
    assert.match((await client.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'mlflow'")).rows[0].rolpassword, /^SCRAM-SHA-256\$/);
  } finally {
    await client.end();
  }
});

test('killed mid-use, the open stores fail at once instead of hanging, and read again through the same pools once it is restarted', async () => {
  const store = MlflowStore.connect(db.url);
  const audit = await AuditStore.connect(db.url);
  try {
    await store.ensureSchema();
    await store.ping();
    await audit.count();
    await db.kill();
    const t0 = Date.now();
    await assert.rejects(store.ping(), /ECONNREFUSED|terminat|closed/);
    await assert.rejects(audit.count(), /ECONNREFUSED|terminat|closed/);
    assert.ok(Date.now() - t0 < 5000, `failing took ${Date.now() - t0} ms`);
    const t1 = Date.now();
    await db.restart();
    const restartMs = Date.now() - t1;
    assert.ok(restartMs < 20_000);
    assert.equal(typeof (await store.ping()).version, 'string');
    assert.equal(await audit.count(), 0);
    assert.deepEqual(await store.missingTables(), [], 'what was written before the kill is still there');
  } finally {
    await store.close();
    await audit.close();
  }
});

test('stopped, its folder is gone', async () => {
  await db.stop();
  assert.ok(!fs.existsSync(base));
});
