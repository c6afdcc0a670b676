/**
 * The MLflow tracking store in PostgreSQL, on MLflow's own schema (experiments, runs, params,
 * tags, metrics, latest_metrics, registered_models, model_versions). Writes what training
 * produced; reads it back for the scenarios. Parameterised SQL only.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The MLflow tables this harness uses, created only when missing (a real MLflow DB already has them). */
const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS experiments (
  experiment_id BIGSERIAL NOT NULL, name VARCHAR(256) NOT NULL, artifact_location VARCHAR(256),
  lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT,
  CONSTRAINT experiment_pk PRIMARY KEY (experiment_id), CONSTRAINT experiments_name_key UNIQUE (name));
CREATE TABLE IF NOT EXISTS experiment_tags (
  key VARCHAR(250) NOT NULL, value VARCHAR(5000), experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  CONSTRAINT experiment_tag_pk PRIMARY KEY (key, experiment_id));
CREATE TABLE IF NOT EXISTS runs (
  run_uuid VARCHAR(32) NOT NULL, name VARCHAR(250), source_type VARCHAR(20), source_name VARCHAR(500),
  entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(20), start_time BIGINT, end_time BIGINT,
  deleted_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200),
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id), CONSTRAINT run_pk PRIMARY KEY (run_uuid));
CREATE TABLE IF NOT EXISTS tags (
  key VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid),
  CONSTRAINT tag_pk PRIMARY KEY (key, run_uuid));
CREATE TABLE IF NOT EXISTS params (
  key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid),
  CONSTRAINT param_pk PRIMARY KEY (key, run_uuid));
CREATE TABLE IF NOT EXISTS metrics (
  key VARCHAR(250) NOT NULL, value DOUBLE PRECISION NOT NULL, timestamp BIGINT NOT NULL, step BIGINT NOT NULL DEFAULT 0,
  is_nan BOOLEAN NOT NULL DEFAULT false, run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid),
  CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
CREATE TABLE IF NOT EXISTS latest_metrics (
  key VARCHAR(250) NOT NULL, value DOUBLE PRECISION NOT NULL, timestamp BIGINT, step BIGINT NOT NULL DEFAULT 0,
  is_nan BOOLEAN NOT NULL DEFAULT false, run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid),
  CONSTRAINT latest_metric_pk PRIMARY KEY (key, run_uuid));
CREATE TABLE IF NOT EXISTS registered_models (
  name VARCHAR(256) NOT NULL, creation_time BIGINT, last_updated_time BIGINT, description TEXT,
  CONSTRAINT registered_model_pk PRIMARY KEY (name));
CREATE TABLE IF NOT EXISTS model_versions (
  name VARCHAR(256) NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE, version INTEGER NOT NULL,
  creation_time BIGINT, last_updated_time BIGINT, description TEXT, user_id VARCHAR(256), current_stage VARCHAR(20),
  source VARCHAR(500), run_id VARCHAR(32), run_link VARCHAR(500), status VARCHAR(20), status_message VARCHAR(500),
  storage_location VARCHAR(500), CONSTRAINT model_version_pk PRIMARY KEY (name, version));
