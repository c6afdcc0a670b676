/**
 * Load profiles as data (`scenarios/<name>.yaml`): one k6 scenario (`executor` and its options, as
 * k6's `options.scenarios.<name>` takes them) and k6 thresholds. The same profile runs in k6
 * (scenarios/load-test.ts reads it from the environment) and in the built-in engine; a feature's
 * Gherkin may set its numbers (rate, duration, VUs) and its thresholds for one run.
 *
 *   executor: constant-arrival-rate | ramping-arrival-rate | constant-vus | ramping-vus | shared-iterations
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../config.ts';
import { HarnessInputError, yamlFile } from '../harness-input.ts';

export const SCENARIOS_DIR = path.join(PROJECT_ROOT, 'scenarios');

/** A k6 duration ('30s', '1m30s', '500ms', '2h') in milliseconds; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}

const duration = z.string().refine((v) => durationMs(v) !== undefined, "must be a k6 duration such as '30s', '1m30s' or '500ms'");
const count = z.number().int().positive();
const stages = z.array(z.object({ duration, target: z.number().int().nonnegative() }).strict()).min(1);
const gracefulStop = duration.default('5s');

const scenario = z.discriminatedUnion('executor', [
  z.object({ executor: z.literal('constant-arrival-rate'), rate: count, timeUnit: duration.default('1s'), duration, preAllocatedVUs: count, maxVUs: count.optional(), gracefulStop }).strict(),
  z.object({ executor: z.literal('ramping-arrival-rate'), startRate: z.number().int().nonnegative().default(0), timeUnit: duration.default('1s'), stages, preAllocatedVUs: count, maxVUs: count.optional(), gracefulStop }).strict(),
  z.object({ executor: z.literal('constant-vus'), vus: count, duration, gracefulStop }).strict(),
  z.object({ executor: z.literal('ramping-vus'), startVUs: z.number().int().nonnegative().default(1), stages, gracefulRampDown: duration.default('5s'), gracefulStop }).strict(),
  z.object({ executor: z.literal('shared-iterations'), vus: count, iterations: count, maxDuration: duration.default('10m'), gracefulStop }).strict(),
]);

const threshold = z.union([z.string().min(1), z.object({ threshold: z.string().min(1), abortOnFail: z.boolean().optional(), delayAbortEval: duration.optional() }).strict()]);

const profileSchema = z.object({
  description: z.string().min(1),
  /** What each iteration sends: seeded market snapshots, cycled. */
  payload: z.enum(['market-snapshots']).default('market-snapshots'),
  scenario,
  thresholds: z.record(z.string(), z.array(threshold)).default({}),
}).strict();

export type LoadProfile = z.infer<typeof profileSchema> & { name: string; file: string };
export type ProfileScenario = LoadProfile['scenario'];
export type Thresholds = LoadProfile['thresholds'];

/** A profile from its file, validated: an error names the file and the field. */
export function readProfile(file: string): LoadProfile {
  let raw: unknown;
  try {
    raw = yamlFile(file)[0]?.value;
  } catch (error) {
    if (error instanceof HarnessInputError) throw error;
    throw new HarnessInputError(`${path.relative(process.cwd(), file)}: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || '(root)';
    throw new HarnessInputError(`${path.relative(process.cwd(), file)}: field ${field}: ${issue.message}`);
  }
  const { scenario: s } = parsed.data;
  if ('maxVUs' in s && s.maxVUs !== undefined && s.maxVUs < s.preAllocatedVUs) throw new HarnessInputError(`${path.relative(process.cwd(), file)}: field scenario.maxVUs: must be at least preAllocatedVUs (${s.preAllocatedVUs})`);
  return { ...parsed.data, name: path.basename(file, '.yaml'), file };
}

/** The profiles in scenarios/, by name. */
export function profileNames(dir = SCENARIOS_DIR): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

/** A profile of scenarios/ by name; an unknown name lists the known ones. */
export function loadProfile(name: string, dir = SCENARIOS_DIR): LoadProfile {
  const file = path.join(dir, `${name}.yaml`);
  if (!fs.existsSync(file)) throw new HarnessInputError(`no load profile '${name}' in ${path.relative(process.cwd(), dir)} (the profiles: ${profileNames(dir).join(', ')})`);
  return readProfile(file);
}

/** The numbers a feature sets for one run, over the profile's. */
export interface ProfileOverrides {
  rate?: number;
  duration?: string;
  vus?: number;
  iterations?: number;
  thresholds?: Thresholds;
}

/** The profile with a feature's numbers; an override the executor does not take is an error naming both. */
export function withOverrides(profile: LoadProfile, overrides: ProfileOverrides): LoadProfile {
  const s: Record<string, unknown> = { ...profile.scenario };
  for (const [key, value] of Object.entries(overrides)) {
    if (key === 'thresholds' || value === undefined) continue;
    if (!(key in s)) throw new HarnessInputError(`load profile ${profile.name}: its ${s.executor} scenario has no '${key}' to set`);
    s[key] = value;
  }
  const scenarioChecked = scenario.safeParse(s);
  if (!scenarioChecked.success) throw new HarnessInputError(`load profile ${profile.name}: ${scenarioChecked.error.issues[0].path.join('.')}: ${scenarioChecked.error.issues[0].message}`);
  return { ...profile, scenario: scenarioChecked.data, thresholds: { ...profile.thresholds, ...(overrides.thresholds ?? {}) } };
}

/** The profile as k6 options (`scenarios` with one entry named after the profile, and `thresholds`). */
/** The trend statistics k6 puts in its summary: its default lacks p(99), which the built-in engine reports. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

export function k6Options(profile: LoadProfile): { scenarios: Record<string, ProfileScenario>; thresholds: Thresholds; summaryTrendStats: string[] } {
  return { scenarios: { [profile.name.replace(/[^A-Za-z0-9_]/g, '_')]: profile.scenario }, thresholds: profile.thresholds, summaryTrendStats: SUMMARY_TREND_STATS };
}
