/**
 * The main job: run the UAT suite (all categories by default) against the configured target,
 * then write the sign-off and the Allure HTML, and print the verdict and the report paths.
 *
 *   npm run uat [-- --profile <default|ci|functional|...>] [--name <regex> ...] [--no-html] [extra.feature ...]
 *
 * `--name` keeps only the scenarios whose name matches (repeatable, as cucumber-js's own option); a
 * category left with no scenario is still a reason for NO-GO.
 *
 * `--dry-run` (UAT_TARGET=kubernetes) applies the main manifests with a server-side dry run, prints
 * what would be created, changed or refused, and runs nothing: the cluster is left as it was.
 *
 * Each run writes into its own folder, reports/runs/<time>-<run id>/, and reports/latest points at
 * the newest; the Allure history carries over from the run before. The sign-off's scope is the
 * categories the profile selects (all for `default` and `ci`). Only the stacks the selected
 * scenarios need are deployed (UAT_STACKS, unless set: support/scope/stacks.ts), so
 * `--profile security` starts no bandit controller, drift monitor or explanation gateway.
 *
 * Before anything starts, the preflight finds the system packages the suite needs (Chromium,
 * Prometheus, Java, fonts): on Debian as root it installs what is missing with apt, saying what and
 * why; elsewhere a missing Chromium or Prometheus stops the run with the command to install it.
 *
 * Exits 0 when the verdict is GO or GO WITH WAIVERS, 1 on NO-GO or INCOMPLETE, and 2 before
 * anything starts when an option, the profile (one of the exports of cucumber.js) or a feature
 * file is unknown, a variable of the environment holds a value the harness cannot use (named,
 * with what it may be; no stack trace), a manifest of the stacks to deploy is not valid (its file,
 * object and field named), or the preflight cannot provide what the suite needs. Ctrl-C or SIGTERM stops
 * the suite (it stops everything it started), keeps the finished scenarios' results, writes an
 * INCOMPLETE sign-off and exits 130 (143 for SIGTERM).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import { ConfigError, CUCUMBER_BIN, loadConfig, PROJECT_ROOT, type HarnessConfig } from '../support/config.ts';
import { HarnessInputError, reportHarnessInputErrors } from '../support/harness-input.ts';
import { readManifests } from '../support/k8s/manifest-reader.ts';
import { dryRun } from '../support/targets/kubernetes-serving.ts';
import { generateAllureHtml } from '../support/report/allure-html.ts';
import { ALLURE_RESULTS } from '../support/report/run-description.ts';
import { latestRun, newRunFolder, pointLatest } from '../support/report/run-folders.ts';
import { inScope, SUITE_OUTCOME_FILE, verdictExitCode, type SuiteOutcome } from '../support/report/signoff.ts';
import { writeSignOffDocuments } from '../support/report/signoff-documents.ts';
import { CATEGORIES } from '../support/evidence/ledger.ts';
import { fixPackages, missingPackages, provideKubeApiserver, suitePackages } from '../support/doctor/preflight.ts';
import { selectedStacks } from '../support/scope/selection.ts';

const USAGE = 'usage: npm run uat [-- --profile <profile>] [--name <regex> ...] [--no-html] [--dry-run] [extra.feature ...]';

// bad input of the harness (a manifest, the ROI assumptions, a load profile) that reaches the top: its message, no stack trace
reportHarnessInputErrors('uat');

/** A refusal before anything starts: nothing is deleted, started or written. */
function refuse(message: string): never {
  console.error(`uat: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      profile: { type: 'string', default: 'default' },
      html: { type: 'boolean', default: true },
      'no-html': { type: 'boolean', default: false },
      name: { type: 'string', multiple: true, default: [] },
      'dry-run': { type: 'boolean', default: false },
    },
    allowNegative: true,
    allowPositionals: true,
  });
} catch (error) {
  refuse((error as Error).message);
}
const { values, positionals } = parsed;
// the profiles are the exports of cucumber.js: an unknown one is refused with the list
const profileModule = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'cucumber.js')).href)) as Record<string, { paths?: string[] }>;
const profiles = Object.keys(profileModule);
if (!profiles.includes(values.profile)) refuse(`unknown profile '${values.profile}': the profiles are ${profiles.join(', ')}`);
// the categories whose folders the profile's paths name; all of them when a path spans every folder
const profilePaths = profileModule[values.profile].paths ?? [];
const named = profilePaths.map((p) => CATEGORIES.find((c) => p.startsWith(`features/${c}/`)));
const scope: string[] = named.length > 0 && named.every(Boolean) ? [...new Set(named as string[])] : [...CATEGORIES];
// a feature file may carry line numbers (`file.feature:12:30`), as Cucumber takes them
const missingFeature = positionals.find((f) => !fs.existsSync(path.resolve(f.replace(/(:\d+)+$/, ''))));
if (missingFeature !== undefined) refuse(`no feature file '${missingFeature}'`);

let config: HarnessConfig;
try {
  config = loadConfig();
} catch (error) {
  // a variable of the environment the harness cannot use: named, with what it may be, before anything starts
  if (!(error instanceof ConfigError)) throw error;
  console.error(`uat: ${error.message}`);
  process.exit(2);
}
// preflight: the system packages the suite needs, installed on Debian as root, else the command to run
// (a dry run only talks to the API server)
const lacking = values['dry-run'] ? [] : await missingPackages(suitePackages(config));
if (lacking.length > 0) {
  const fixed = fixPackages(lacking);
  if (fixed.ok) console.error(`uat: preflight ${fixed.message}`);
  else if (lacking.some((p) => p.required)) refuse(`preflight: ${fixed.message}`);
  else console.error(`uat: preflight: ${fixed.message}; the run goes on without them`);
}
if (values['dry-run']) {
  if (config.target !== 'kubernetes') {
    console.error('--dry-run applies the manifests with a server-side dry run on a Kubernetes API server: set UAT_TARGET=kubernetes (and KUBECONFIG, UAT_NAMESPACE)');
    process.exit(2);
  }
  const { namespace, server, outcomes } = await dryRun(config).catch((error: Error) => {
    console.error(`dry run failed: ${error.message}`);
    return process.exit(1);
  });
  const table = new Table({ head: ['object', 'would be', 'detail'], style: { head: [], border: [] }, wordWrap: true, colWidths: [38, 12, 60] });
  for (const o of outcomes) table.push([o.object, o.outcome, o.outcome === 'refused' ? o.message : (o.fields ?? []).join(', ')]);
  console.log(`Server-side dry run of ${config.manifests.map((m) => path.relative(process.cwd(), m)).join(', ')} in namespace ${namespace} at ${server} (nothing stored):\n${table.toString()}`);
  process.exit(outcomes.some((o) => o.outcome === 'refused') ? 1 : 0);
}
// Start only what the selected scenarios need: the stacks their features exercise (UAT_STACKS, unless given).
let stacks = process.env.UAT_STACKS;
let selectedTags: string[] | undefined;
try {
  const selection = await selectedStacks(PROJECT_ROOT, values.profile, values.name, positionals);
  selectedTags = selection.tags;
  if (stacks === undefined) {
    stacks = selection.stacks.join(',');
    console.error(`uat: ${selection.scenarios} scenario${selection.scenarios === 1 ? '' : 's'} from ${selection.features.length} feature file${selection.features.length === 1 ? '' : 's'} selected; stacks to deploy: ${selection.stacks.join(', ')}`);
  }
} catch (error) {
  if (stacks === undefined) console.error(`uat: could not read the selected scenarios (${(error as Error).message}); every stack is deployed`);
}
// the embedded default proves the access matrix on a kube-apiserver of its own: built once, here, when a selected feature needs it
if (config.target === 'local' && selectedTags?.includes('@access-control')) {
  const kube = await provideKubeApiserver({ log: (line) => console.error(`uat: ${line}`) });
  if (!kube.ok) console.error(`uat: preflight: ${kube.message}. The run goes on; the access-matrix scenario fails saying so`);
  else if (kube.built) console.error(`uat: preflight: ${kube.message}`);
}
// the manifests of the stacks to deploy, checked before anything starts: a YAML error, a missing field or a wrong type is named with its file, object and field
try {
  readManifests(loadConfig({ ...process.env, ...(stacks === undefined ? {} : { UAT_STACKS: stacks }) }).manifests);
} catch (error) {
  if (!(error instanceof HarnessInputError)) throw error;
  console.error(`uat: ${error.message}`);
  process.exit(2);
}
const started = Date.now();
// This run's own folder, never another's: reports/runs/<time>-<run id>, and reports/latest points at it.
const runId = randomUUID();
const previous = latestRun(config.reportsDir);
const runDir = newRunFolder(config.reportsDir, runId);
pointLatest(config.reportsDir, runDir);

// Feature files given after the options are run besides the profile's.
const cucumber = spawn(process.execPath, [CUCUMBER_BIN, '-p', values.profile, ...values.name.flatMap((n) => ['--name', n]), ...positionals], {
  cwd: PROJECT_ROOT,
  stdio: 'inherit',
  env: { ...process.env, UAT_REPORTS_DIR: runDir, UAT_RUN_ID: runId, ...(stacks === undefined ? {} : { UAT_STACKS: stacks }) },
});
// Ctrl-C reaches the suite from the terminal too; a SIGTERM is passed on. The suite stops what it
// started within its bound (support/interrupt.ts); past 10 s it is killed.
let interrupted: NodeJS.Signals | undefined;
let interruptedAt: string | undefined;
const onSignal = (signal: NodeJS.Signals): void => {
  if (interrupted) return;
  interrupted = signal;
  interruptedAt = new Date().toISOString();
  console.error(`\nuat: ${signal}: stopping the suite; the finished scenarios are kept and the sign-off will say INCOMPLETE`);
  if (signal !== 'SIGINT' && cucumber.exitCode === null) cucumber.kill(signal);
  setTimeout(() => cucumber.kill('SIGKILL'), 10_000).unref();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
const exitCode = await new Promise<number | null>((resolve) => cucumber.on('exit', (code) => resolve(code)));
const suiteSeconds = (Date.now() - started) / 1000;
// The suite's own outcome, so every later rewrite of the sign-off (npm run signoff, npm run report) decides the same way.
const outcome: SuiteOutcome = {
  exitCode,
  profile: values.profile,
  endedAt: new Date().toISOString(),
  scope,
  ...(values.name.length > 0 ? { nameFilters: values.name } : {}),
  ...(interrupted ? { interrupted, interruptedAt } : {}),
};
fs.writeFileSync(path.join(runDir, SUITE_OUTCOME_FILE), JSON.stringify(outcome, null, 2));

// the Allure HTML first: the sign-off links each criterion to its test in the single-file report
const html = interrupted
  ? { ok: true, message: 'Allure HTML skipped (interrupted); run `npm run report` to build it from the finished scenarios' }
  : values.html && !values['no-html']
    ? generateAllureHtml(runDir, previous)
    : { ok: true, message: 'Allure HTML skipped (--no-html); run `npm run report` to build it' };
const { signoff, markdown, json, html: signoffHtml, pdf, pdfProblem } = await writeSignOffDocuments(runDir, config.waiversFile, config.chromiumPath);

const line = '-'.repeat(72);
console.log(`\n${line}`);
console.log(`Verdict: ${signoff.verdict}   (${signoff.scopeNote}; profile ${values.profile}, suite ${suiteSeconds.toFixed(1)} s, cucumber exit ${exitCode}${interrupted ? `, interrupted by ${interrupted}` : ''})`);
for (const w of signoff.waived) console.log(`  waived: ${w.criterion.id} (${w.criterion.severity}) by ${w.waiver.owner} until ${w.waiver.expires}: ${w.waiver.reason}`);
for (const reason of signoff.reasons) console.log(`  - ${reason}`);
for (const [category, c] of Object.entries(signoff.categories)) {
  console.log(`  ${category.padEnd(12)} ${inScope(signoff, category) ? `passed ${c.passed}  failed ${c.failed}  skipped ${c.skipped}` : 'not in scope'}`);
}
console.log(`Sign-off:        ${markdown}`);
console.log(`Sign-off (JSON): ${json}`);
console.log(`Sign-off (HTML): ${signoffHtml}`);
console.log(pdf ? `Sign-off (PDF):  ${pdf}` : `Sign-off (PDF):  ${pdfProblem}`);
console.log(`Allure results:  ${path.join(runDir, ALLURE_RESULTS)}`);
console.log(`Run folder:      ${runDir} (also ${path.join(config.reportsDir, 'latest')})`);
console.log(html.message);
console.log(line);

// The exit code follows the verdict, whichever command writes it (failed scenarios are in the verdict);
// an interrupted run ends as an interrupted command does.
process.exit(interrupted ? 128 + os.constants.signals[interrupted] : verdictExitCode(signoff.verdict));
