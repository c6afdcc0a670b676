/**
 * The live dashboard, as a program:
 *
 *   tsx dashboard/main.ts [--port 8050] [--host 127.0.0.1] [--prometheus-url URL] [--metrics-url URL]
 *                         [--manifests k8s/ab-testing] [--experiment financial-ab-test]
 *                         [--mlflow-experiment financial-direction-predictors] [--refresh-seconds 5]
 *                         [--bandit-url URL] [--drift-url URL] [--evidence reports/evidence/evidence.ndjson]
 *                         [--allowed-host NAME[:PORT]]... [--max-body-bytes 1048576]
 *                         [--headers-timeout-ms 10000] [--request-timeout-ms 30000] [--max-connections 256]
 *
 * Requests are served only when their Host header is the bound host:port, localhost:<port>,
 * 127.0.0.1:<port> or [::1]:<port>; others get 403 (DNS-rebinding protection). --allowed-host
 * (repeatable) adds a name the dashboard is reached by, e.g. behind a proxy: NAME allows it on any
 * port, NAME:PORT on that port only. The limits are those of stack/http-hardening.ts.
 *
 * The MLflow store URL comes from MLFLOW_DB_URL (never an argument, so it stays out of process
 * lists); the explanation audit trail is read from the same server. With no Prometheus URL the figures come from --metrics-url, labelled LIVE:stack-metrics.
 * When listening it prints one JSON line: {"event":"ready","url":"http://127.0.0.1:8050"}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../support/config.ts';
import { MlflowStore } from '../support/clients/mlflow-store.ts';
import { AuditStore } from '../audit/store.ts';
import { viewSources } from '../support/views/dashboard-views.ts';
import { limitOptions, parseLimits, type HttpLimits } from '../stack/http-hardening.ts';
import { DASHBOARD_FAULTS, type DashboardFault } from './faults.ts';
import { createDashboardServer, parseHostHeader } from './server.ts';
import { fatal, listenAndAnnounce } from '../stack/program.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8050' },
    host: { type: 'string', default: '127.0.0.1' },
    'prometheus-url': { type: 'string' },
    'metrics-url': { type: 'string' },
    namespace: { type: 'string' },
    manifests: { type: 'string', multiple: true, default: [path.join(PROJECT_ROOT, 'k8s', 'ab-testing')] },
    experiment: { type: 'string', default: 'financial-ab-test' },
    'mlflow-experiment': { type: 'string', default: 'financial-direction-predictors' },
    'refresh-seconds': { type: 'string', default: '5' },
    'bandit-url': { type: 'string' },
    'drift-url': { type: 'string' },
    // the run's evidence ledger (JSON lines), read on each request for the security view
    evidence: { type: 'string' },
    seed: { type: 'string', default: '42' },
    'allowed-host': { type: 'string', multiple: true, default: [] },
    fault: { type: 'string', multiple: true, default: [] },
    ...limitOptions,
  },
});
const port = Number(values.port);
const badFault = values.fault.find((f) => !(DASHBOARD_FAULTS as readonly string[]).includes(f));
if (badFault !== undefined) fatal(`--fault must be one of ${DASHBOARD_FAULTS.join(', ')}, got '${badFault}'`);
const faults = new Set(values.fault as DashboardFault[]);
const refreshSeconds = Number(values['refresh-seconds']);
if (!Number.isInteger(port) || port < 0 || port > 65535) fatal(`--port must be 0..65535, got '${values.port}'`);
if (!Number.isFinite(refreshSeconds) || refreshSeconds < 1) fatal(`--refresh-seconds must be a number >= 1, got '${values['refresh-seconds']}'`);
for (const entry of values['allowed-host']) {
  if (!parseHostHeader(entry)) fatal(`--allowed-host must look like NAME, NAME:PORT or [IPv6]:PORT, got '${entry}'`);
}
let limits: HttpLimits;
try {
  limits = parseLimits(values);
} catch (error) {
  fatal((error as Error).message);
}
for (const flag of ['prometheus-url', 'metrics-url', 'bandit-url', 'drift-url'] as const) {
  const value = values[flag];
  if (value !== undefined && !URL.canParse(value)) fatal(`--${flag} must be a URL, got '${value}'`);
}

const dbUrl = process.env.MLFLOW_DB_URL || undefined;
if (dbUrl && faults.has('dashboard-logs-database-url')) console.log(`MLflow store at ${dbUrl}`);
const store = dbUrl ? MlflowStore.connect(dbUrl) : undefined;
let sources: ReturnType<typeof viewSources>;
try {
  sources = viewSources({
    prometheusUrl: values['prometheus-url']?.replace(/\/$/, ''),
    metricsUrl: values['metrics-url'],
    namespace: values.namespace,
    store,
    storeProblem: dbUrl ? undefined : 'MLFLOW_DB_URL is not set',
    manifests: values.manifests,
    experiment: values.experiment,
    mlflowExperiment: values['mlflow-experiment'],
    seed: Number(values.seed),
    banditUrl: values['bandit-url']?.replace(/\/$/, ''),
    driftUrl: values['drift-url']?.replace(/\/$/, ''),
    evidence: values.evidence,
    // the explanation gateway writes its audit trail to the same server
    audit: dbUrl ? { store: AuditStore.reader(dbUrl) } : { problem: 'MLFLOW_DB_URL is not set (the audit trail is in that PostgreSQL)' },
  });
} catch (error) {
  fatal(`cannot read manifests: ${(error as Error).message}`);
}
const { live } = sources;
live.startSampling();

// the meta tests' defect: a lock file taken at start and removed only on a clean stop, so a dashboard
// that crashed (or was killed) cannot start again until someone removes it
const lock = path.join(os.tmpdir(), `uat-dashboard-${process.ppid}.lock`);
if (faults.has('dashboard-stale-lock')) {
  if (fs.existsSync(lock)) fatal(`another dashboard holds ${lock}`);
  fs.writeFileSync(lock, String(process.pid));
}

const server = createDashboardServer({ sources, refreshSeconds, limits, host: values.host, allowedHosts: values['allowed-host'], faults });
listenAndAnnounce(server, values.host, port, () => ({ prometheus: values['prometheus-url'] ?? null }));
const stop = (): void => {
  if (faults.has('dashboard-stale-lock')) fs.rmSync(lock, { force: true });
  live.stopSampling();
  server.close();
  server.closeAllConnections();
  void (store?.close() ?? Promise.resolve()).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
