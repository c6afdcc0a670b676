/**
 * What this run ran against: target, seed, database source, versions. Written to
 * reports/run.json (read by the sign-off) and to the Allure environment.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, type HarnessConfig } from '../config.ts';
import type { RunningTarget } from '../targets/target.ts';

export interface RunDescription {
  runId: string;
  /** RELEASE_ID, or `git describe --tags --always --dirty` of the checkout. */
  release?: string;
  /** The checkout's commit (`git rev-parse HEAD`). */
  commit?: string;
  startedAt: string;
  target: string;
  seed: number;
  databaseSource: string;
  databaseServer: string;
  databaseUrl: string;
  databaseSkipped: string[];
  databaseProblem: string | null;
  prometheus: string;
  dashboardUrl: string;
  stackUrl: string;
  /** What served the stack: the embedded stack's address, or the API server, namespace and seldon-mesh address. */
  servedBy: string;
  /** Kubernetes target: why it is not a Seldon cluster (no pod serves in the namespace), or absent. */
  notACluster?: string | null;
  stackFault: string | null;
  /** The stacks (k8s/ folders) this run deployed: those its scenarios need (UAT_STACKS). */
  stacks?: string[];
  targetError: string | null;
  versions: Record<string, string>;
}

export const ALLURE_RESULTS = 'allure-results';

function packageVersion(name: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'not installed';
  }
}

function git(args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The release under test and its commit, as the sign-off names them. */
export function releaseOfCheckout(env: NodeJS.ProcessEnv = process.env): { release: string; commit: string } {
  const commit = git(['rev-parse', 'HEAD']) ?? 'unknown (not a git checkout)';
  const release = env.RELEASE_ID?.trim() || git(['describe', '--tags', '--always', '--dirty']) || 'unknown (set RELEASE_ID)';
  return { release, commit };
}

export function runDescriptionFile(reportsDir: string): string {
  return path.join(reportsDir, 'run.json');
}

export function readRunDescription(reportsDir: string): RunDescription | undefined {
  const file = runDescriptionFile(reportsDir);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as RunDescription) : undefined;
}

export function writeRunDescription(config: HarnessConfig, target: RunningTarget | undefined, targetError: Error | undefined): RunDescription {
  const db = target?.database;
  const description: RunDescription = {
    runId: target?.uatRunId ?? 'target-not-started',
    ...releaseOfCheckout(),
    startedAt: new Date().toISOString(),
    target: config.target,
    seed: config.seed,
    databaseSource: db && 'source' in db ? db.source : 'none',
    databaseServer: db && 'source' in db ? db.serverVersion : 'none',
    databaseUrl: db && 'source' in db ? db.maskedUrl : 'none',
    databaseSkipped: db && 'source' in db ? db.skipped : [],
    databaseProblem: db && 'problem' in db ? db.problem : null,
    prometheus: !target ? 'none' : 'url' in target.prometheus ? `${target.prometheus.url} (${target.prometheus.source}, ${target.prometheus.version})` : `unavailable: ${target.prometheus.problem}`,
    dashboardUrl: target?.dashboardUrl ?? 'none',
    stackUrl: target?.inferenceUrl ?? 'none',
    servedBy: target?.servedBy ?? 'none',
    notACluster: target?.notACluster ?? null,
    stackFault: target?.stackFault ?? null,
    stacks: config.manifests.map((m) => path.basename(m)),
    targetError: targetError?.message ?? null,
    versions: {
      node: process.version,
      '@cucumber/cucumber': packageVersion('@cucumber/cucumber'),
      'allure-cucumberjs': packageVersion('allure-cucumberjs'),
      'playwright-core': packageVersion('playwright-core'),
      'prom-client': packageVersion('prom-client'),
      echarts: packageVersion('echarts'),
      'financial-mlops-uat': JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version as string,
    },
  };
  fs.mkdirSync(config.reportsDir, { recursive: true });
  fs.writeFileSync(runDescriptionFile(config.reportsDir), JSON.stringify(description, null, 2));
  const resultsDir = path.join(config.reportsDir, ALLURE_RESULTS);
  fs.mkdirSync(resultsDir, { recursive: true });
  const properties: Record<string, string> = {
    'uat.target': description.target,
    'uat.seed': String(description.seed),
    'uat.run_id': description.runId,
    'release.id': description.release ?? 'unknown',
    'release.commit': description.commit ?? 'unknown',
    'database.source': description.databaseSource,
    'database.server': description.databaseServer,
    'database.url': description.databaseUrl,
    'stack.url': description.stackUrl,
    'stack.served_by': description.servedBy,
    'stack.deployed': (description.stacks ?? []).join(', '),
    prometheus: description.prometheus,
    'dashboard.url': description.dashboardUrl,
    ...(description.databaseProblem ? { 'database.problem': description.databaseProblem } : {}),
    ...(description.stackFault ? { 'stack.fault_injected': description.stackFault } : {}),
    ...Object.fromEntries(Object.entries(description.versions).map(([k, v]) => [`version.${k}`, v])),
  };
  fs.writeFileSync(
    path.join(resultsDir, 'environment.properties'),
    Object.entries(properties).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\').replace(/\n/g, ' ')}`).join('\n') + '\n',
  );
  return description;
}
