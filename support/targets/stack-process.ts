/**
 * Starting and stopping the harness's own programs (the embedded stack `stack/main.ts`, the live
 * dashboard `dashboard/main.ts`, the bandit controller `bandit/main.ts`) as child processes: each is ready when it prints its
 * `{"event":"ready","url":...}` line, within a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { PROJECT_ROOT } from '../config.ts';

export class StackStartError extends Error {
  constructor(message: string, readonly exitCode: number | null, readonly stderr: string) {
    super(message);
    this.name = 'StackStartError';
  }
}

export interface StackProcess {
  url: string;
  /** The program's ready line (for the stack: namespace, served models, not-ready and refused resources). */
  ready: Record<string, unknown>;
  child: ChildProcess;
  /** What became of the process: its death's cause once it exited without being stopped. */
  watch: ChildWatch;
  stop(): Promise<void>;
}

const DEFAULT_DEADLINE_MS = 30_000;

export interface LaunchOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  log?: Writable;
  deadlineMs?: number;
  /** Called at once, with the cause, when the program exits without being stopped. */
  onDeath?: (cause: string) => void;
}

/**
 * Connections the stack takes when the harness runs it as the platform: seldon-mesh's Envoy takes
 * thousands, and the performance feature has 2,500 users at once. (Run on its own, the stack keeps
 * its smaller default, a protection of a development machine.)
 */
export const PLATFORM_MAX_CONNECTIONS = 5000;

/** Spawn the stack with the given CLI arguments; resolves with its URL once it reports ready. */
export function launchStack(options: LaunchOptions): Promise<StackProcess> {
  return launchProgram('the embedded stack', path.join(PROJECT_ROOT, 'stack', 'main.ts'), { ...options, args: ['--max-connections', String(PLATFORM_MAX_CONNECTIONS), ...options.args] });
}

/** Spawn the live dashboard; resolves with its URL once it reports ready. */
export function launchDashboard(options: LaunchOptions): Promise<StackProcess> {
  return launchProgram('the dashboard', path.join(PROJECT_ROOT, 'dashboard', 'main.ts'), options);
}

/** Spawn the bandit controller; resolves with its URL once it reports ready. */
export function launchBandit(options: LaunchOptions): Promise<StackProcess> {
  return launchProgram('the bandit controller', path.join(PROJECT_ROOT, 'bandit', 'main.ts'), options);
}

export function launchAuditGateway(options: LaunchOptions): Promise<StackProcess> {
  return launchProgram('the explanation gateway', path.join(PROJECT_ROOT, 'audit', 'main.ts'), options);
}

/** Spawn the drift monitor; resolves with its URL once it reports ready. */
export function launchDriftMonitor(options: LaunchOptions): Promise<StackProcess> {
  return launchProgram('the drift monitor', path.join(PROJECT_ROOT, 'monitor', 'main.ts'), options);
}

async function launchProgram(title: string, script: string, options: LaunchOptions): Promise<StackProcess> {
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...options.args], {
    cwd: PROJECT_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watch = superviseChild(child, { title, log: options.log, onDeath: options.onDeath });
  try {
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let out = '';
      let errors = '';
      const timer = setTimeout(() => reject(new StackStartError(`${title} did not report ready within ${deadlineMs} ms`, null, errors)), deadlineMs);
      child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.includes('"event":"ready"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new StackStartError(`${title} exited with code ${code} before it was ready: ${errors.trim() || 'no message'}`, code, errors));
      });
    });
    return { url: String(ready.url), ready, child, watch, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

const TAIL_LINES = 15;
const watches = new WeakMap<ChildProcess, ChildWatch>();

/**
 * What became of a supervised child: running, stopped on purpose (stopChild), or dead, with its
 * exit code or signal and the last lines it printed.
 */
export class ChildWatch {
  private readonly tail: string[] = [];
  private partial = '';
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: Date };
  stopping = false;

  constructor(readonly title: string, readonly child: ChildProcess) {}

  /** Keep the last lines of the child's output. */
  record(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    this.tail.push(...lines.filter((l) => l.trim() !== ''));
    this.tail.splice(0, Math.max(0, this.tail.length - TAIL_LINES));
  }

  lastLines(): string[] {
    return this.partial.trim() ? [...this.tail, this.partial] : [...this.tail];
  }

  /** Why the process is gone, or undefined while it runs or after it was stopped on purpose. */
  deathCause(): string | undefined {
    if (!this.exit || this.stopping) return undefined;
    const how = this.exit.code !== null ? `exited with code ${this.exit.code}` : `was killed by ${this.exit.signal}`;
    const last = this.lastLines();
    return `${this.title} (pid ${this.child.pid}) ${how} at ${this.exit.at.toISOString()}; last lines: ${last.length > 0 ? last.join(' | ') : '(no output)'}`;
  }
}

/**
 * Take a child down with the harness if the harness ends without stopping it (killed, crashed),
 * copy its output to `log`, keep its last lines, and report at once when it dies unbidden.
 */
export function superviseChild(child: ChildProcess, options: { title?: string; log?: Writable; onDeath?: (cause: string) => void } = {}): ChildWatch {
  const watch = new ChildWatch(options.title ?? 'a child process', child);
  watches.set(child, watch);
  const killOnExit = (): void => void child.kill('SIGTERM');
  process.once('exit', killOnExit);
  child.once('exit', (code, signal) => {
    process.removeListener('exit', killOnExit);
    watch.exit = { code, signal, at: new Date() };
    const cause = watch.deathCause();
    if (cause) options.onDeath?.(cause);
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => watch.record(chunk));
    if (options.log) stream?.pipe(options.log, { end: false });
  }
  return watch;
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  const watch = watches.get(child);
  if (watch) watch.stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
