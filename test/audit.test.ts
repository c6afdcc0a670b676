/**
 * The explanation gateway (audit/) and `npm run audit`: an explanation reaches the caller only
 * with its audit rows written; who asks is required; a row it could not write withholds the
 * explanation; the report covers a period as Markdown and CSV and refuses bad arguments.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { parse as parseCsv } from 'csv-parse/sync';
import { PROJECT_ROOT } from '../support/config.ts';
import { featuresRequest, OipClient } from '../support/clients/oip-client.ts';
import { providePostgres, type Database } from '../support/db/postgres-provider.ts';
import { launchAuditGateway, type StackProcess } from '../support/targets/stack-process.ts';
import { publishForTests, startStack, tempDir, trainedForTests } from './helpers.ts';

const store = tempDir('audit-store');
const reports = tempDir('audit-reports');
let db: Database;
let stack: StackProcess;
let gateway: StackProcess;
let rows: number[][];

before(async () => {
  rows = trainedForTests().heldOut.slice(0, 2).map((r) => r.features);
  await publishForTests(store);
  db = await providePostgres({ keep: false, log: () => undefined });
  stack = await startStack(['--manifests', path.join(PROJECT_ROOT, 'k8s', 'ab-testing'), '--manifests', path.join(PROJECT_ROOT, 'k8s', 'explainer'), '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
  gateway = await launchAuditGateway({ args: ['--inference-url', stack.url, '--explains', 'enhanced-explainer=enhanced-predictor'], env: { ...process.env, AUDIT_DB_URL: db.url } });
});

after(async () => {
  await gateway?.stop();
  await stack?.stop();
  await db?.stop();
  fs.rmSync(store, { recursive: true, force: true });
  fs.rmSync(reports, { recursive: true, force: true });
});

const audit = (args: string[], env: Record<string, string | undefined> = { AUDIT_DB_URL: db.url }) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'audit.ts'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, MLFLOW_DB_URL: undefined, ...env }, encoding: 'utf8' });

test('an explanation through the gateway writes one row per instance, and the report for the period lists them as Markdown and CSV', { timeout: 60_000 }, async () => {
  const from = new Date().toISOString();
  const answer = await new OipClient(gateway.url).infer('enhanced-explainer', featuresRequest(rows, 'audit-1'), { headers: { 'x-requester': 'analyst@bank' } });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const result = audit(['--from', from, '--to', new Date(Date.now() + 1000).toISOString(), '--out', reports]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /Explained instances: 2, in 1 requests\./);
  assert.match(result.stdout, /\| analyst@bank \| 2 \|/);
  const csvFile = /Audit report \(CSV\): (.+)$/m.exec(result.stdout)![1];
  const lines = parseCsv(fs.readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
  assert.deepEqual(lines.map((l) => [l.request_id, l.instance, l.requester, l.explainer, l.model, l.model_version]), [
    ['audit-1', '0', 'analyst@bank', 'enhanced-explainer', 'enhanced-predictor', '1'],
    ['audit-1', '1', 'analyst@bank', 'enhanced-explainer', 'enhanced-predictor', '1'],
  ]);
  assert.equal(lines[0].top_features.split('; ').length, 5);
  // an empty period is a report of nothing, not an error
  const empty = audit(['--from', '2001-01-01', '--to', '2001-01-02', '--out', reports]);
  assert.equal(empty.status, 0, empty.stderr);
  assert.match(empty.stdout, /Explained instances: 0/);
});

test('without x-requester, for an explainer it does not audit, or when the row cannot be written, the gateway answers an error and no explanation', { timeout: 60_000 }, async () => {
  const client = new OipClient(gateway.url);
  const anonymous = await client.infer('enhanced-explainer', featuresRequest(rows));
  assert.equal(anonymous.status, 400);
  assert.match(String((anonymous.body as { error: string }).error), /x-requester must name who asks/);
  const other = await client.infer('baseline-explainer', featuresRequest(rows), { headers: { 'x-requester': 'a' } });
  assert.equal(other.status, 404);
  assert.match(String((other.body as { error: string }).error), /not an explainer this gateway audits \(explainers: enhanced-explainer\)/);
  const refused = await client.infer('enhanced-explainer', { inputs: [] }, { headers: { 'x-requester': 'a' } });
  assert.equal(refused.status, 400, 'the explainer\'s own refusal passes through');
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query('ALTER TABLE explanation_audit RENAME TO explanation_audit_away');
  try {
    const withheld = await client.infer('enhanced-explainer', featuresRequest(rows), { headers: { 'x-requester': 'a' } });
    assert.equal(withheld.status, 503);
    assert.match(String((withheld.body as { error: string }).error), /the explanation is withheld: its audit rows could not be written/);
  } finally {
    await admin.query('ALTER TABLE explanation_audit_away RENAME TO explanation_audit');
    await admin.end();
  }
});

test('npm run audit refuses bad arguments and a missing database with exit code 2, naming what is wrong', () => {
  const cases: [string[], Record<string, string | undefined> | undefined, RegExp][] = [
    [['--to', '2026-01-01'], undefined, /--from is required/],
    [['--from', 'yesterday', '--to', '2026-01-01'], undefined, /--from 'yesterday' is not an ISO 8601 date or time/],
    [['--from', '2026-02-01', '--to', '2026-01-01'], undefined, /--to \(2026-01-01T00:00:00\.000Z\) must be after --from/],
    [['--from', '2026-01-01', '--to', '2026-02-01', '--bogus'], undefined, /Unknown option '--bogus'/],
    [['--from', '2026-01-01', '--to', '2026-02-01'], { AUDIT_DB_URL: undefined }, /set AUDIT_DB_URL \(or MLFLOW_DB_URL\)/],
  ];
  for (const [args, env, message] of cases) {
    const result = audit(args, env);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
