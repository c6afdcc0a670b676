/**
 * Which engine runs a load profile: k6 when it is installed (K6_BIN or `k6` on PATH), else the
 * built-in engine with the same profile and the same summary. UAT_LOAD_ENGINE=builtin or k6
 * forces one (k6 forced but absent is an error saying how to install it); k6-operator runs the
 * profile distributed on the Kubernetes target's cluster (support/load/k6-operator.ts), never
 * chosen by itself.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { runBuiltinLoad, type LoadSummary } from './builtin-engine.ts';
import { parallelismFrom, runDistributedLoad } from './k6-operator.ts';
import { k6Binary, runK6Load } from './k6-runner.ts';
import { durationMs, type LoadProfile } from './profile.ts';
import type { WorkerTarget } from './load-worker.ts';
import { ConfigError, LOAD_ENGINES } from '../config.ts';

export const K6_INSTALL = 'k6 is not installed: install it from Grafana (https://grafana.com/docs/k6/latest/set-up/install-k6/: their apt repository, or the release archive) and put it on PATH or set K6_BIN';

/** The cluster a distributed load runs in: the Kubernetes target's. */
export interface LoadCluster {
  kubeConfig: KubeConfig;
  namespace: string;
}

export const ENGINES = LOAD_ENGINES;

/** How long a profile runs at most: its duration or stages, and its graceful stop. */
function profileMs(profile: LoadProfile): number {
  const s = profile.scenario as unknown as Record<string, unknown>;
  const stages = (s.stages as { duration: string }[] | undefined)?.reduce((sum, st) => sum + (durationMs(st.duration) ?? 0), 0) ?? 0;
  return (durationMs(String(s.duration ?? s.maxDuration ?? '0s')) ?? 0) + stages + (durationMs(String(s.gracefulStop ?? '30s')) ?? 30_000);
}

/** Run a profile; `signal` stops a local engine at once (the distributed one runs to its end) and its reason is the error. */
export async function runLoad(profile: LoadProfile, target: WorkerTarget, env: NodeJS.ProcessEnv = process.env, cluster?: () => LoadCluster, signal?: AbortSignal): Promise<LoadSummary> {
  const wanted = env.UAT_LOAD_ENGINE ?? 'auto';
  if (!(ENGINES as readonly string[]).includes(wanted)) throw new ConfigError(`environment variable UAT_LOAD_ENGINE: must be ${ENGINES.join(', ')}, not '${wanted}'`);
  if (wanted === 'k6-operator') {
    if (!cluster) throw new Error('UAT_LOAD_ENGINE=k6-operator runs the load in a Kubernetes cluster: it needs UAT_TARGET=kubernetes');
    const { kubeConfig, namespace } = cluster();
    // the runners are pods: they reach the platform by its Service in the cluster, not by the harness's address
    const base = env.UAT_K6_TARGET_URL ?? `http://seldon-mesh.${namespace}.svc.cluster.local`;
    const inCluster = { ...target, url: new URL(new URL(target.url).pathname, base).toString() };
    return runDistributedLoad(kubeConfig, profile, inCluster, {
      name: `uat-load-${profile.name}-${Date.now().toString(36)}`.slice(0, 63),
      namespace,
      parallelism: parallelismFrom(env),
      image: env.UAT_K6_IMAGE,
      // the profile's time, plus the operator's initializer and pod starts
      timeoutMs: profileMs(profile) + 5 * 60_000,
      log: (line) => console.error(`[uat] ${line}`),
    });
  }
  const bin = wanted === 'builtin' ? undefined : k6Binary(env);
  if (wanted === 'k6' && !bin) throw new Error(K6_INSTALL);
  return bin ? runK6Load(bin, profile, target, env, signal) : runBuiltinLoad(profile, target, { signal });
}
