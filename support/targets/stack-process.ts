/**
 * Starting and stopping the harness's own programs (the embedded stack `stack/main.ts`, the live
 * dashboard `dashboard/main.ts`) as child processes: each is ready when it prints its
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
  child: ChildProcess;
  stop(): Promise<void>;
}

const DEFAULT_DEADLINE_MS = 30_000;

export interface LaunchOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  log?: Writable;
  deadlineMs?: number;
}

/** Spawn the stack with the given CLI arguments; resolves with its URL once it reports ready. */
export function launchStack(options: LaunchOptions): Promise<StackProcess> {
  return launchProgram('the embedded stack', path.join(PROJECT_ROOT, 'stack', 'main.ts'), options);
}

/** Spawn the live dashboard; resolves with its URL once it reports ready. */
export function launchDashboard(options: LaunchOptions): Promise<StackProcess> {
  return launchProgram('the dashboard', path.join(PROJECT_ROOT, 'dashboard', 'main.ts'), options);
}

async function launchProgram(title: string, script: string, options: LaunchOptions): Promise<StackProcess> {
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...options.args], {
    cwd: PROJECT_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  superviseChild(child, options.log);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let errors = '';
      const timer = setTimeout(() => reject(new StackStartError(`${title} did not report ready within ${deadlineMs} ms`, null, errors)), deadlineMs);
      child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.includes('"event":"ready"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line).url as string);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new StackStartError(`${title} exited with code ${code} before it was ready: ${errors.trim() || 'no message'}`, code, errors));
      });
    });
    return { url, child, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/**
 * Take a child down with the harness if the harness ends without stopping it (killed, crashed),
 * and copy its output to `log`.
 */
export function superviseChild(child: ChildProcess, log?: Writable): void {
  const killOnExit = (): void => void child.kill('SIGTERM');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  if (log) {
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
