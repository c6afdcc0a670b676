/**
 * First dashboard page of the embedded stack: accuracy of each A/B candidate from the MLflow store
 * and the requests each one has served from the stack's own counters. Every figure carries the
 * source it was read from; a figure whose source is unreachable says so instead of showing a number.
 */
import pg from 'pg';
import type { SeldonMetrics } from './metrics.ts';
import type { ServedExperiment } from './gateway.ts';

export interface DashboardOptions {
  experiments: ServedExperiment[];
  metrics: SeldonMetrics;
  /** PostgreSQL URL of the MLflow store; undefined when the stack runs without one. */
  mlflowDbUrl?: string;
  mlflowExperiment: string;
}

interface Figure {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  source: string;
  observedAt: string;
  note?: string;
}

const LATEST_ACCURACY_SQL = `
SELECT DISTINCT ON (t.value) t.value AS model, lm.value AS accuracy, r.run_uuid
FROM experiments e
JOIN runs r ON r.experiment_id = e.experiment_id
JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'seldon.model'
JOIN latest_metrics lm ON lm.run_uuid = r.run_uuid AND lm.key = 'accuracy' AND NOT lm.is_nan
WHERE e.name = $1 AND e.lifecycle_stage = 'active' AND r.lifecycle_stage = 'active' AND r.status = 'FINISHED'
  AND t.value = ANY($2)
ORDER BY t.value, r.start_time DESC`;

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function createDashboard(options: DashboardOptions) {
  const pool = options.mlflowDbUrl ? new pg.Pool({ connectionString: options.mlflowDbUrl, max: 2, connectionTimeoutMillis: 2000 }) : undefined;
  pool?.on('error', () => undefined);

  async function figures(): Promise<Figure[]> {
    const observedAt = new Date().toISOString();
    const candidates = options.experiments.flatMap((e) => e.candidates.map((c) => c.name));
    const out: Figure[] = [];
    let accuracy = new Map<string, number>();
    let accuracyNote: string | undefined;
    if (!pool) {
      accuracyNote = 'MLflow store not configured';
    } else {
      try {
        const result = await pool.query(LATEST_ACCURACY_SQL, [options.mlflowExperiment, candidates]);
        accuracy = new Map(result.rows.map((row: { model: string; accuracy: number }) => [row.model, Number(row.accuracy)]));
      } catch (error) {
        accuracyNote = `MLflow store unreachable: ${(error as Error).message}`;
      }
    }
    const requests = await options.metrics.requestsPerModel();
    for (const name of candidates) {
      const value = accuracy.get(name);
      out.push({
        id: `accuracy:${name}`,
        label: `${name} accuracy (held-out days)`,
        value: value ?? null,
        unit: 'ratio',
        source: value === undefined ? 'UNAVAILABLE' : 'LIVE:mlflow-postgres',
        observedAt,
        note: value === undefined ? (accuracyNote ?? 'no finished run logged for this model') : undefined,
      });
      out.push({
        id: `requests:${name}`,
        label: `${name} requests answered`,
        value: requests[name] ?? 0,
        unit: 'requests',
        source: 'LIVE:stack-metrics',
        observedAt,
      });
    }
    return out;
  }

  function render(list: Figure[]): string {
    const cards = list
      .map(
        (f) => `
      <section class="figure" data-figure="${escapeHtml(f.id)}" aria-label="${escapeHtml(f.label)}">
        <h2>${escapeHtml(f.label)}</h2>
        <p class="value" data-value="${f.value ?? ''}">${f.value === null ? 'n/a' : f.unit === 'ratio' ? (f.value * 100).toFixed(1) + ' %' : String(f.value)}</p>
        <p class="source-badge" data-source="${escapeHtml(f.source)}">source: ${escapeHtml(f.source)}</p>
        ${f.note ? `<p class="note">${escapeHtml(f.note)}</p>` : ''}
      </section>`,
      )
      .join('');
    const experiments = options.experiments
      .map((e) => `${escapeHtml(e.name)}: ${e.candidates.map((c) => `${escapeHtml(c.name)} weight ${c.weight}`).join(', ')}`)
      .join('; ');
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A/B testing - financial inference platform</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#f5f7fa;color:#1b2430}
 header{background:#1b2430;color:#fff;padding:16px 24px} main{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:16px;padding:24px}
 .figure{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.15)} h2{font-size:1rem;margin:0 0 8px}
 .value{font-size:2rem;margin:0 0 8px;font-weight:600} .source-badge{display:inline-block;background:#e6eefb;color:#123d7a;border-radius:12px;padding:2px 10px;font-size:.8rem;margin:0}
 .note{color:#8a3b12;font-size:.85rem}
</style></head>
<body><header><h1>A/B testing</h1><p>${experiments}</p></header>
<main>${cards}</main></body></html>`;
  }

  return {
    async handle(path: string): Promise<{ status: number; type: string; body: string } | null> {
      if (path === '/dashboard' || path === '/dashboard/') {
        return { status: 200, type: 'text/html; charset=utf-8', body: render(await figures()) };
      }
      if (path === '/dashboard/data.json') {
        return { status: 200, type: 'application/json', body: JSON.stringify({ figures: await figures() }) };
      }
      return null;
    },
    async close(): Promise<void> {
      await pool?.end();
    },
  };
}
