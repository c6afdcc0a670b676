/**
 * Harness configuration, read once from the environment into typed values. A bad value fails with
 * a message naming the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseStorageMapping } from '../fixtures/storage-map.ts';
import { parseStacks, STACKS, type Stack } from './scope/stacks.ts';
import { HarnessInputError, shown } from './harness-input.ts';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** Cucumber's CLI, run with the current Node by the UAT script and the meta tests. */
/** The platform's deliberate defects for the meta tests: the stack's (stack/gateway.ts FAULTS) and the dashboard's (`dashboard-*`). */
export const STACK_FAULTS = [
  'ignore-weights', 'swap-outputs', 'crash-on-bad-input', 'metrics-down', 'count-errors-as-answered', 'all-ready',
  'slow-inference', 'stalled-inference', 'drifting-inference', 'leaky-inference', 'fail-every-20th', 'refuse-every-50th', 'crash-under-load', 'misroute-direct', 'uncounted-model', 'stale-metrics-for-prometheus',
  'unready-after-bad-input', 'accept-invalid-quantity', 'route-unready-experiments', 'keep-routes-to-removed-models', 'drop-ready-experiment-routes',
  'stale-version-serves-challenger', 'invert-router-threshold', 'pipeline-guesses-missing-input', 'shap-values-off', 'explainer-few-samples', 'slow-explainer', 'counterfactual-overshoots', 'counterfactual-stops-short',
  'drift-detector-blind', 'drift-detector-uncorrected', 'drift-pvalues-misordered',
  // the drift monitor's (monitor/monitor.ts): an alert, or a retraining, for every drifting window of an episode
  'monitor-alert-every-window', 'monitor-retrain-every-window',
  // the dashboard's (dashboard/faults.ts)
  'dashboard-slow-page', 'dashboard-frozen-data', 'dashboard-swap-accuracy', 'dashboard-simulated', 'dashboard-no-source', 'dashboard-ignore-filter', 'dashboard-wide-page', 'dashboard-unlabelled-control',
  'dashboard-no-chart-library', 'dashboard-skip-tab', 'dashboard-ignore-enter', 'dashboard-ignore-space', 'dashboard-figures-ignore-filter', 'dashboard-miscount',
  'dashboard-keeps-prometheus-label', 'dashboard-dies-without-prometheus', 'dashboard-sticky-fallback', 'dashboard-router-swaps-regimes', 'dashboard-bandit-swaps-weights', 'dashboard-explanations-undercount', 'dashboard-drift-undercount', 'dashboard-tabs-ignore-address', 'dashboard-logs-database-url', 'dashboard-stale-lock', 'dashboard-caches-mlflow', 'dashboard-no-db-reconnect',
  'dashboard-security-unchecked-passed',
  // the doctor's (support/doctor/checks.ts): it reports the database as reachable without connecting
  'doctor-unchecked-database',
  // the explanation gateway's (audit/gateway.ts): every fourth explanation returned without its audit rows
  'audit-skip-every-4th-write',
  // the bandit controller's (bandit/controller.ts): an even split whatever the rewards; weights never
  // written to the Experiment; posteriors not read back after a restart
  'bandit-uniform', 'bandit-never-patch', 'bandit-forget-state', 'bandit-ignore-readiness',
  // the training step's (support/training/publish-predictors.ts): the baseline's fit released as the enhanced predictor
  'training-challenger-is-baseline',
  // the platform's security (support/security/kubernetes-api.ts, support/tasks/access-control.ts): the bandit
  // controller's Role widened to every verb on every resource; a manifest carrying a token as a literal value
  'rbac-wildcard-role', 'manifests-literal-password',
  // the embedded PostgreSQL's (support/db/postgres-provider.ts): cleartext password authentication
  'database-cleartext-password',
] as const;

