/**
 * The bandit controller: rewards come in per arm (a served request's business value), the
 * statistics go to PostgreSQL, and every `update-every` rewards the Experiment's candidate weights
 * are set from the posteriors (Thompson sampling: P(arm is best); epsilon-greedy) through the
 * Experiment access, the same way on the embedded stack and on a cluster. An arm that does not
 * answer its readiness probe at an update gets weight 0. The weights, the posteriors and the
 * counters are served for the dashboard, the reports and Prometheus.
 */
import seedrandom from 'seedrandom';
import type { ExperimentAccess } from './experiment-access.ts';
import { addReward, posterior, posteriorMean, useRandom, type ArmStats, type Posterior } from './posteriors.ts';
import { nextWeights } from './replay.ts';
import { banditSettings, type BanditSettings } from './settings.ts';
import type { BanditStateStore } from './state-store.ts';
import { percentWeights } from './thompson-sampling.ts';

/** Deliberate defects, for the meta tests: weights split evenly whatever the rewards; weights never written. */
export const CONTROLLER_FAULTS = ['uniform', 'never-patch'] as const;
export type ControllerFault = (typeof CONTROLLER_FAULTS)[number];

export interface ControllerOptions {
  experiment: string;
  access: ExperimentAccess;
  store: BanditStateStore;
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
  private lastUpdate?: UpdateRecord;

  private constructor(
    private readonly options: ControllerOptions,
    readonly settings: BanditSettings,
    readonly arms: string[],
    private stats: Map<string, ArmStats>,
    private rewardsSinceUpdate: number,
    private updates: number,
    private weights: number[],
  ) {}

  /** Read the Experiment (arms, initial weights, settings) and resume from the stored state. */
  static async start(options: ControllerOptions): Promise<BanditController> {
    const experiment = await options.access.read(options.experiment);
    const arms = experiment.spec.candidates.map((c) => c.name);
    const settings = banditSettings(experiment.metadata.annotations, arms.length);
    const stored = await options.store.load(options.experiment, arms);
    const current = experiment.spec.candidates.map((c) => c.weight);
    return new BanditController(options, settings, arms, stored.arms, stored.rewardsSinceUpdate, stored.updates, current);
  }

  /** How many updates and rewards the controller resumed with (0 and 0 for a fresh start). */
  get progress(): { updates: number; rewards: number; rewardsSinceUpdate: number } {
    return { updates: this.updates, rewards: [...this.stats.values()].reduce((a, s) => a + s.n, 0), rewardsSinceUpdate: this.rewardsSinceUpdate };
  }

  /** One reward for `arm`; every `update-every` rewards the weights are recomputed and written. */
  feedback(arm: string, reward: number): Promise<{ rewardsSinceUpdate: number; update?: UpdateRecord }> {
    if (!this.stats.has(arm)) return Promise.reject(new UnknownArmError(`'${arm}' is not a candidate of Experiment ${this.options.experiment} (candidates: ${this.arms.join(', ')})`));
    return this.serial(async () => {
      const stats = addReward(this.stats.get(arm)!, reward);
      await this.options.store.saveReward(this.options.experiment, arm, stats, this.rewardsSinceUpdate + 1);
      this.stats.set(arm, stats);
      this.rewardsSinceUpdate += 1;
      if (this.rewardsSinceUpdate < this.settings.updateEvery) return { rewardsSinceUpdate: this.rewardsSinceUpdate };
      const update = await this.updateNow();
      return { rewardsSinceUpdate: this.rewardsSinceUpdate, update };
    });
  }

  /** Recompute and write the weights now (also what `update-every` triggers). */
  update(): Promise<UpdateRecord> {
    return this.serial(() => this.updateNow());
  }

  private async updateNow(): Promise<UpdateRecord> {
    const answering = await Promise.all(this.arms.map((a) => (this.options.armReady ? this.options.armReady(a).catch(() => false) : true)));
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
    if (record.patched) await this.options.access.patchCandidates(this.options.experiment, this.arms.map((name, i) => ({ name, weight: weights[i] })));
    await this.options.store.saveUpdate(this.options.experiment, update, record.weights);
    this.weights = weights;
    this.updates = update;
    this.rewardsSinceUpdate = 0;
    this.lastUpdate = record;
    this.options.onUpdate?.(record);
    return record;
  }

  state(): { experiment: string; strategy: string; settings: BanditSettings; updates: number; rewardsSinceUpdate: number; arms: ArmView[]; lastUpdate?: UpdateRecord } {
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
      lastUpdate: this.lastUpdate,
    };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
