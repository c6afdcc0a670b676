/**
 * The bandit controller: rewards come in per arm (a served request's business value), the
 * statistics go to PostgreSQL, and every `update-every` rewards the Experiment's candidate weights
 * are set from the posteriors (Thompson sampling: P(arm is best); epsilon-greedy) through the
 * Experiment access, the same way on the embedded stack and on a cluster, and the update completes
 * once the Experiment's status has observed the change (bounded). An arm that does not
 * answer its readiness probe at an update gets weight 0 and leaves the Experiment's candidates
 * (Seldon serves no split while a candidate is unavailable) until it answers again. The weights, the posteriors and the
 * counters are served for the dashboard, the reports and Prometheus.
 */
import seedrandom from 'seedrandom';
import { applyCandidates, type Applied, type ExperimentAccess } from './experiment-access.ts';
import { addReward, emptyStats, posterior, posteriorMean, useRandom, type ArmStats, type Posterior } from './posteriors.ts';
import { empiricalRegret, nextWeights } from './replay.ts';
import { banditSettings, type BanditSettings } from './settings.ts';
import type { BanditStateStore } from './state-store.ts';
import { percentWeights } from './thompson-sampling.ts';

/** Deliberate defects, for the meta tests: weights split evenly whatever the rewards; weights never written; the stored state not read back; every arm taken as answering. */
export const CONTROLLER_FAULTS = ['uniform', 'never-patch', 'forget-state', 'ignore-readiness'] as const;
export type ControllerFault = (typeof CONTROLLER_FAULTS)[number];

export interface ControllerOptions {
  experiment: string;
  access: ExperimentAccess;
  store: BanditStateStore;
  /** Seeds each update's draws (a reset sets another). */
  seed: number;
  /** Whether an arm answers; asked for every arm at each update (all answer when absent). */
  armReady?: (arm: string) => Promise<boolean>;
  faults?: ControllerFault[];
  onUpdate?: (update: UpdateRecord) => void;
}

export interface UpdateRecord {
  update: number;
  weights: Record<string, number>;
  probabilityBest: Record<string, number>;
  answering: Record<string, boolean>;
  patched: boolean;
  /** Whether the control plane observed the written weights before the next request was answered (absent when not written). */
  applied?: Applied;
}

export interface ArmView {
  name: string;
  rewards: number;
  meanReward: number | null;
  posterior: Posterior;
  posteriorMean: number;
  weight: number;
  probabilityBest: number | null;
}

export class UnknownArmError extends Error {}

export class BanditController {
  private queue: Promise<unknown> = Promise.resolve();
  private writes: Promise<void> = Promise.resolve();
  private writeError?: Error;
  private lastUpdate?: UpdateRecord;

  private constructor(
    private readonly options: ControllerOptions,
    readonly settings: BanditSettings,
    readonly arms: string[],
    private stats: Map<string, ArmStats>,
    private rewardsSinceUpdate: number,
    private updates: number,
    private weights: number[],
    /** The Experiment's default model: Seldon requires it among the candidates. */
    private readonly defaultModel?: string,
  ) {}

  /** Read the Experiment (arms, initial weights, settings) and resume from the stored state. */
  static async start(options: ControllerOptions): Promise<BanditController> {
    const experiment = await options.access.read(options.experiment);
    const arms = experiment.spec.candidates.map((c) => c.name);
    const settings = banditSettings(experiment.metadata.annotations, arms.length);
    const stored = options.faults?.includes('forget-state') ? await options.store.load(`${options.experiment} (forgotten)`, arms) : await options.store.load(options.experiment, arms);
    const current = experiment.spec.candidates.map((c) => c.weight);
    return new BanditController(options, settings, arms, stored.arms, stored.rewardsSinceUpdate, stored.updates, current, experiment.spec.default);
  }

  /** How many updates and rewards the controller resumed with (0 and 0 for a fresh start). */
  get progress(): { updates: number; rewards: number; rewardsSinceUpdate: number } {
    return { updates: this.updates, rewards: [...this.stats.values()].reduce((a, s) => a + s.n, 0), rewardsSinceUpdate: this.rewardsSinceUpdate };
  }

  /** One reward for `arm`; every `update-every` rewards the weights are recomputed and written. */
  feedback(arm: string, reward: number): Promise<{ rewardsSinceUpdate: number; update?: UpdateRecord }> {
    if (!this.stats.has(arm)) return Promise.reject(new UnknownArmError(`'${arm}' is not a candidate of Experiment ${this.options.experiment} (candidates: ${this.arms.join(', ')})`));
    return this.serial(async () => {
      if (this.writeError) throw this.writeError;
      const stats = addReward(this.stats.get(arm)!, reward);
      this.stats.set(arm, stats);
      this.rewardsSinceUpdate += 1;
      const since = this.rewardsSinceUpdate;
      // written in order behind the answer (PostgreSQL's round trip is not in the client's path):
      // a crash loses at most the rewards still being written; an update waits for all of them
      this.writes = this.writes.then(() => this.options.store.saveReward(this.options.experiment, arm, stats, since)).catch((error: Error) => void (this.writeError ??= error));
      if (since < this.settings.updateEvery) return { rewardsSinceUpdate: since };
      const update = await this.updateNow();
      return { rewardsSinceUpdate: this.rewardsSinceUpdate, update };
    });
  }