export const CUCUMBER_BIN = path.join(PROJECT_ROOT, 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js');

/** The engines a load profile can run in (UAT_LOAD_ENGINE; support/load/engine.ts). */
export const LOAD_ENGINES = ['auto', 'k6', 'builtin', 'k6-operator'] as const;

const schema = z.object({
  UAT_TARGET: z.enum(['local', 'kubernetes']).default('local'),
  UAT_SEED: z.coerce.number().int().nonnegative().default(42),
  MLFLOW_DB_URL: z.string().url().optional(),
  CHROMIUM_PATH: z.string().optional(),
  UAT_REFERENCE_DIR: z.string().default(path.resolve(PROJECT_ROOT, '..', 'shared', 'reference')),
  UAT_KEEP: z.enum(['0', '1', 'true', 'false']).default('0'),
  UAT_REPORTS_DIR: z.string().default(path.join(PROJECT_ROOT, 'reports')),
  // set by `npm run uat` for the suite it starts: the run's id, also in its folder's name
  UAT_RUN_ID: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a UUID').optional(),
  // the stacks (k8s/ folders) to deploy, comma-separated; ab-testing always; all when unset (npm run uat sets it from the selected scenarios)
  UAT_STACKS: z.string().optional(),
  UAT_STORAGE_MAP: z
    .string()
    .regex(/^[^=]+=[^=]+(,[^=]+=[^=]+)*$/, 'must look like <uri-prefix>=<folder>[,<uri-prefix>=<folder>]')
    .optional(),
  UAT_STACK_FAULT: z
    .string()
    .refine((v) => v.split(',').every((f) => (STACK_FAULTS as readonly string[]).includes(f.trim())), 'must be one or more of the deliberate faults, comma-separated')
    .optional(),
  UAT_MLFLOW_EXPERIMENT: z.string().min(1).default('financial-direction-predictors'),
  PROMETHEUS_URL: z.string().url().optional(),
  PROMETHEUS_BIN: z.string().min(1).default('prometheus'),
  UAT_STACK_URL: z.string().url().optional(),
  UAT_INFERENCE_URL: z.string().url().optional(),
  UAT_METRICS_URL: z.string().url().optional(),
  UAT_READY_DEADLINE_SECONDS: z.coerce.number().positive().max(3600).default(60),
  UAT_DASHBOARD_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  UAT_TRAINING_CACHE: z.string().optional(),
  UAT_WAIVERS_FILE: z.string().default(path.join(PROJECT_ROOT, 'signoff', 'waivers.yaml')),
  KUBECONFIG: z.string().min(1).optional(),
  UAT_KUBE_CONTEXT: z.string().min(1).optional(),
  UAT_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name').optional(),
  UAT_NAMESPACE_PER_RUN: z.enum(['0', '1', 'true', 'false']).default('0'),
  UAT_RUNTIME_MANIFESTS: z.string().min(1).optional(),
  // read where a load runs (support/load/): checked here too, so a bad value stops the run before anything starts
  UAT_LOAD_ENGINE: z.enum(LOAD_ENGINES).optional(),
  UAT_LOAD_WORKERS: z.coerce.number().int().positive().optional(),
  UAT_K6_PARALLELISM: z.coerce.number().int().min(1).max(100).optional(),
  UAT_K6_TARGET_URL: z.string().url().optional(),
  // read by cucumber.js: Allure's issue links
  UAT_ISSUE_URL_TEMPLATE: z.string().includes('%s', { message: "must hold %s where the issue's number goes" }).optional(),
});

/** Variables whose value may hold a password: named, never shown. */
const SECRET_VARIABLES = new Set(['MLFLOW_DB_URL']);
/** The values a variable may take, when too many for its rule's message. */
const LISTED: Record<string, readonly string[]> = { UAT_STACK_FAULT: STACK_FAULTS };

/** What a variable must be, in plain words, from a zod issue. */
function allowed(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : `must be a ${issue.expected}`;
    case 'too_small':
      return `must be ${issue.inclusive === false ? 'above' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'below' : 'at most'} ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a URL (scheme://host...)' : issue.message;
    default:
      return issue.message;
  }
}

export interface HarnessConfig {
  target: 'local' | 'kubernetes';
  seed: number;
  mlflowDbUrl?: string;
  chromiumPath?: string;
  referenceDir: string;
  keep: boolean;
  reportsDir: string;
  storageMap: [string, string][];
  /** Deliberate stack defects for the meta tests, comma-separated (STACK_FAULTS). */
  stackFault?: string;
  /** A running Prometheus (a cluster's); when absent the local target starts `prometheusBin`. */
  prometheusUrl?: string;
  prometheusBin: string;
  /** A running inference stack for `npm run doctor` to check (the embedded stack or seldon-mesh). */
  stackUrl?: string;
  /** Port of the dashboard the local target starts; 0 picks a free one. */
  dashboardPort: number;
  /** seldon-mesh's address for UAT_TARGET=kubernetes. */
  inferenceUrl?: string;
  /** Where the serving metrics (`/metrics`, `/metrics/mlserver`, `/metrics/cadvisor`) are read for UAT_TARGET=kubernetes; UAT_INFERENCE_URL when absent. */
  metricsUrl?: string;
  /** How long the main stack's resources have to report Ready on a cluster. */
  readyDeadlineSeconds: number;
  /** KUBECONFIG: kubeconfig files (colon-separated); ~/.kube/config or in-cluster when absent. */
  kubeconfig?: string;
  /** The kubeconfig context for UAT_TARGET=kubernetes (the current one when absent). */
  kubeContext?: string;
  /** Namespace of the Seldon servers, for PromQL on a cluster's Prometheus. */
  namespace?: string;
  /** UAT_TARGET=kubernetes: each run creates its own namespace (`financial-mlops-uat-<run id>`) and deletes it at the end. */
  namespacePerRun: boolean;
  /** A manifest folder applied into each run's namespace before the stacks (Seldon Core v2: its SeldonRuntime and Servers, k8s/runtime). */
  runtimeManifests?: string;
  mlflowExperiment: string;
  manifests: string[];
  /** The reviewed waivers of failed non-critical criteria. */
  waiversFile: string;
  /** Where fitted predictors are reused for the same training options (meta tests only). */
  trainingCache?: string;
  /** The run's id when `npm run uat` chose it (UAT_RUN_ID); otherwise the target picks one. */
  runId?: string;
}

/** A variable of the environment the harness cannot use; the message names it, what it may be and the value. */
export class ConfigError extends HarnessInputError {}

/** The deliberate defects of this run (UAT_STACK_FAULT), one name each; none in a normal run. */
export function stackFaults(config: Pick<HarnessConfig, 'stackFault'>): string[] {
  return (config.stackFault ?? '').split(',').map((f) => f.trim()).filter(Boolean);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HarnessConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    // the harness reads no .env file: the variables come from the environment it was started in
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = SECRET_VARIABLES.has(name) ? 'the value given (not shown: it may hold a password)' : shown(cleaned[name]);
      return `environment variable ${name}: ${allowed(issue)}, not ${value}${LISTED[name] ? ` (the values: ${LISTED[name].join(', ')})` : ''}`;
    });
    throw new ConfigError(problems.join('\n'));
  }
  const e = parsed.data;
  const namespacePerRun = e.UAT_NAMESPACE_PER_RUN === '1' || e.UAT_NAMESPACE_PER_RUN === 'true';
  if (namespacePerRun && e.UAT_NAMESPACE) throw new ConfigError('environment variable UAT_NAMESPACE_PER_RUN: cannot be combined with UAT_NAMESPACE (each run creates financial-mlops-uat-<run id>); unset one of them');
  if (e.UAT_RUNTIME_MANIFESTS && !namespacePerRun) throw new ConfigError('environment variable UAT_RUNTIME_MANIFESTS: applies only to the namespace a run creates; set UAT_NAMESPACE_PER_RUN=1 too');
  if (e.UAT_RUNTIME_MANIFESTS && !fs.existsSync(path.resolve(e.UAT_RUNTIME_MANIFESTS))) throw new ConfigError(`environment variable UAT_RUNTIME_MANIFESTS: ${path.resolve(e.UAT_RUNTIME_MANIFESTS)} does not exist`);
  const reportsDir = path.resolve(e.UAT_REPORTS_DIR);
  let stacks: Stack[] = [...STACKS];
  try {
    if (e.UAT_STACKS !== undefined) stacks = parseStacks(e.UAT_STACKS);
  } catch (error) {
    throw new ConfigError(`environment variable UAT_STACKS: ${(error as Error).message}`);
  }
  const storageMap: [string, string][] = (e.UAT_STORAGE_MAP ?? `gs://financial-mlops-models/=${path.join(reportsDir, 'model-store')}`)
    .split(',')
    .map((pair) => parseStorageMapping(pair) as [string, string]); // the schema's regex already admitted only well-formed pairs
  return {
    target: e.UAT_TARGET,
    seed: e.UAT_SEED,
    mlflowDbUrl: e.MLFLOW_DB_URL,
    chromiumPath: e.CHROMIUM_PATH,
    referenceDir: path.resolve(e.UAT_REFERENCE_DIR),
    keep: e.UAT_KEEP === '1' || e.UAT_KEEP === 'true',
    reportsDir,
    storageMap,
    stackFault: e.UAT_STACK_FAULT,
    mlflowExperiment: e.UAT_MLFLOW_EXPERIMENT,
    prometheusUrl: e.PROMETHEUS_URL?.replace(/\/$/, ''),
    prometheusBin: e.PROMETHEUS_BIN,
    stackUrl: e.UAT_STACK_URL?.replace(/\/$/, ''),
    dashboardPort: e.UAT_DASHBOARD_PORT,
    namespace: e.UAT_NAMESPACE,
    namespacePerRun,
    runtimeManifests: e.UAT_RUNTIME_MANIFESTS ? path.resolve(e.UAT_RUNTIME_MANIFESTS) : undefined,
    kubeContext: e.UAT_KUBE_CONTEXT,
    kubeconfig: e.KUBECONFIG,
    inferenceUrl: e.UAT_INFERENCE_URL?.replace(/\/$/, ''),
    metricsUrl: e.UAT_METRICS_URL?.replace(/\/$/, ''),
    readyDeadlineSeconds: e.UAT_READY_DEADLINE_SECONDS,
    manifests: stacks.map((s) => path.join(PROJECT_ROOT, 'k8s', s)),
    waiversFile: path.resolve(e.UAT_WAIVERS_FILE),
    trainingCache: e.UAT_TRAINING_CACHE ? path.resolve(e.UAT_TRAINING_CACHE) : undefined,
    runId: e.UAT_RUN_ID,
  };
}

/** A URL with its password replaced, for logs and reports. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
