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

test('npm run stack prints the cause and exits 1 when the embedded stack dies under it', { timeout: 120_000 }, async () => {
  const { spawn, execFileSync } = await import('node:child_process');
  const path = await import('node:path');
  const { PROJECT_ROOT } = await import('../support/config.ts');
  const { tempDir } = await import('./helpers.ts');
  const reports = tempDir('stack-script');
  const script = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'stack.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, UAT_DASHBOARD_PORT: '0', UAT_REPORTS_DIR: reports },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  script.stdout.on('data', (c: Buffer) => (output += c.toString()));
  script.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => script.once('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run stack did not come up: ${output}`)), 90_000);
      script.stdout.on('data', () => {
        if (output.includes('Press Ctrl-C')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const stackPid = execFileSync('pgrep', ['-P', String(script.pid), '-f', 'stack/main.ts'], { encoding: 'utf8' }).trim().split('\n')[0];
    process.kill(Number(stackPid), 'SIGKILL');
    assert.equal(await exited, 1, output);
    assert.match(output, /The stack died: the embedded stack \(pid \d+\) was killed by SIGKILL/);
  } finally {
    script.kill('SIGTERM');
    await exited;
  }
});
