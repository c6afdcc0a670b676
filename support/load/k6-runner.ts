/**
 * k6, when it is installed (`k6` on PATH, or K6_BIN): runs a profile with scenarios/load-test.ts
 * and reads the end-of-test summary its handleSummary writes, whatever the exit code. k6's exit
 * codes: 0 every threshold held, 99 a threshold was crossed (the summary says which); anything else
 * is a harness error carrying k6's own message. k6 is never shipped with this harness (AGPL): on a
 * machine without it the built-in engine runs the same profile (support/load/engine.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { parseK6Summary } from './k6-summary.ts';
import { k6Options, type LoadProfile } from './profile.ts';
import type { LoadSummary } from './builtin-engine.ts';
import type { WorkerTarget } from './load-worker.ts';

export const K6_SCRIPT = path.join(PROJECT_ROOT, 'scenarios', 'load-test.ts');

/** What k6's exit codes mean (errext/exitcodes). */
const EXIT_CODES: Record<number, string> = {
  99: 'thresholds crossed',
  100: 'setup timed out',
  101: 'teardown timed out',
  103: 'generic engine error',
  104: 'invalid configuration',
  105: 'aborted from outside',
  107: 'script exception',
  108: 'exec.test.abort() was called',
  110: 'the test was marked failed',
};

/** The k6 binary to run: K6_BIN, else `k6` on PATH; undefined when there is none. */
export function k6Binary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidate = env.K6_BIN ?? 'k6';
  const probe = spawnSync(candidate, ['version'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? candidate : undefined;
}

/** A k6 summary (either shape) as the harness's load summary. */
export function fromK6Summary(json: unknown, origin: string, profile: LoadProfile): LoadSummary {
  const summary = parseK6Summary(json, origin);
  const { metrics } = summary;
  const failedThresholds = Object.entries(metrics).flatMap(([name, m]) => Object.entries(m.thresholds ?? {}).filter(([, t]) => !t.ok).map(([expr]) => `${name}: ${expr}`));
  return {
    engine: 'k6',
    profile: profile.name,
    executor: profile.scenario.executor,
    state: { testRunDurationMs: summary.testRunDurationMs ?? NaN },
    // read as soon as k6 ended: its summary carries the duration, not the clock times
    startedAt: new Date(Date.now() - (summary.testRunDurationMs ?? 0)).toISOString(),
    endedAt: new Date().toISOString(),
    metrics,
    // k6's end-of-test summary has no per-status counts, timeline or histogram
    statusCounts: {},
    errors: [],
    timeline: [],
    latencyBuckets: [],
    failedThresholds,
  };
}

/** Run a profile with k6 against one endpoint. */
export async function runK6Load(bin: string, profile: LoadProfile, target: WorkerTarget, baseEnv: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<LoadSummary> {
  // a private folder for the payloads and the summary, removed afterwards
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-k6-'));
  try {
    const payloads = path.join(dir, 'payloads.json');
    const summaryFile = path.join(dir, 'summary.json');
    fs.writeFileSync(payloads, `[${target.bodies.join(',')}]`);
    const env = {
      ...baseEnv,
      K6_OPTIONS: JSON.stringify(k6Options(profile)),
      TARGET_URL: target.url,
      SELDON_MODEL: target.headers['seldon-model'] ?? '',
      PAYLOADS: payloads,
      SUMMARY_FILE: summaryFile,
      K6_NO_USAGE_REPORT: 'true',
    };
    const child = spawn(bin, ['run', '--quiet', '--no-color', K6_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
    child.stderr.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
    // stopped from outside (the platform died): k6 is killed and the reason is the error
    const abort = (): void => void child.kill('SIGKILL');
    signal?.addEventListener('abort', abort, { once: true });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    }).finally(() => signal?.removeEventListener('abort', abort));
    if (signal?.aborted) throw signal.reason;
    if ((code === 0 || code === 99) && fs.existsSync(summaryFile)) return fromK6Summary(JSON.parse(fs.readFileSync(summaryFile, 'utf8')), summaryFile, profile);
    const meaning = code !== null && EXIT_CODES[code] ? ` (${EXIT_CODES[code]})` : '';
    throw new Error(`k6 exited with code ${code}${meaning}${fs.existsSync(summaryFile) ? '' : ' and wrote no summary'}: ${output.trim().split('\n').slice(-5).join(' | ')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
