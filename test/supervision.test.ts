/**
 * Supervision of the target's programs: a program that dies unbidden is reported at once with its
 * exit code or signal and its last lines; one stopped on purpose is not a death.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchDashboard } from '../support/targets/stack-process.ts';

const env = { ...process.env, MLFLOW_DB_URL: '' };

test('a program killed during the run is reported at once with its signal and last lines', async () => {
  let reported: string | undefined;
  const dashboard = await launchDashboard({ args: ['--port', '0'], env, onDeath: (cause) => (reported = cause) });
  assert.equal(dashboard.watch.deathCause(), undefined, 'alive: no cause');
  const exited = new Promise((resolve) => dashboard.child.once('exit', resolve));
  dashboard.child.kill('SIGKILL');
  await exited;
  assert.ok(reported, 'onDeath was called');
  assert.match(reported, /^the dashboard \(pid \d+\) was killed by SIGKILL at \d{4}-\d\d-\d\dT/);
  assert.match(reported, /last lines: .*"event":"ready"/, 'the last lines the program printed are part of the cause');
  assert.equal(dashboard.watch.deathCause(), reported);
});

test('a program stopped on purpose is not reported as dead', async () => {
  let reported: string | undefined;
  const dashboard = await launchDashboard({ args: ['--port', '0'], env, onDeath: (cause) => (reported = cause) });
  await dashboard.stop();
  assert.equal(reported, undefined);
  assert.equal(dashboard.watch.deathCause(), undefined);
});
