/**
 * One folder per run: `npm run uat` writes everything of a run (Allure results and HTML, sign-off,
 * evidence, logs, screenshots, charts) into `<reports>/runs/<time>-<run id>/`, and `<reports>/latest`
 * points at the newest. A run never writes into another's folder; `npm run signoff` and
 * `npm run report` work on `latest` unless given a folder.
 */
import fs from 'node:fs';
import path from 'node:path';

export const RUNS = 'runs';
export const LATEST = 'latest';

/** `<root>/runs/<UTC time>-<first 8 characters of the run id>`, created. */
export function newRunFolder(root: string, runId: string, now = new Date()): string {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const folder = path.join(root, RUNS, `${time}-${runId.slice(0, 8)}`);
  fs.mkdirSync(folder, { recursive: true });
  return folder;
}

/** The folder `<root>/latest` points at, if any. */
export function latestRun(root: string): string | undefined {
  try {
    return fs.realpathSync(path.join(root, LATEST));
  } catch {
    return undefined;
  }
}

/** Point `<root>/latest` at `folder` (a relative link, replaced in one rename). */
export function pointLatest(root: string, folder: string): void {
  const link = path.join(root, LATEST);
  const partial = `${link}.${process.pid}`;
  fs.rmSync(partial, { force: true });
  fs.symlinkSync(path.relative(root, folder), partial);
  fs.renameSync(partial, link);
}

/**
 * The run folder a command works on: the one given, else `latest`, else the root itself (results
 * written there directly, by Cucumber run on its own).
 */
export function resolveRunFolder(root: string, given?: string): string {
  if (given) {
    const folder = path.resolve(given);
    if (!fs.existsSync(folder)) throw new Error(`no run folder ${folder}`);
    return folder;
  }
  return latestRun(root) ?? root;
}
