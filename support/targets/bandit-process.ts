/**
 * The bandit controller (bandit/main.ts) beside the serving stack, as the target runs it: one per
 * run, on the Experiment whose annotations carry the bandit settings, its state in the run's
 * PostgreSQL, its Experiment reached the way the serving adapter says (the embedded stack's paths,
 * or the Kubernetes API). A run starts it fresh; `restart` stops it and starts it again, from its
 * stored state or fresh with another seed; `reset` starts the experiment over in the same process.
 */
import type { Writable } from 'node:stream';
import { ANNOTATION_PREFIX } from '../../bandit/settings.ts';
import { readManifests } from '../k8s/manifest-reader.ts';
import { launchBandit, type StackProcess } from './stack-process.ts';

export interface BanditHandle {
  experiment: string;
  /** The controller's address (a restart keeps it). */
  url: string;
  /** What it printed when it last became ready: its arms, strategy and the state it resumed from. */
  ready: Record<string, unknown>;
  restart(options: { fresh: boolean; seed?: number }): Promise<void>;
  /** Start the experiment over without a restart: stored state forgotten, the Experiment's weights read again, draws from `seed`. */
  reset(seed: number): Promise<void>;
  stop(): Promise<void>;
}

/** The Experiment of the manifests that carries bandit annotations, if any. */
export function banditExperiment(manifests: string[]): string | undefined {
  return readManifests(manifests).find((r) => r.kind === 'Experiment' && Object.keys(r.annotations).some((k) => k.startsWith(ANNOTATION_PREFIX)))?.name;
}

export async function startBandit(options: {
  experiment: string;
  accessArgs: string[];
  databaseUrl: string;
  seed: number;
  /** Controller faults (bandit/controller.ts), for the meta tests. */
  faults: string[];
  log: Writable;
  onDeath: (cause: string) => void;
}): Promise<BanditHandle> {
  // a restart keeps the address (the dashboard reads it)
  const launch = (fresh: boolean, seed: number, port = 0): Promise<StackProcess> =>
    launchBandit({
      args: ['--experiment', options.experiment, ...options.accessArgs, '--seed', String(seed), '--port', String(port), ...(fresh ? ['--fresh'] : []), ...options.faults.flatMap((f) => ['--fault', f])],
      env: { ...process.env, BANDIT_DB_URL: options.databaseUrl },
      log: options.log,
      onDeath: options.onDeath,
    });
  let current = await launch(true, options.seed);
  const handle: BanditHandle = {
    experiment: options.experiment,
    url: current.url,
    ready: current.ready,
    restart: async ({ fresh, seed }) => {
      const port = Number(new URL(current.url).port);
      await current.stop();
      current = await launch(fresh, seed ?? options.seed, port);
      handle.url = current.url;
      handle.ready = current.ready;
    },
    reset: async (seed) => {
      const res = await fetch(`${handle.url}/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seed }) });
      if (!res.ok) throw new Error(`the bandit controller refused the reset: ${res.status} ${await res.text()}`);
    },
    stop: () => current.stop(),
  };
  return handle;
}
