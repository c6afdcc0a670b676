/**
 * The business case of a challenger over its baseline from this run's own data: each predictor's
 * accuracy on held-out days as this release logged it in the MLflow store, the share of the
 * scenario's requests the platform answered as Prometheus counted them, and the stakeholders'
 * assumptions. The inputs are written to the run's reports (business-case.json), so the sign-off
 * recomputes the case with the assumptions as they stand when it is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { PROMQL } from '../metrics/promql.ts';
import { readRunDescription } from '../report/run-description.ts';
import { businessCase, readRoiAssumptions, writeBusinessCaseInputs, type BusinessCaseInputs, type BusinessCaseReport } from '../report/roi.ts';
import type { UatWorld } from '../world.ts';
import { stepInputError } from '../feature-input.ts';
import { caughtUpBaseline, promTotals } from './live-metrics.ts';
import { allResponses } from './traffic.ts';

export interface BusinessState {
  report?: BusinessCaseReport;
}

const FORMULAS = 'support/report/roi.ts: ROI % = (revenue increase - cost) / cost; revenue increase = projected daily requests x answered share x accuracy uplift x value of a correct call x period; payback = cost / daily revenue increase';

/** Measure the inputs, write them to the run's reports and compute the case with `assumptionsFile`. */
export async function computeBusinessCase(world: UatWorld, challenger: string, baseline: string, assumptionsFile: string): Promise<void> {
  const file = path.resolve(PROJECT_ROOT, assumptionsFile);
  if (!fs.existsSync(file)) throw stepInputError(world.step, `no assumptions file "${assumptionsFile}" (a path from the project's folder, such as fixtures/roi-assumptions.yaml)`);
  // the file's own problems are named in the file, field by field
  const assumptions = readRoiAssumptions(file);
  const logged = await world.store.latestAccuracies(world.run.config.mlflowExperiment, world.target.uatRunId);
  const accuracyOf = (model: string): number => {
    const run = logged.find((r) => r.model === model);
    if (!run) throw new Error(`no finished training run of ${model} for this release in the MLflow store (experiment ${world.run.config.mlflowExperiment}); logged: ${logged.map((r) => r.model).join(', ') || 'none'}`);
    return run.accuracy;
  };
  // the scenario's requests, and how many of them Prometheus counted as answered by the two predictors
  const sent = allResponses(world).length;
  if (sent === 0) throw new Error('no request was sent in this scenario: send market snapshots before computing the business case');
  const before = world.counters.prometheusBefore;
  if (!before) throw new Error('the Prometheus baseline was not taken: add "Prometheus is scraping the platform" before sending traffic');
  const answeredByHarness = allResponses(world).filter((r) => r.status === 200).length;
  const counted = async (): Promise<number> => {
    const now = await promTotals(world);
    return [challenger, baseline].reduce((n, m) => n + (now[m] ?? 0) - (before[m] ?? 0), 0);
  };
  // bounded: a Prometheus that never catches up gives what it counted, and the share says so
  const answered = await caughtUpBaseline(counted, async () => answeredByHarness, (prom, harness) => prom >= harness, 15_000);
  const prometheusUrl = world.prometheus.url;
  const runStarted = readRunDescription(world.run.config.reportsDir)?.startedAt;
  const runSeconds = runStarted ? Math.max(1, Math.ceil((Date.now() - Date.parse(runStarted)) / 1000)) : 60;
  const p95 = await world.prometheus.query(PROMQL.p95LatencySeconds(`${runSeconds}s`, { namespace: world.target.namespace }));
  const inRun = await world.prometheus.query(`sum(${PROMQL.requestsTotalByModel({ namespace: world.target.namespace })})`);
  const inputs: BusinessCaseInputs = {
    baseline,
    challenger,
    baselineAccuracy: { value: accuracyOf(baseline), label: `${baseline} accuracy on held-out days`, source: 'LIVE:mlflow-postgres', note: `latest finished run of this release (uat.run_id ${world.target.uatRunId})` },
    challengerAccuracy: { value: accuracyOf(challenger), label: `${challenger} accuracy on held-out days`, source: 'LIVE:mlflow-postgres', note: `latest finished run of this release (uat.run_id ${world.target.uatRunId})` },
    answeredShare: { value: Math.min(1, answered / sent), label: 'share of requests answered', source: 'LIVE:prometheus', note: `${answered} of the ${sent} requests this scenario sent counted as answered (code 200) by ${challenger} and ${baseline}; ${PROMQL.requestsTotalByModel({ namespace: world.target.namespace })} at ${prometheusUrl}` },
    requestsInRun: { value: inRun[0]?.value ?? 0, label: 'requests the platform answered in this run', source: 'LIVE:prometheus', note: `all models, in the ${runSeconds} s since the target was ready; test traffic, not a production volume` },
    p95LatencyMs: p95[0] && Number.isFinite(p95[0].value) ? { value: p95[0].value * 1000, label: `P95 inference latency since the target was ready (${runSeconds} s)`, source: 'LIVE:prometheus' } : null,
    assumptionsFile: path.relative(PROJECT_ROOT, file),
    measuredAt: new Date().toISOString(),
  };
  writeBusinessCaseInputs(world.run.config.reportsDir, inputs);
  const result = businessCase(inputs.baselineAccuracy.value, inputs.challengerAccuracy.value, inputs.answeredShare.value, assumptions);
  world.business.report = { inputs, assumptions, assumptionsFile: inputs.assumptionsFile, result };
  await world.attach(JSON.stringify(world.business.report, null, 2), { mediaType: 'application/json', fileName: 'business-case.json' });
}

