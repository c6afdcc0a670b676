/**
 * The security category's access and secret checks:
 *
 * - every manifest under k8s/ against the static policy (support/security/policy.ts);
 * - the access matrix of the feature, asked of the target's Kubernetes API server cell by cell
 *   (SubjectAccessReview), and each cell's real request made with the subject's own token
 *   (TokenRequest): 403 where denied, let through where allowed;
 * - the MLflow database's authentication (SCRAM-SHA-256, never a password in clear);
 * - the run's credentials looked for in every file under the run's reports and in every process's
 *   command line, now and once more after the last scenario (support/hooks.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseAllDocuments, stringify } from 'yaml';
import { PROJECT_ROOT, stackFaults } from '../config.ts';
import { attachToAllureResult } from '../report/allure-evidence.ts';
import { appendCriterion, type Criterion, type CriterionInput } from '../evidence/ledger.ts';
import { cellsFromRows, describeCell, evaluateMatrix, kubeConfigWithToken, matrixDifferences, preferredVersions, requestCell, serviceAccountToken, type AccessCell } from '../security/access-matrix.ts';
import type { KubernetesApi } from '../security/kubernetes-api.ts';
import { checkPolicies, formatViolation, RULES, type PolicyReport } from '../security/policy.ts';
import { describeHit, registerSecret, runSecrets, scanForSecrets } from '../security/secret-scan.ts';
import type { RunContext, UatWorld } from '../world.ts';
import { HarnessInputError } from '../harness-input.ts';

export interface AccessState {
  api: KubernetesApi;
  cells: AccessCell[];
}

export interface PolicyState {
  /** The folder checked, relative to the project when inside it. */
  root: string;
  report: PolicyReport;
  /** Each violation as a line naming file, object, field and rule. */
  violations?: string[];
}

const K8S_DIR = path.join(PROJECT_ROOT, 'k8s');

/**
 * The manifests as the platform ships them. With the meta tests' fault `manifests-literal-password`
 * a copy of k8s/ in a private temporary folder, in which the bandit controller's Prometheus token is
 * written as a literal value instead of a secretKeyRef.
 */
