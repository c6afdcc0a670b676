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
    if (!fs.existsSync(folder)) throw new RunFolderError(`no run folder ${folder}${runsHint(root)}`);
    if (!RUN_MARKERS.some((f) => fs.existsSync(path.join(folder, f)))) throw new RunFolderError(`${folder} is not a run folder (it holds none of ${RUN_MARKERS.join(', ')})${runsHint(root)}`);
    return folder;
  }
  return latestRun(root) ?? root;
}

/** A run folder that cannot be used, said in one line (the commands exit 2 with it, no stack trace). */
export class RunFolderError extends Error {}

/** What every run leaves in its folder, whatever became of it. */
const RUN_MARKERS = ['cucumber-messages.ndjson', 'suite-outcome.json', 'evidence'];

/** The newest run folders, to name in an error. */
function runsHint(root: string): string {
  const runs = fs.existsSync(path.join(root, RUNS)) ? fs.readdirSync(path.join(root, RUNS)).sort().slice(-3) : [];
  return runs.length > 0 ? `; the newest runs: ${runs.map((r) => path.join(root, RUNS, r)).join(', ')}` : `; no run under ${path.join(root, RUNS)} yet (npm run uat writes one)`;
}

/**
 * The run folder a command line names (`--run <folder>`, else latest), or exit 2 with the reason
 * and the usage: for `npm run signoff` and `npm run report`, whose options are parsed by `parse`.
 */
export function runFolderOrExit<T extends { run?: string }>(usage: string, parse: () => T, root: () => string): { values: T; runDir: string } {
  try {
    const values = parse();
    return { values, runDir: resolveRunFolder(root(), values.run) };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return process.exit(2);
  }
}
