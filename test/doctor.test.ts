/**
 * `npm run doctor` as a user runs it: a healthy machine passes, an unreachable PostgreSQL or a
 * missing Prometheus binary is named with a fix and makes it exit 1, and no password is printed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { runDoctorProgram } from '../support/doctor/doctor-program.ts';
import { closedPort } from './helpers.ts';

function doctor(env: Record<string, string>): { code: number | null; out: string } {
  const run = runDoctorProgram(env);
  return { code: run.exitCode, out: run.output };
}

test('an unreachable PostgreSQL is named, with its masked URL and a fix, and the doctor fails', async () => {
  const secret = randomBytes(9).toString('hex');
  const { code, out } = doctor({ MLFLOW_DB_URL: `postgres://mlflow:${secret}@127.0.0.1:${await closedPort()}/mlflow` });
  assert.equal(code, 1, out);
  assert.match(out, /PostgreSQL\s+│ FAIL/);
  assert.match(out, /PostgreSQL unreachable/);
  assert.match(out, /ECONNREFUSED/);
  assert.match(out, /required check\(s\) failed: PostgreSQL, MLflow schema/);
  assert.ok(!out.includes(secret), 'the password was printed');
});

test('a doctor that reports the database without connecting to it passes where the test above fails: that test can fail', async () => {
  const { code, out } = doctor({ MLFLOW_DB_URL: `postgres://mlflow:x@127.0.0.1:${await closedPort()}/mlflow`, UAT_STACK_FAULT: 'doctor-unchecked-database' });
  assert.equal(code, 0, out);
  assert.doesNotMatch(out, /PostgreSQL unreachable/);
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
