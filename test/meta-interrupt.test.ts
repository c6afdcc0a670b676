/**
 * Ctrl-C during `npm run uat`: the suite stops, the scenarios that finished are kept, the sign-off
 * says INCOMPLETE and lists what ran, every process the run started and every temporary folder it
 * made are gone within 10 s, and the command exits 130. The run gets its own process group (as a
 * terminal's Ctrl-C reaches every process of the foreground group) and its own temporary folder.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { waitFor } from '../support/wait.ts';
import { tempDir, TEST_TRAINING_CACHE } from './helpers.ts';

// running members only: a process that has exited and waits to be reaped (<defunct>) runs nothing
const groupMembers = (pgid: number): string[] =>
  spawnSync('ps', ['-o', 'pid=,args=', '-g', String(pgid)], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.endsWith('<defunct>'));

/**
 * A project script in a process group of its own (as a terminal's foreground job) with its own
 * temporary folder, which PostgreSQL's user must be able to reach into.
 */
function startInGroup(dir: string, script: string, args: string[], env: Record<string, string>) {
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(tmp, 0o777);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', script), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, UAT_TRAINING_CACHE: TEST_TRAINING_CACHE, TMPDIR: tmp, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { child, tmp, output: '', exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stdout.on('data', (d: Buffer) => (run.output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (run.output += d.toString()));
  return run;
}

/** Ctrl-C to the whole group; the exit code, or 'late' after 15 s. */
async function interrupt(run: ReturnType<typeof startInGroup>): Promise<number | null | 'late'> {
  process.kill(-run.child.pid!, 'SIGINT');
  return Promise.race([run.exited, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 15_000))]);
}

test('Ctrl-C during a run: INCOMPLETE sign-off listing what finished, nothing left running or on disk, exit 130', { timeout: 240_000 }, async () => {
  const dir = tempDir('interrupt');
  const reports = path.join(dir, 'reports');
  const run = startInGroup(dir, 'uat.ts', ['--profile', 'ci', '--no-html'], { UAT_REPORTS_DIR: reports });
  const { child, tmp } = run;
  try {
    // interrupt once two scenarios have finished
    const messages = path.join(reports, 'latest', 'cucumber-messages.ndjson');
    await waitFor('two scenarios to finish', 150_000, async () => {
      const text = fs.existsSync(messages) ? fs.readFileSync(messages, 'utf8') : '';
      return (text.match(/"testCaseFinished"/g) ?? []).length >= 2 ? true : undefined;
    }, 200);
    const running = groupMembers(child.pid!);
    assert.ok(running.length >= 4, `the run's processes before the interruption: ${running.join('; ')}`);
    assert.ok(fs.readdirSync(tmp).some((f) => f.startsWith('uat-postgres-')), 'the run made its PostgreSQL folder in its temporary folder');
    const signalledAt = Date.now();
    const code = await interrupt(run);
    const seconds = (Date.now() - signalledAt) / 1000;
    assert.equal(code, 130, `exit code ${code} after ${seconds} s\n${run.output.slice(-3000)}`);
    assert.ok(seconds <= 10, `took ${seconds} s to stop`);
    assert.deepEqual(groupMembers(child.pid!), [], 'processes of the run still running');
    // (tsx keeps its compile cache there too: that one is not the run's)
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('uat-')), [], 'temporary folders left behind');
    assert.match(run.output, /Verdict: INCOMPLETE/);
    const signoff = JSON.parse(fs.readFileSync(path.join(reports, 'latest', 'signoff', 'signoff.json'), 'utf8')) as { verdict: string; reasons: string[]; scenarios: { status: string }[]; suite: { interrupted?: string } };
    assert.equal(signoff.verdict, 'INCOMPLETE');
    assert.equal(signoff.suite.interrupted, 'SIGINT');
    assert.match(signoff.reasons.join('\n'), /interrupted \(SIGINT\)/);
    assert.ok(signoff.scenarios.filter((s) => s.status === 'passed').length >= 2, 'the finished scenarios are listed');
    assert.ok(!signoff.scenarios.some((s) => s.status === 'failed'), 'a scenario cut short is not a failure');
    assert.match(fs.readFileSync(path.join(reports, 'latest', 'signoff', 'signoff.md'), 'utf8'), /\*\*Verdict: INCOMPLETE\*\*/);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C on npm run stack: a message, everything stopped, nothing left on disk, exit 130', { timeout: 150_000 }, async () => {
  const dir = tempDir('interrupt-stack');
  const run = startInGroup(dir, 'stack.ts', [], { UAT_DASHBOARD_PORT: '0', UAT_REPORTS_DIR: path.join(dir, 'reports') });
  const { child, tmp } = run;
  try {
    await waitFor('npm run stack to come up', 120_000, async () => (run.output.includes('Press Ctrl-C') ? true : undefined), 200);
    assert.ok(groupMembers(child.pid!).length >= 4, 'PostgreSQL, the stack, Prometheus and the dashboard run');
    const code = await interrupt(run);
    assert.equal(code, 130, run.output.slice(-3000));
    assert.match(run.output, /stopping the stack, Prometheus, the dashboard and PostgreSQL\.\.\.\nstopped/);
    assert.doesNotMatch(run.output, /DIED|Unhandled 'error' event/);
    assert.deepEqual(groupMembers(child.pid!), []);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('uat-')), []);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
