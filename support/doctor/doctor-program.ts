/**
 * Run `npm run doctor` (scripts/doctor.ts) as a user would, with extra environment, and keep what
 * it printed and its exit code.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';

export function runDoctorProgram(env: Record<string, string>): { exitCode: number | null; output: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'doctor.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { exitCode: run.status, output: `${run.stdout}${run.stderr}` };
}
