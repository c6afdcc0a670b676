/**
 * The bandit's state in PostgreSQL, so a restarted controller resumes from its posteriors: per
 * experiment and arm the reward statistics (count, sum, sum of squares, successes), and per
 * experiment the rewards since the last update, the number of updates and the weights last set.
 * Every reward is one statement; the controller writes them in order behind its answers and waits
 * for them before an update and a shutdown.
 */
import pg from 'pg';
import { emptyStats, type ArmStats } from './posteriors.ts';

export interface StoredState {
  arms: Map<string, ArmStats>;
  rewardsSinceUpdate: number;
  updates: number;
  weights?: Record<string, number>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bandit_arm_stats (
  experiment text NOT NULL,
  arm text NOT NULL,
  n bigint NOT NULL,
  sum double precision NOT NULL,
  sum_sq double precision NOT NULL,
  successes bigint NOT NULL,
  PRIMARY KEY (experiment, arm)
);
CREATE TABLE IF NOT EXISTS bandit_experiment_state (
  experiment text PRIMARY KEY,
  rewards_since_update bigint NOT NULL,
  updates bigint NOT NULL,
  weights jsonb
);`;

export class BanditStateStore {
  private constructor(private readonly pool: pg.Pool) {
    // an idle connection the server closes (PostgreSQL stopping, e.g. on Ctrl-C) is no query's
    // error: without a listener the pool would take the whole process down with it
    pool.on('error', () => undefined);
  }

  static async connect(url: string): Promise<BanditStateStore> {
    const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    await pool.query(SCHEMA);
    return new BanditStateStore(pool);
  }

  async load(experiment: string, arms: string[]): Promise<StoredState> {
    const rows = (await this.pool.query('SELECT arm, n, sum, sum_sq, successes FROM bandit_arm_stats WHERE experiment = $1', [experiment])).rows as { arm: string; n: string; sum: number; sum_sq: number; successes: string }[];
    const state = (await this.pool.query('SELECT rewards_since_update, updates, weights FROM bandit_experiment_state WHERE experiment = $1', [experiment])).rows[0] as { rewards_since_update: string; updates: string; weights: Record<string, number> | null } | undefined;
    const byArm = new Map(rows.map((r) => [r.arm, { n: Number(r.n), sum: r.sum, sumSq: r.sum_sq, successes: Number(r.successes) }]));
    return {
      arms: new Map(arms.map((a) => [a, byArm.get(a) ?? emptyStats()])),
      rewardsSinceUpdate: Number(state?.rewards_since_update ?? 0),
      updates: Number(state?.updates ?? 0),
      weights: state?.weights ?? undefined,
    };
  }

  /** One reward: the arm's new statistics and the count since the last update, in one statement (so together, in one round trip). */
  async saveReward(experiment: string, arm: string, stats: ArmStats, rewardsSinceUpdate: number): Promise<void> {
    await this.pool.query(
      `WITH arm AS (
         INSERT INTO bandit_arm_stats (experiment, arm, n, sum, sum_sq, successes) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (experiment, arm) DO UPDATE SET n = EXCLUDED.n, sum = EXCLUDED.sum, sum_sq = EXCLUDED.sum_sq, successes = EXCLUDED.successes
       )
       INSERT INTO bandit_experiment_state (experiment, rewards_since_update, updates) VALUES ($1, $7, 0)
       ON CONFLICT (experiment) DO UPDATE SET rewards_since_update = EXCLUDED.rewards_since_update`,
      [experiment, arm, stats.n, stats.sum, stats.sumSq, stats.successes, rewardsSinceUpdate],
    );
  }

  async saveUpdate(experiment: string, updates: number, weights: Record<string, number>): Promise<void> {
    await this.pool.query(
      `INSERT INTO bandit_experiment_state (experiment, rewards_since_update, updates, weights) VALUES ($1, 0, $2, $3)
       ON CONFLICT (experiment) DO UPDATE SET rewards_since_update = 0, updates = EXCLUDED.updates, weights = EXCLUDED.weights`,
      [experiment, updates, JSON.stringify(weights)],
    );
  }

  /** Forget an experiment's state (a fresh replay). */
  async reset(experiment: string): Promise<void> {
    await this.pool.query('DELETE FROM bandit_arm_stats WHERE experiment = $1', [experiment]);
    await this.pool.query('DELETE FROM bandit_experiment_state WHERE experiment = $1', [experiment]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
