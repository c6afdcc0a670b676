/**
 * The compliance report of the explanation audit trail for a period:
 *
 *   npm run audit -- --from 2026-11-01 --to 2026-12-01 [--out reports/audit]
 *
 * Reads the rows the explanation gateway (audit/) wrote to the PostgreSQL at AUDIT_DB_URL (or
 * MLFLOW_DB_URL: the gateway writes to the MLflow store's server), prints the report as Markdown
 * and writes it as Markdown and CSV (one line per explained instance) to the output folder.
 * `--from` is inclusive, `--to` exclusive; a date alone means midnight UTC.
 * Exit codes: 0 written (also for an empty period), 2 bad arguments or no database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditRecord, AuditStore } from '../audit/store.ts';
import { PROJECT_ROOT } from '../support/config.ts';

function refuse(message: string): never {
  console.error(`npm run audit: ${message}`);
  process.exit(2);
}

let values: { from?: string; to?: string; out?: string };
try {
  ({ values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } } }));
} catch (error) {
  refuse(`${(error as Error).message} (options: --from <ISO date or time> --to <ISO date or time> [--out <folder>])`);
}
const time = (name: 'from' | 'to'): Date => {
  const given = values[name];
  if (!given) refuse(`--${name} is required (an ISO 8601 date or time, e.g. 2026-11-28 or 2026-11-28T09:30:00Z)`);
  const at = new Date(given);
  if (Number.isNaN(at.getTime())) refuse(`--${name} '${given}' is not an ISO 8601 date or time`);
  return at;
};
const from = time('from');
const to = time('to');
if (to <= from) refuse(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
const url = process.env.AUDIT_DB_URL ?? process.env.MLFLOW_DB_URL;
if (!url) refuse('set AUDIT_DB_URL (or MLFLOW_DB_URL) to the PostgreSQL the explanation gateway writes to');
const out = path.resolve(values.out ?? path.join(PROJECT_ROOT, 'reports', 'audit'));

// loaded after the arguments are checked: a refusal comes at once
const [{ AuditStore: Store }, { stringify }] = await Promise.all([import('../audit/store.ts'), import('csv-stringify/sync')]);
let store: AuditStore;
try {
  store = await Store.connect(url);
} catch (error) {
  refuse(`cannot read the audit trail: ${(error as Error).message.replace(/\/\/[^@/]*@/, '//****@')}`);
}
const rows = await store.between(from, to).finally(() => store.close());

const features = (r: AuditRecord): string => r.topFeatures.map((f) => `${f.feature}=${f.value} (SHAP ${f.shap.toPrecision(3)})`).join('; ');
const counts = (key: (r: AuditRecord) => string): [string, number][] => {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
};
const period = `${from.toISOString()} to ${to.toISOString()}`;
const markdown = [
  `# Explanation audit report`,
  '',
  `Period: ${period} (from inclusive, to exclusive). Source: explanation_audit in the PostgreSQL at AUDIT_DB_URL, written by the explanation gateway.`,
  '',
  `Explained instances: ${rows.length}, in ${new Set(rows.map((r) => r.requestId)).size} requests.`,
  '',
  '| explainer (model version) | instances |',
  '|---|---|',
  ...counts((r) => `${r.explainer} (${r.model} v${r.modelVersion})`).map(([k, n]) => `| ${k} | ${n} |`),
  '',
  '| requester | instances |',
  '|---|---|',
  ...counts((r) => r.requester).map(([k, n]) => `| ${k} | ${n} |`),
  '',
  '| explained at (UTC) | request id | instance | requester | explainer | model | input SHA-256 | top features (value, SHAP) |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.explainedAt.toISOString()} | ${r.requestId} | ${r.instance} | ${r.requester} | ${r.explainer} v${r.explainerVersion} | ${r.model} v${r.modelVersion} | ${r.inputSha256.slice(0, 16)}… | ${features(r)} |`),
  '',
].join('\n');
const csv = stringify(
  rows.map((r) => [r.explainedAt.toISOString(), r.requestId, r.instance, r.requester, r.explainer, r.explainerVersion, r.model, r.modelVersion, r.inputSha256, features(r)]),
  { header: true, columns: ['explained_at', 'request_id', 'instance', 'requester', 'explainer', 'explainer_version', 'model', 'model_version', 'input_sha256', 'top_features'] },
);
fs.mkdirSync(out, { recursive: true });
const stem = `audit-${from.toISOString().replace(/[:.]/g, '-')}-${to.toISOString().replace(/[:.]/g, '-')}`;
fs.writeFileSync(path.join(out, `${stem}.md`), markdown);
fs.writeFileSync(path.join(out, `${stem}.csv`), csv);
console.log(markdown);
console.log(`Audit report: ${path.join(out, `${stem}.md`)}\nAudit report (CSV): ${path.join(out, `${stem}.csv`)}`);
