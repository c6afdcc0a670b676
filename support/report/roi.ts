/**
 * The business case of a challenger predictor over the baseline it would replace: measured inputs
 * (each predictor's accuracy on held-out days from the MLflow store, the share of requests the
 * platform answered in this run from Prometheus) combined with the stakeholders' assumptions
 * (fixtures/roi-assumptions.yaml). Every output keeps the formula and the inputs it came from.
 *
 *   uplift (pp)              = (accuracy_challenger - accuracy_baseline) x 100
 *   uplift (relative)        = (accuracy_challenger - accuracy_baseline) / accuracy_baseline
 *   extra correct calls/day  = projected_daily_requests x answered share x (accuracy_challenger - accuracy_baseline)
 *   revenue increase         = extra correct calls/day x value_per_correct_prediction x period_days
 *   cost                     = infrastructure_cost_per_year x period_days / 365 + engineering_cost
 *   ROI %                    = (revenue increase - cost) / cost x 100
 *   payback days             = cost / (revenue increase / period_days), none when the increase is not positive
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../config.ts';
import { describeIssues, HarnessInputError, projectFile, yamlDocuments } from '../harness-input.ts';

export const ROI_ASSUMPTIONS_FILE = path.join(PROJECT_ROOT, 'fixtures', 'roi-assumptions.yaml');

const assumptionsSchema = z
  .object({
    currency: z.string().min(1),
    value_per_correct_prediction: z.number().nonnegative(),
    projected_daily_requests: z.number().int().positive(),
    infrastructure_cost_per_year: z.number().nonnegative(),
    engineering_cost: z.number().nonnegative(),
    period_days: z.number().int().positive(),
    extra_cost_per_1000_requests: z.number().nonnegative(),
  })
  .strict()
  .refine((a) => a.infrastructure_cost_per_year + a.engineering_cost > 0, { message: 'the cost (infrastructure_cost_per_year plus engineering_cost) must be above 0 for an ROI', path: ['engineering_cost'] });

export type RoiAssumptions = z.infer<typeof assumptionsSchema>;

/** The assumptions file, validated: an error names the file, each field at fault, its line and its value. */
export function readRoiAssumptions(file = ROI_ASSUMPTIONS_FILE): RoiAssumptions {
  const where = projectFile(file);
  if (!fs.existsSync(file)) throw new HarnessInputError(`${where}: no such file (the assumptions of the business case)`);
  const [document] = yamlDocuments(fs.readFileSync(file, 'utf8'), file);
  const raw = document?.value ?? null;
  const parsed = assumptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, raw, { known: Object.keys(assumptionsSchema.shape), line: document?.lineOf });
    throw new HarnessInputError(problems.map((p) => `${where}: ${p}`).join('\n'));
  }
  return parsed.data;
}

/** A measured input: its value, what it is and where it was read. */
export interface MeasuredInput {
  value: number;
  label: string;
  source: string;
  note?: string;
}

/** What a run measured for the business case (written by the business-case step, read by the sign-off). */
export interface BusinessCaseInputs {
  baseline: string;
  challenger: string;
  baselineAccuracy: MeasuredInput;
  challengerAccuracy: MeasuredInput;
  /** Share of the requests the platform answered (2xx) in this run. */
  answeredShare: MeasuredInput;
  /** Context, not in the formulas: the requests the run sent through the platform, and their latency. */
  requestsInRun: MeasuredInput;
  p95LatencyMs: MeasuredInput | null;
  /** The assumptions file the scenario named (relative to the project). */
  assumptionsFile: string;
  measuredAt: string;
}

export interface BusinessCase {
  upliftPoints: number;
  upliftRelative: number;
  extraCorrectPerDay: number;
  revenueIncrease: number;
  cost: number;
  roiPercent: number;
  /** null: the increase is not positive, so the cost is never paid back. */
  paybackDays: number | null;
}

/** The formulas in the header, on plain numbers. */
export function businessCase(accuracyBaseline: number, accuracyChallenger: number, answeredShare: number, a: RoiAssumptions): BusinessCase {
  const gain = accuracyChallenger - accuracyBaseline;
  const extraCorrectPerDay = a.projected_daily_requests * answeredShare * gain;
  const revenueIncrease = extraCorrectPerDay * a.value_per_correct_prediction * a.period_days;
  const cost = (a.infrastructure_cost_per_year * a.period_days) / 365 + a.engineering_cost;
  return {
    upliftPoints: gain * 100,
    upliftRelative: gain / accuracyBaseline,
    extraCorrectPerDay,
    revenueIncrease,
    cost,
    roiPercent: ((revenueIncrease - cost) / cost) * 100,
    paybackDays: revenueIncrease > 0 ? cost / (revenueIncrease / a.period_days) : null,
  };
}

export const BUSINESS_CASE_FILE = 'business-case.json';

export function writeBusinessCaseInputs(reportsDir: string, inputs: BusinessCaseInputs): void {
  fs.mkdirSync(reportsDir, { recursive: true });
  fs.writeFileSync(path.join(reportsDir, BUSINESS_CASE_FILE), JSON.stringify(inputs, null, 2));
}

export function readBusinessCaseInputs(reportsDir: string): BusinessCaseInputs | undefined {
  const file = path.join(reportsDir, BUSINESS_CASE_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as BusinessCaseInputs) : undefined;
}

/** The business case as the sign-off shows it: computed now from the run's inputs and the assumptions as they stand. */
export interface BusinessCaseReport {
  inputs: BusinessCaseInputs;
  assumptions: RoiAssumptions;
  assumptionsFile: string;
  result: BusinessCase;
}

/** The business case of a run folder, or why there is none. */
export function businessCaseOf(reportsDir: string): BusinessCaseReport | { problem: string } {
  const inputs = readBusinessCaseInputs(reportsDir);
  if (!inputs) return { problem: 'not computed: no scenario of this run measured the business case (features/functional/business-case.feature)' };
  const assumptionsFile = path.resolve(PROJECT_ROOT, inputs.assumptionsFile);
  let assumptions: RoiAssumptions;
  try {
    assumptions = readRoiAssumptions(assumptionsFile);
  } catch (error) {
    return { problem: `not computed: ${(error as Error).message}` };
  }
  const result = businessCase(inputs.baselineAccuracy.value, inputs.challengerAccuracy.value, inputs.answeredShare.value, assumptions);
  return { inputs, assumptions, assumptionsFile: path.relative(PROJECT_ROOT, assumptionsFile), result };
}