const computed = (world: UatWorld): BusinessCaseReport => {
  if (!world.business.report) throw new Error('no business case was computed in this scenario');
  return world.business.report;
};

const basis = (r: BusinessCaseReport): Record<string, unknown> => ({ inputs: r.inputs, assumptions: r.assumptions, assumptionsFile: r.assumptionsFile, result: r.result, formulas: FORMULAS });

/** The ROI and the payback against the feature's bounds, both recorded whichever fails. */
export async function checkReturnAndPayback(world: UatWorld, percent: number, days: number): Promise<void> {
  const r = computed(world);
  const inputs = `accuracies from the MLflow store (${(r.inputs.baselineAccuracy.value * 100).toFixed(1)} % -> ${(r.inputs.challengerAccuracy.value * 100).toFixed(1)} %), answered share from Prometheus (${(r.inputs.answeredShare.value * 100).toFixed(1)} %), assumptions from ${r.assumptionsFile}`;
  await world.checkAll([
    {
      id: 'business-case-roi',
      statement: `the return on investment of ${r.inputs.challenger} over ${r.inputs.baseline} is at least ${percent} % over ${r.assumptions.period_days} days`,
      threshold: `ROI >= ${percent} %`,
      measured: Number(r.result.roiPercent.toFixed(1)),
      unit: '%',
      source: 'LIVE:mlflow-postgres',
      test: inputs,
      passed: r.result.roiPercent >= percent,
      details: basis(r),
    },
    {
      id: 'business-case-payback',
      statement: `the cost of ${r.inputs.challenger} is paid back within ${days} days`,
      threshold: `payback <= ${days} days`,
      measured: r.result.paybackDays === null ? 'never (no revenue increase)' : Number(r.result.paybackDays.toFixed(1)),
      unit: 'days',
      source: 'LIVE:mlflow-postgres',
      test: `cost ${r.result.cost.toFixed(0)} ${r.assumptions.currency} over ${r.assumptions.period_days} days from ${r.assumptionsFile}, divided by the daily revenue increase; ${inputs}`,
      passed: r.result.paybackDays !== null && r.result.paybackDays <= days,
      details: basis(r),
    },
  ]);
}