`;

export const MLFLOW_TABLES = ['experiments', 'experiment_tags', 'runs', 'tags', 'params', 'metrics', 'latest_metrics', 'registered_models', 'model_versions'];

export interface RunToLog {
  name: string;
  artifactUri: string;
  startTime: number;
  endTime: number;
  params: Record<string, string | number | boolean>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  /** Registered model to create a version of, pointing at artifactUri. */
  registeredModel?: string;
}

export interface LoggedAccuracy {
  model: string;
  runUuid: string;
  accuracy: number;
  params: Record<string, string>;
}

export interface ExperimentRecord {
  experimentId: string;
  name: string;
  artifactLocation: string | null;
  lifecycleStage: string;
  creationTime: Date | null;
}

export interface RunRecord {
  runUuid: string;
  name: string | null;
  status: string;
  startTime: Date | null;
  endTime: Date | null;
  lifecycleStage: string;
  artifactUri: string | null;
  /** The served model this run trained (tag `seldon.model`), if any. */
  model: string | null;
}

export interface MetricRecord {
  key: string;
  /** NaN when MLflow stored the value as NaN (`is_nan`). */
  value: number;
  step: number;
  timestamp: Date | null;
}

export interface ModelVersionRecord {
  name: string;
  version: number;
  currentStage: string | null;
  status: string | null;
  runId: string | null;
  source: string | null;
  creationTime: Date | null;
}

const msToDate = (ms: string | number | null): Date | null => (ms === null ? null : new Date(Number(ms)));

export class MlflowStore {
  private constructor(private readonly pool: pg.Pool) {}

  /**
   * A pool on `url`. A query that has no answer within `queryTimeoutMs` (default 30 s) fails with
   * "Query read timeout" and its connection is dropped: a server that stops answering without closing
   * its connections (a host gone, a paused process) cannot hang a reader.
   */
  static connect(url: string, options: { queryTimeoutMs?: number } = {}): MlflowStore {
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000, query_timeout: options.queryTimeoutMs ?? 30_000 });
    // an idle connection the server closes (PostgreSQL killed or stopping) is no query's error:
    // without a listener the pool would take the whole process down with it. The pool drops that
    // connection and opens a fresh one for the next query, so the store reads again once the
    // server is back; until then a query fails at once (connection refused), or after 5 s when
    // the host does not answer at all
    pool.on('error', () => undefined);
    return new MlflowStore(pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async ensureSchema(): Promise<void> {
    await this.pool.query(SCHEMA_SQL);
  }

  async missingTables(): Promise<string[]> {
    const result = await this.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)`,
      [MLFLOW_TABLES],
    );
    const present = new Set(result.rows.map((r) => r.table_name));
    return MLFLOW_TABLES.filter((t) => !present.has(t));
  }

  async experimentId(name: string, artifactLocation: string): Promise<string> {
    const now = Date.now();
    await this.pool.query(
      `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)
       VALUES ($1, $2, 'active', $3, $3) ON CONFLICT (name) DO NOTHING`,
      [name, artifactLocation, now],
    );
    const result = await this.pool.query<{ experiment_id: string }>(`SELECT experiment_id FROM experiments WHERE name = $1`, [name]);
    return String(result.rows[0].experiment_id);
  }

  /** The newest version of a registered model (0 when it has none). */
  async latestVersion(name: string): Promise<number> {
    const result = await this.pool.query<{ version: number | null }>(`SELECT MAX(version) AS version FROM model_versions WHERE name = $1`, [name]);
    return Number(result.rows[0]?.version ?? 0);
  }

  /** The runs tagged with a tag's value, and the model version each registered. */
  async runsTagged(key: string, value: string): Promise<{ runUuid: string; name: string; version: number | null; tags: Record<string, string> }[]> {
    const runs = await this.pool.query<{ run_uuid: string; name: string; version: number | null }>(
      `SELECT r.run_uuid, r.name, mv.version FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = $1 AND t.value = $2
       LEFT JOIN model_versions mv ON mv.run_id = r.run_uuid ORDER BY r.start_time`,
      [key, value],
    );
    const out = [];
    for (const r of runs.rows) {
      const tags = await this.pool.query<{ key: string; value: string }>(`SELECT key, value FROM tags WHERE run_uuid = $1`, [r.run_uuid]);
      out.push({ runUuid: r.run_uuid, name: r.name, version: r.version === null ? null : Number(r.version), tags: Object.fromEntries(tags.rows.map((t) => [t.key, t.value])) });
    }
    return out;
  }

  /** Log one finished run (params, tags, metrics, optional registered model version) in one transaction. */
  async logRun(experimentId: string, run: RunToLog): Promise<string> {
    const runUuid = randomUUID().replace(/-/g, '');
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO runs (run_uuid, name, source_type, source_name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri, experiment_id)
         VALUES ($1, $2, 'LOCAL', 'financial-mlops-uat training', 'financial-mlops-uat', 'FINISHED', $3, $4, 'active', $5, $6)`,
        [runUuid, run.name, run.startTime, run.endTime, run.artifactUri, experimentId],
      );
      const tags = { 'mlflow.runName': run.name, 'mlflow.source.type': 'LOCAL', 'mlflow.user': 'financial-mlops-uat', ...run.tags };
      for (const [key, value] of Object.entries(tags)) {
        await client.query(`INSERT INTO tags (key, value, run_uuid) VALUES ($1, $2, $3)`, [key, value, runUuid]);
      }
      for (const [key, value] of Object.entries(run.params)) {
        await client.query(`INSERT INTO params (key, value, run_uuid) VALUES ($1, $2, $3)`, [key, String(value), runUuid]);
      }
      for (const [key, value] of Object.entries(run.metrics)) {
        const isNan = Number.isNaN(value);
        const stored = isNan ? 0 : value;
        await client.query(`INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ($1, $2, $3, 0, $4, $5)`, [key, stored, run.endTime, isNan, runUuid]);
        await client.query(`INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ($1, $2, $3, 0, $4, $5)`, [key, stored, run.endTime, isNan, runUuid]);
      }
      if (run.registeredModel) {
        await client.query(
          `INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES ($1, $2, $2)
           ON CONFLICT (name) DO UPDATE SET last_updated_time = EXCLUDED.last_updated_time`,
          [run.registeredModel, run.endTime],
        );
        await client.query(
          `INSERT INTO model_versions (name, version, creation_time, last_updated_time, user_id, current_stage, source, run_id, status, storage_location)
           SELECT $1::varchar, COALESCE(MAX(version), 0) + 1, $2::bigint, $2::bigint, 'financial-mlops-uat', 'None', $3::varchar, $4::varchar, 'READY', $3::varchar FROM model_versions WHERE name = $1::varchar`,
          [run.registeredModel, run.endTime, run.artifactUri, runUuid],
        );
      }
      await client.query('COMMIT');
      return runUuid;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  /** An experiment by name, or undefined when there is none. */
  async experimentByName(name: string): Promise<ExperimentRecord | undefined> {
    const result = await this.pool.query<{ experiment_id: string; name: string; artifact_location: string | null; lifecycle_stage: string; creation_time: string | null }>(
      `SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time FROM experiments WHERE name = $1`,
      [name],
    );
    const row = result.rows[0];
    return row && { experimentId: String(row.experiment_id), name: row.name, artifactLocation: row.artifact_location, lifecycleStage: row.lifecycle_stage, creationTime: msToDate(row.creation_time) };
  }

  /** Active runs of an experiment, newest first, with status and times. */
  async runs(experimentId: string, limit = 100): Promise<RunRecord[]> {
    const result = await this.pool.query<{ run_uuid: string; name: string | null; status: string; start_time: string | null; end_time: string | null; lifecycle_stage: string; artifact_uri: string | null; model: string | null }>(
      `SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri,
              (SELECT t.value FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'seldon.model') AS model
       FROM runs r WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active'
       ORDER BY r.start_time DESC NULLS LAST LIMIT $2`,
      [experimentId, limit],
    );
    return result.rows.map((r) => ({
      runUuid: r.run_uuid,
      name: r.name,
      status: r.status,
      startTime: msToDate(r.start_time),
      endTime: msToDate(r.end_time),
      lifecycleStage: r.lifecycle_stage,
      artifactUri: r.artifact_uri,
      model: r.model,
    }));
  }

  /** A run's latest value of each metric (what MLflow's REST API returns as the run's metrics). */
  async latestMetrics(runUuid: string): Promise<MetricRecord[]> {
    const result = await this.pool.query<{ key: string; value: number; step: string; timestamp: string | null; is_nan: boolean }>(
      `SELECT key, value, step, timestamp, is_nan FROM latest_metrics WHERE run_uuid = $1 ORDER BY key`,
      [runUuid],
    );
    return result.rows.map((m) => ({ key: m.key, value: m.is_nan ? NaN : Number(m.value), step: Number(m.step), timestamp: msToDate(m.timestamp) }));
  }

  /** Registered model versions, newest first; all registered models when `name` is absent. */
  async modelVersions(name?: string): Promise<ModelVersionRecord[]> {
    const result = await this.pool.query<{ name: string; version: number; current_stage: string | null; status: string | null; run_id: string | null; source: string | null; creation_time: string | null }>(
      `SELECT name, version, current_stage, status, run_id, source, creation_time FROM model_versions
       WHERE ($1::text IS NULL OR name = $1) ORDER BY name, version DESC`,
      [name ?? null],
    );
    return result.rows.map((v) => ({ name: v.name, version: v.version, currentStage: v.current_stage, status: v.status, runId: v.run_id, source: v.source, creationTime: msToDate(v.creation_time) }));
  }

  /** The server's version string and the round trip of a trivial query, in ms. */
  async ping(): Promise<{ version: string; latencyMs: number }> {
    const started = performance.now();
    const result = await this.pool.query<{ server_version: string }>('SHOW server_version');
    return { version: result.rows[0].server_version, latencyMs: performance.now() - started };
  }

  /**
   * Latest finished run's accuracy per served model in an experiment, optionally only runs tagged
   * with one harness run id.
   */
  async latestAccuracies(experimentName: string, uatRunId?: string): Promise<LoggedAccuracy[]> {
    const result = await this.pool.query<{ model: string; run_uuid: string; accuracy: number }>(
      `SELECT DISTINCT ON (t.value) t.value AS model, r.run_uuid, lm.value AS accuracy
       FROM experiments e
       JOIN runs r ON r.experiment_id = e.experiment_id
       JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'seldon.model'
       JOIN latest_metrics lm ON lm.run_uuid = r.run_uuid AND lm.key = 'accuracy' AND NOT lm.is_nan
       WHERE e.name = $1 AND e.lifecycle_stage = 'active' AND r.lifecycle_stage = 'active' AND r.status = 'FINISHED'
         AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM tags u WHERE u.run_uuid = r.run_uuid AND u.key = 'uat.run_id' AND u.value = $2))
       ORDER BY t.value, r.start_time DESC`,
      [experimentName, uatRunId ?? null],
    );
    const out: LoggedAccuracy[] = [];
    for (const row of result.rows) {
      const params = await this.pool.query<{ key: string; value: string }>(`SELECT key, value FROM params WHERE run_uuid = $1`, [row.run_uuid]);
      out.push({ model: row.model, runUuid: row.run_uuid, accuracy: Number(row.accuracy), params: Object.fromEntries(params.rows.map((p) => [p.key, p.value])) });
    }
    return out;
  }
}
