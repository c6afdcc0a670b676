/**
 * `npm run doctor` as a user runs it: a healthy machine passes, an unreachable PostgreSQL or a
 * missing Prometheus binary is named with a fix and makes it exit 1, and no password is printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { closedPort } from './helpers.ts';

function doctor(env: Record<string, string>): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'doctor.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

test('an unreachable PostgreSQL is named, with its masked URL and a fix, and the doctor fails', async () => {
  const { code, out } = doctor({ MLFLOW_DB_URL: `postgres://mlflow:s3cret-pw@127.0.0.1:${await closedPort()}/mlflow` });
  assert.equal(code, 1, out);
  assert.match(out, /PostgreSQL\s+│ FAIL/);
  assert.match(out, /PostgreSQL unreachable/);
  assert.match(out, /ECONNREFUSED/);
  assert.match(out, /required check\(s\) failed: PostgreSQL, MLflow schema/);
  assert.ok(!out.includes('s3cret-pw'), 'the password was printed');
});

test('a missing Prometheus binary is named with how to install it', () => {
  const { code, out } = doctor({ PROMETHEUS_BIN: '/nonexistent/prometheus' });
  assert.equal(code, 1, out);
  assert.match(out, /Prometheus\s+│ FAIL/);
  assert.match(out, /apt-get install -y/);
  assert.match(out, /PostgreSQL\s+│ OK/);
});

test('a bad setting is a configuration error naming the variable', () => {
  const { code, out } = doctor({ PROMETHEUS_URL: 'not a url' });
  assert.equal(code, 2);
  assert.match(out, /PROMETHEUS_URL/);
});
