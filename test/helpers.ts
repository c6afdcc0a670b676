/**
 * Shared helpers of the harness's own tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../support/config.ts';

/** The shared reference folder, or undefined (tests that need it skip with a visible message). */
export function referenceDir(): string | undefined {
  const dir = path.resolve(process.env.UAT_REFERENCE_DIR ?? path.join(PROJECT_ROOT, '..', 'shared', 'reference'));
  return fs.existsSync(dir) ? dir : undefined;
}

export const SKIP_NO_REFERENCE = 'reference material not found (set UAT_REFERENCE_DIR to ../shared/reference)';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `uat-test-${prefix}-`));
}

export interface StartedStack {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Start the stack program on loopback with the given manifests and storage map; resolves on its ready line. */
export async function startStack(args: string[]): Promise<StartedStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'stack', 'main.ts'), ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"event":"ready"'));
      if (line) resolve(JSON.parse(line).url);
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => reject(new Error(`stack exited ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Run the stack program to completion (for start-up failures). */
export function runStack(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'stack', 'main.ts'), ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('"event":"ready"')) child.kill('SIGTERM');
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}
