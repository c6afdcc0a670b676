/**
 * The explanation audit trail in PostgreSQL: one row per explained instance (a request that asks
 * to explain three days writes three rows), with who asked, when, which explainer and model
 * version answered, a SHA-256 of the instance's values (not the values: the trail proves what was
 * explained without copying client data) and the leading features with their values and SHAP values.
 */
import pg from 'pg';

export interface TopFeature {
  feature: string;
  value: number;
  shap: number;
}

export interface AuditRecord {
  requestId: string;
  instance: number;
  explainer: string;
  explainerVersion: string;
  model: string;
  modelVersion: string;
  inputSha256: string;
  topFeatures: TopFeature[];
  requester: string;
  explainedAt: Date;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS explanation_audit (
  id bigserial PRIMARY KEY,
  request_id text NOT NULL,
  instance integer NOT NULL,
  explainer text NOT NULL,
  explainer_version text NOT NULL,
  model text NOT NULL,
  model_version text NOT NULL,
  input_sha256 text NOT NULL,
  top_features jsonb NOT NULL,
  requester text NOT NULL,
  explained_at timestamptz NOT NULL,
  UNIQUE (request_id, instance)
);
CREATE INDEX IF NOT EXISTS explanation_audit_time ON explanation_audit (explained_at);`;

type Row = { request_id: string; instance: number; explainer: string; explainer_version: string; model: string; model_version: string; input_sha256: string; top_features: TopFeature[]; requester: string; explained_at: Date };

const fromRow = (r: Row): AuditRecord => ({
  requestId: r.request_id,
  instance: r.instance,
  explainer: r.explainer,
  explainerVersion: r.explainer_version,
  model: r.model,
  modelVersion: r.model_version,
  inputSha256: r.input_sha256,
  topFeatures: r.top_features,
  requester: r.requester,
  explainedAt: r.explained_at,
});

export class AuditStore {
  private constructor(private readonly pool: pg.Pool) {
    // an idle connection the server closes (PostgreSQL stopping, e.g. on Ctrl-C) is no query's
    // error: without a listener the pool would take the whole process down with it
    pool.on('error', () => undefined);
  }

  static async connect(url: string): Promise<AuditStore> {
    const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    await pool.query(SCHEMA);
    return new AuditStore(pool);
  }

  /** A reader that creates nothing (the dashboard): before the gateway's first start, reads find no table and say so. */
  static reader(url: string): AuditStore {
    return new AuditStore(new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 }));
  }

  /** The rows of one explanation, in one statement (all or none). */
  async write(records: AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const values: unknown[] = [];
    const tuples = records.map((r, i) => {
      values.push(r.requestId, r.instance, r.explainer, r.explainerVersion, r.model, r.modelVersion, r.inputSha256, JSON.stringify(r.topFeatures), r.requester, r.explainedAt);
      return `(${Array.from({ length: 10 }, (_, k) => `$${i * 10 + k + 1}`).join(', ')})`;
    });
    await this.pool.query(
      `INSERT INTO explanation_audit (request_id, instance, explainer, explainer_version, model, model_version, input_sha256, top_features, requester, explained_at) VALUES ${tuples.join(', ')}`,
      values,
    );
  }

  /** Rows explained in [from, to), oldest first. */
  async between(from: Date, to: Date): Promise<AuditRecord[]> {
    const rows = (await this.pool.query('SELECT * FROM explanation_audit WHERE explained_at >= $1 AND explained_at < $2 ORDER BY explained_at, request_id, instance', [from, to])).rows as Row[];
    return rows.map(fromRow);
  }

  /** Rows of these request ids. */
  async ofRequests(requestIds: string[]): Promise<AuditRecord[]> {
    const rows = (await this.pool.query('SELECT * FROM explanation_audit WHERE request_id = ANY($1) ORDER BY request_id, instance', [requestIds])).rows as Row[];
    return rows.map(fromRow);
  }

  /** The latest `n` rows, newest first. */
  async latest(n: number): Promise<AuditRecord[]> {
    const rows = (await this.pool.query('SELECT * FROM explanation_audit ORDER BY explained_at DESC, id DESC LIMIT $1', [n])).rows as Row[];
    return rows.map(fromRow);
  }

  async count(): Promise<number> {
    return Number((await this.pool.query('SELECT count(*) AS n FROM explanation_audit')).rows[0].n);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