  /** Wait until every reward received is stored (before a shutdown). */
  flush(): Promise<void> {
    return this.serial(() => this.written());
  }

  private async written(): Promise<void> {
    await this.writes;
    if (this.writeError) throw new Error(`storing rewards in PostgreSQL failed: ${this.writeError.message}`);
  }

  /**
   * Start the experiment over: forget the stored rewards and updates, read the Experiment's weights
   * again (the caller set them), and draw from `seed` from now on.
   */
  reset(seed: number): Promise<void> {
    return this.serial(async () => {
      await this.written();
      await this.options.store.reset(this.options.experiment);
      const experiment = await this.options.access.read(this.options.experiment);
      this.weights = this.arms.map((a) => experiment.spec.candidates.find((c) => c.name === a)?.weight ?? 0);
      this.stats = new Map(this.arms.map((a) => [a, emptyStats()]));
      this.rewardsSinceUpdate = 0;
      this.updates = 0;
      this.lastUpdate = undefined;
      this.options.seed = seed;
    });
  }

  /**
   * Probe every arm's readiness between updates (every `probe-seconds`): when an arm stopped or
   * started answering since the last update, update at once, so it loses (or regains) its traffic
   * within one probe rather than after `update-every` rewards that may never come. Undefined when
   * nothing changed.
   */
  probe(): Promise<UpdateRecord | undefined> {
    return this.serial(async () => {
      const answering = await this.answering();
      const known = this.arms.map((a) => this.lastUpdate?.answering[a] ?? true);
      return answering.some((a, i) => a !== known[i]) ? this.updateNow() : undefined;
    });
  }

  /** Whether each arm answers its readiness probe (every arm does without a probe, or under `ignore-readiness`). */
  private answering(): Promise<boolean[]> {
    const probe = this.options.faults?.includes('ignore-readiness') ? undefined : this.options.armReady;
    return Promise.all(this.arms.map((a) => (probe ? probe(a).catch(() => false) : true)));
  }

  /** Recompute and write the weights now (also what `update-every` triggers). */
  update(): Promise<UpdateRecord> {
    return this.serial(() => this.updateNow());
  }

  private async updateNow(): Promise<UpdateRecord> {
    await this.written();
    const answering = await this.answering();
    const update = this.updates + 1;
    // each update draws from its own seeded stream: a restarted controller draws what it would have
    useRandom(seedrandom(`${this.options.seed}:${this.options.experiment}:${update}`));
    const stats = this.arms.map((a) => this.stats.get(a)!);
    const faults = new Set(this.options.faults ?? []);
    const { weights, probabilityBest: best } = faults.has('uniform')
      ? { weights: percentWeights(this.arms.map(() => 1), 0, answering), probabilityBest: undefined }
      : nextWeights(this.settings.strategy, this.settings, stats, this.weights, answering);
    const record: UpdateRecord = {
      update,
      weights: Object.fromEntries(this.arms.map((a, i) => [a, weights[i]])),
      probabilityBest: Object.fromEntries(this.arms.map((a, i) => [a, best?.[i] ?? Number.NaN])),
      answering: Object.fromEntries(this.arms.map((a, i) => [a, answering[i]])),
      patched: !faults.has('never-patch'),
    };
    // the update (and the feedback that triggered it) completes once the control plane serves the new split
    // An arm that does not answer leaves the candidates: Seldon keeps an Experiment with an unavailable
    // candidate inactive whatever its weight (no live replica for the route), so a weight of 0 would
    // stop the whole split. It comes back at the first update where it answers. The default stays.
    const candidates = this.arms.map((name, i) => ({ name, weight: weights[i] })).filter((c, i) => answering[i] || c.name === this.defaultModel);
    if (record.patched) record.applied = await applyCandidates(this.options.access, this.options.experiment, candidates);
    await this.options.store.saveUpdate(this.options.experiment, update, record.weights);
    this.weights = weights;
    this.updates = update;
    this.rewardsSinceUpdate = 0;
    this.lastUpdate = record;
    this.options.onUpdate?.(record);
    return record;
  }

  state(): { experiment: string; strategy: string; settings: BanditSettings; updates: number; rewardsSinceUpdate: number; arms: ArmView[]; estimatedRegret: number | null; lastUpdate?: UpdateRecord } {
    return {
      experiment: this.options.experiment,
      strategy: this.settings.strategy,
      settings: this.settings,
      updates: this.updates,
      rewardsSinceUpdate: this.rewardsSinceUpdate,
      arms: this.arms.map((name, i) => {
        const s = this.stats.get(name)!;
        const p = posterior(this.settings.prior, s);
        const best = this.lastUpdate?.probabilityBest[name];
        return { name, rewards: s.n, meanReward: s.n > 0 ? s.sum / s.n : null, posterior: p, posteriorMean: posteriorMean(p), weight: this.weights[i], probabilityBest: best === undefined || Number.isNaN(best) ? null : best };
      }),
      // since the last reset: the rewards' own cumulative regret (bandit/replay.ts empiricalRegret)
      estimatedRegret: empiricalRegret(this.arms.map((name) => this.stats.get(name)!)),
      lastUpdate: this.lastUpdate,
    };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