function shippedManifests(world: UatWorld): { root: string; cleanup: () => void } {
  if (!stackFaults(world.run.config).includes('manifests-literal-password')) return { root: K8S_DIR, cleanup: () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-manifests-'));
  const root = path.join(dir, 'k8s');
  fs.cpSync(K8S_DIR, root, { recursive: true });
  const file = path.join(root, 'security', 'deployment-bandit-controller.yaml');
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as { spec: { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } });
  const env = docs[0].spec.template.spec.containers[0].env;
  const token = env.find((e) => e.name === 'PROMETHEUS_TOKEN')!;
  delete token.valueFrom;
  token.value = `seeded-${Math.random().toString(36).slice(2, 12)}`;
  fs.writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  return { root, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Read every manifest the platform ships and check it against the policy; the report is kept for the Then. */
export function checkManifestPolicy(world: UatWorld): void {
  const manifests = shippedManifests(world);
  try {
    world.security.policy = { root: path.relative(PROJECT_ROOT, manifests.root) || manifests.root, report: checkPolicies(manifests.root) };
    world.security.policy.violations = world.security.policy.report.violations.map((v) => formatViolation(v, manifests.root));
  } finally {
    manifests.cleanup();
  }
}

export async function checkPolicyViolations(world: UatWorld): Promise<void> {
  const policy = world.security.policy;
  if (!policy) throw new Error('the manifests were not checked in this scenario');
  const { report, violations = [] } = policy;
  await world.check({
    id: 'manifests-follow-security-policy',
    statement: `every manifest under k8s/ follows the security policy (${Object.keys(RULES).join(', ')})`,
    threshold: '0 violations',
    measured: report.violations.length,
    unit: `violations in ${report.objects.length} objects of ${report.files.length} files`,
    source: 'LIVE:manifests',
    passed: report.violations.length === 0 && report.objects.length > 0,
    details: {
      root: policy.root,
      files: report.files.length,
      objects: report.objects.length,
      rulesApplied: [...new Set(report.objects.flatMap((o) => o.rules))],
      violations: violations.slice(0, 50),
      notKubernetesObjects: report.skipped.map((s) => `${path.relative(PROJECT_ROOT, s.file)} document ${s.document}: ${s.reason}`),
    },
  });
}

/** The target's API server, the platform's identities on it, and the matrix the feature declares. */
export async function useAccessMatrix(world: UatWorld, rows: Record<string, string>[]): Promise<void> {
  // the declared matrix first: a cell the feature got wrong is named at its line, whatever the target
  const step = world.step;
  const where = step ? `${step.uri}:${step.line}: the access matrix of step "${step.text}"` : `the access matrix of "${world.scenario.name}" (${world.scenario.feature})`;
  let cells;
  try {
    cells = cellsFromRows(rows, where, step?.tableLines.slice(1));
  } catch (error) {
    // its problems name the table, the row's line, the column and the value: no stack trace
    if (error instanceof Error && error.message.startsWith(where)) throw new HarnessInputError(error.message);
    throw error;
  }
  const target = world.target;
  const api = await target.kubernetesApi();
  if ('problem' in api) throw new Error(`no Kubernetes API server to prove the access matrix on: ${api.problem}`);
  world.security.access = { api, cells };
}

function requireAccess(world: UatWorld): AccessState {
  if (!world.security.access) throw new Error('no access matrix was given in this scenario');
  return world.security.access;
}

/** Both answers of every line: the access review's and the real request's; both criteria recorded before the step fails. */
export async function checkAccessMatrix(world: UatWorld): Promise<void> {
  await world.checkAll([await matrixAnswers(world), await tokenAnswers(world)]);
}

async function matrixAnswers(world: UatWorld): Promise<CriterionInput> {
  const { api, cells } = requireAccess(world);
  const evaluated = await evaluateMatrix(api.kc, cells);
  const differences = matrixDifferences(evaluated);
  return {
    id: 'access-matrix-as-declared',
    statement: "the Kubernetes API server's answer (SubjectAccessReview) to every line of the access matrix is the declared one",
    threshold: `0 of ${cells.length} lines differ`,
    measured: differences.length,
    unit: `lines differing of ${cells.length}`,
    source: 'LIVE:kube-apiserver',
    passed: differences.length === 0 && evaluated.length === cells.length,
    details: {
      server: api.server,
      installedBy: api.installedBy,
      lines: cells.length,
      allowed: evaluated.filter((c) => c.actual === 'allowed').length,
      denied: evaluated.filter((c) => c.actual === 'denied').length,
      differences,
      answers: evaluated.map((c) => `${describeCell(c)}: ${c.actual}${c.reason ? ` (${c.reason})` : ''}`),
    },
  };
}

async function tokenAnswers(world: UatWorld): Promise<CriterionInput> {
  const { api, cells } = requireAccess(world);
  const versions = await preferredVersions(api.kc);
  const outcomes = [];
  for (const subject of [...new Set(cells.map((c) => c.subject))]) {
    const token = await serviceAccountToken(api.kc, subject);
    registerSecret(`the token of ServiceAccount ${subject}`, token);
    const as = kubeConfigWithToken(api.kc, token, subject.replace('/', '-'));
    for (const cell of cells.filter((c) => c.subject === subject)) outcomes.push(await requestCell(as, cell, versions));
  }
  const wrong = outcomes.filter((o) => (o.cell.expected === 'denied' ? o.status !== 403 : o.outcome !== 'authorised'));
  const denied = outcomes.filter((o) => o.cell.expected === 'denied');
  const allowed = outcomes.filter((o) => o.cell.expected === 'allowed');
  return {
    id: 'identity-tokens-refused-where-denied',
    statement: "each platform identity's own token (TokenRequest) is refused with HTTP 403 on every request the matrix denies it, across namespaces and for Secrets, and let through on every request it allows",
    threshold: `${denied.length} denied requests answered 403, ${allowed.length} allowed requests neither 401 nor 403`,
    measured: `${denied.filter((o) => o.status === 403).length} answered 403, ${allowed.filter((o) => o.outcome === 'authorised').length} let through`,
    unit: 'requests',
    source: 'LIVE:kube-apiserver',
    passed: wrong.length === 0 && outcomes.length === cells.length,
    details: {
      server: api.server,
      // the counts as numbers, for whoever reads the ledger (the dashboard's security view)
      denied: denied.length,
      deniedAnswered403: denied.filter((o) => o.status === 403).length,
      allowed: allowed.length,
      allowedLetThrough: allowed.filter((o) => o.outcome === 'authorised').length,
      wrong: wrong.map((o) => `${describeCell(o.cell)}: expected ${o.cell.expected}, ${o.request} answered ${o.status}`),
      requests: outcomes.map((o) => `${describeCell(o.cell)}: ${o.request} -> ${o.status}`),
    },
  };
}

/** How the server asked the client to authenticate, seen on a fresh connection (not a setting that might not apply). */
async function authenticationAsked(url: string): Promise<{ asked: string[]; encryption: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  const asked: string[] = [];
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  connection.on('authenticationCleartextPassword', () => asked.push('cleartext password'));
  connection.on('authenticationMD5Password', () => asked.push('MD5'));
  connection.on('authenticationSASL', (msg: { mechanisms: string[] }) => asked.push(`SASL ${msg.mechanisms.join(' ')}`));
  await client.connect();
  try {
    const { rows } = await client.query<{ password_encryption: string }>('SHOW password_encryption');
    return { asked, encryption: rows[0].password_encryption };
  } finally {
    await client.end();
  }
}

export async function checkDatabaseAuthentication(world: UatWorld): Promise<void> {
  const target = world.target;
  const url = target.databaseUrl();
  if (!url) throw new Error(`no MLflow database in this run: ${'problem' in target.database ? target.database.problem : 'no store'}`);
  const { asked, encryption } = await authenticationAsked(url);
  const scram = asked.length === 1 && /^SASL .*\bSCRAM-SHA-256\b/.test(asked[0]);
  await world.check({
    id: 'database-authenticates-with-scram',
    statement: 'the MLflow database asks a client for SCRAM-SHA-256 authentication, never for a password in clear or an MD5 hash, and stores passwords as SCRAM verifiers',
    threshold: 'asked for SASL SCRAM-SHA-256; password_encryption scram-sha-256',
    measured: `asked for ${asked.join(', ') || 'nothing (trust)'}; password_encryption ${encryption}`,
    unit: '',
    source: 'LIVE:mlflow-postgres',
    passed: scram && encryption === 'scram-sha-256',
    details: { asked, passwordEncryption: encryption, database: 'maskedUrl' in target.database ? target.database.maskedUrl : undefined, source: 'source' in target.database ? target.database.source : undefined },
  });
}

function scanCriterion(context: Pick<RunContext, 'config'>, id: string, when: string): CriterionInput {
  const scan = scanForSecrets(context.config.reportsDir);
  return {
    id,
    statement: `${when} no file under the run's reports (Allure results and attachments, logs, evidence, screenshots, traces) and no process's command line holds a credential of the run`,
    threshold: '0 hits',
    measured: scan.hits.length,
    unit: `hits in ${scan.files} files (${(scan.bytes / 1e6).toFixed(1)} MB) and ${scan.processes} command lines`,
    source: 'LIVE:file-scan',
    passed: scan.hits.length === 0 && scan.secrets.length > 0 && scan.files > 0,
    details: { reports: context.config.reportsDir, files: scan.files, bytes: scan.bytes, processes: scan.processes, credentialsLookedFor: scan.secrets, hits: scan.hits.map(describeHit) },
  };
}

export async function checkNoCredentialInOutput(world: UatWorld): Promise<void> {
  if (runSecrets().length === 0) throw new Error('no credential of the run is known to look for (the target registered none)');
  world.run.secretScanBy = { ...world.scenario };
  await world.check(scanCriterion(world.run, 'no-credential-in-run-output', 'while the run goes on,'));
}

/** After the last scenario: the same scan on everything the run wrote, recorded under the scenario that asked for it. */
export function rescanAtEnd(context: RunContext): Criterion | undefined {
  const by = context.secretScanBy;
  if (!by) return undefined;
  const criterion: Criterion = {
    ...scanCriterion(context, 'no-credential-in-run-output-at-end', 'after the last scenario,'),
    category: by.category,
    feature: by.feature,
    scenario: by.name,
    severity: by.severity,
    runId: context.target?.uatRunId ?? 'no-target',
    recordedAt: new Date().toISOString(),
  };
  appendCriterion(context.config.reportsDir, criterion);
  attachToAllureResult(context.config.reportsDir, criterion);
  return criterion;
}
