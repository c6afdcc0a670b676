/**
 * Which engine runs a load profile: k6 when it is installed (K6_BIN or `k6` on PATH), else the
 * built-in engine with the same profile and the same summary. UAT_LOAD_ENGINE=builtin or k6
 * forces one (k6 forced but absent is an error saying how to install it).
 */
import { runBuiltinLoad, type LoadSummary } from './builtin-engine.ts';
import { k6Binary, runK6Load } from './k6-runner.ts';
import type { LoadProfile } from './profile.ts';
import type { WorkerTarget } from './load-worker.ts';

export const K6_INSTALL = 'k6 is not installed: install it from Grafana (https://grafana.com/docs/k6/latest/set-up/install-k6/: their apt repository, or the release archive) and put it on PATH or set K6_BIN';

export async function runLoad(profile: LoadProfile, target: WorkerTarget, env: NodeJS.ProcessEnv = process.env): Promise<LoadSummary> {
  const wanted = env.UAT_LOAD_ENGINE ?? 'auto';
  if (!['auto', 'k6', 'builtin'].includes(wanted)) throw new Error(`environment variable UAT_LOAD_ENGINE: must be auto, k6 or builtin, not '${wanted}'`);
  const bin = wanted === 'builtin' ? undefined : k6Binary(env);
  if (wanted === 'k6' && !bin) throw new Error(K6_INSTALL);
  return bin ? runK6Load(bin, profile, target, env) : runBuiltinLoad(profile, target);
}
