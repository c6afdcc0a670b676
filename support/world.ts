/**
 * The typed World of one scenario. Run-wide things (config, the running target, the browser) come
 * from the run context filled in BeforeAll; scenario data lives here and dies with the scenario.
 */
import { setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import type { Browser } from 'playwright-core';
import type { HarnessConfig } from './config.ts';
import { MetricsReader, type MetricsSnapshot } from './clients/metrics-reader.ts';
import { OipClient, type OipResponse } from './clients/oip-client.ts';
import type { DashboardPage } from './browser/dashboard-page.ts';
import { launchChromium } from './browser/chromium.ts';
import { appendCriterion, CATEGORIES, CriterionFailed, type Category, type Criterion, type CriterionInput } from './evidence/ledger.ts';
import type { LoadSummary } from './load/builtin-engine.ts';
import type { DeployedStack, RunningTarget } from './targets/target.ts';
import type { LoggedAccuracy, MlflowStore } from './clients/mlflow-store.ts';
import { PrometheusClient } from './clients/prometheus-client.ts';
import type { ResourceStatusClient } from './clients/resource-status-client.ts';
import type { ServedAccuracy } from './tasks/mlflow-serving.ts';
import type { RefusalAccounting } from './tasks/bad-input.ts';
import type { AccessState, PolicyState } from './tasks/access-control.ts';
import type { DrillState, StoreSnapshot } from './tasks/fault-drills.ts';
import type { BanditState } from './tasks/bandit.ts';
import type { RouterState } from './tasks/router.ts';
import type { ExplainState } from './tasks/explain.ts';
import type { DriftState } from './tasks/drift.ts';
import type { ReceivedAlert } from './targets/webhook-receiver.ts';
import type { AuditStore } from '../audit/store.ts';
import type { StepSource } from './feature-input.ts';
import { HarnessInputError } from './harness-input.ts';

export interface RunContext {
  config: HarnessConfig;
  target?: RunningTarget;
  /** Why the target could not start, when it could not. */
  targetError?: Error;
  browser?: Promise<Browser>;
  log: (line: string) => void;
  /**
   * Measurements several scenarios of the run rest on and that cost too much to repeat per scenario
   * (the bandit's seeded replays, keyed by what was replayed); each scenario that reuses one says so.
   */
  shared?: Map<string, unknown>;
  /** The scenario that scanned the run's output for credentials: the scan is made again, on everything, once the last scenario has ended. */
  secretScanBy?: ScenarioInfo;
}

let runContext: RunContext | undefined;

export function setRunContext(context: RunContext | undefined): void {
  runContext = context;
}

export function getRunContext(): RunContext {
  if (!runContext) throw new Error('the run context is not set: BeforeAll did not run');
  return runContext;
}

export interface ScenarioInfo {
  name: string;
  feature: string;
  category: Category | 'uncategorised';
  severity: string;
  tags: string[];
}

export interface TrafficRecord {
  target: string;
  responses: OipResponse[];
}

/** What this scenario sent to the platform. */
export interface TrafficState {
  sent: TrafficRecord[];
  /** The last single response (the bad-input and direct-routing scenarios). */
  last?: OipResponse;
  /** The load profile's summary (k6 or the built-in engine). */
  load?: LoadSummary;
}

/** The experiment split under test. */
export interface SplitState {
  declaredWeights?: Record<string, number>;
  /** The split criterion's margin (a share), and once traffic is planned: alpha, power, requests. */
  plan?: { margin: number; alpha?: number; power?: number; requests?: number; target?: string };
}

/** Counter baselines taken before the scenario's traffic, and Prometheus's part in it. */
export interface CounterState {
  /** The platform's own /metrics before the traffic. */
  before?: MetricsSnapshot;
  /** PromQL request totals per model before this scenario's traffic. */
  prometheusBefore?: Record<string, number>;
  /** Requests per model Prometheus counted for this scenario's traffic. */
  prometheusCounted?: Record<string, number>;
  prometheusStoppedAt?: number;
}

export interface MlflowState {
  loggedRuns?: LoggedAccuracy[];
  servedAccuracies?: ServedAccuracy[];
}

export interface SecurityState {
  /** Malformed requests this scenario sent, with the counters' baselines. */
  refusals?: RefusalAccounting;
  /** The API server the access matrix is proven on, and the matrix this scenario declared. */
  access?: AccessState;
  /** The static policy's report on the manifests this scenario checked. */
  policy?: PolicyState;
  /** The part a fault drill killed in this scenario. */
  drill?: DrillState;
  /** What the MLflow store held before a database drill. */
  storeBefore?: StoreSnapshot;
}

export interface DeploymentState {
  /** A manifest folder this scenario deployed on its own (torn down after the scenario). */
  stack?: DeployedStack;
}

export type { BanditState } from './tasks/bandit.ts';
import type { BusinessState } from './tasks/business-case.ts';


export interface UiState {
  dashboard?: DashboardPage;
}

export class UatWorld extends World {
  readonly run: RunContext = getRunContext();
  scenario: ScenarioInfo = { name: '', feature: '', category: 'uncategorised', severity: 'normal', tags: [] };
  /** Where the running step is in its feature file (set before each step): errors in the feature's own input name it. */
  step?: StepSource;
  // Scenario state, one small part per capability; each dies with the scenario.
  readonly traffic: TrafficState = { sent: [] };
  readonly split: SplitState = {};
  readonly counters: CounterState = {};
  readonly mlflow: MlflowState = {};
  readonly security: SecurityState = {};
  readonly deployment: DeploymentState = {};
  readonly ui: UiState = {};
  readonly bandit: BanditState = {};
  readonly router: RouterState = {};
  readonly explain: ExplainState = {};
  readonly drift: DriftState = {};
  readonly business: BusinessState = {};

  constructor(options: IWorldOptions) {
    super(options);
  }

  /** The running target; fails the step with the start-up cause when it could not start. */
  get target(): RunningTarget {
    if (this.run.target) return this.run.target;
    const why = `the ${this.run.config.target} target is not running: ${this.run.targetError?.message ?? 'unknown cause'}`;
    // a manifest (or other input) the harness could not use: the file and the field, no stack trace
    throw this.run.targetError instanceof HarnessInputError ? new HarnessInputError(why) : new Error(why);
  }

  /** The MLflow store; fails the step naming why it is unavailable (e.g. PostgreSQL unreachable). */
  get store(): MlflowStore {
    const target = this.target;
    if (target.store) return target.store;
    throw new Error(`the MLflow store is unavailable: ${'problem' in target.database ? target.database.problem : 'no store configured'}`);
  }

  /** Prometheus's client; fails the step naming why there is no Prometheus. */
  get prometheus(): PrometheusClient {
    const { prometheus } = this.target;
    this.target.requireRunning('prometheus');
    if ('url' in prometheus) return new PrometheusClient(prometheus.url);
    throw new Error(`Prometheus is unavailable: ${prometheus.problem}`);
  }

  /** The explanation gateway (audit/) and the audit trail it writes; fails the step naming why there is none. */
  get explanations(): { url: string; audit: AuditStore; databaseUrl: string } {
    const explanations = this.target.explanations;
    this.target.requireRunning('explanation gateway');
    if ('url' in explanations) return explanations;
    throw new Error(`the explanation gateway is unavailable: ${explanations.problem}`);
  }

  /** The drift monitor (monitor/) and the alerts the harness's receiver got from it; fails the step naming why there is none. */
  get driftMonitor(): { url: string; alerts: () => ReceivedAlert[]; pipeline: string; retrainModel: string } {
    const monitor = this.target.driftMonitor;
    this.target.requireRunning('drift monitor');
    if ('url' in monitor) return monitor;
    throw new Error(`the drift monitor is unavailable: ${monitor.problem}`);
  }

  get oip(): OipClient {
    this.target.requireRunning('stack');
    return new OipClient(this.target.inferenceUrl);
  }

  /** The resources' status (conditions), read the same way from the embedded stack and a cluster. */
  get status(): ResourceStatusClient {
    this.target.requireRunning('stack');
    return this.target.status;
  }

  get metrics(): MetricsReader {
    this.target.requireRunning('stack');
    return new MetricsReader(this.target.metricsUrl);
  }

  /** The live dashboard's URL; fails the step with the cause when the dashboard died. */
  get dashboardUrl(): string {
    this.target.requireRunning('dashboard');
    return this.target.dashboardUrl;
  }

  async browser(): Promise<Browser> {
    this.run.browser ??= launchChromium(this.run.config.chromiumPath);
    return this.run.browser;
  }

  setScenario(name: string, feature: string, tags: string[]): void {
    const category = CATEGORIES.find((c) => tags.includes(`@${c}`)) ?? 'uncategorised';
    const severity = tags.find((t) => t.startsWith('@severity:'))?.slice('@severity:'.length) ?? 'normal';
    this.scenario = { name, feature, category, severity, tags };
  }

  /**
   * Record an acceptance criterion in the evidence ledger, attach it to the report, then fail the
   * step when it did not pass.
   */
  async check(input: CriterionInput): Promise<void> {
    await this.checkAll([input]);
  }

  /** Several criteria of one step: each recorded and attached, then the step fails on the first that did not pass. */
  async checkAll(inputs: CriterionInput[]): Promise<void> {
    for (const input of inputs) await this.record(input);
    const failed = inputs.find((input) => !input.passed);
    if (failed) throw new CriterionFailed(failed);
  }

  private async record(input: CriterionInput): Promise<void> {
    const criterion: Criterion = {
      ...input,
      category: this.scenario.category,
      feature: this.scenario.feature,
      scenario: this.scenario.name,
      severity: this.scenario.severity,
      runId: this.run.target?.uatRunId ?? 'no-target',
      recordedAt: new Date().toISOString(),
    };
    appendCriterion(this.run.config.reportsDir, criterion);
    await this.attach(JSON.stringify(criterion, null, 2), { mediaType: 'application/json', fileName: `evidence-${input.id}.json` });
  }
}

setWorldConstructor(UatWorld);
