/**
 * Run-wide set-up and tear-down: start the target once (readiness probes and deadlines inside),
 * describe the run for the reports, and stop everything even when scenarios fail.
 */
import fs from 'node:fs';
import path from 'node:path';
// Registers the Allure runtime (allure.epic() and friends) and test-plan filtering for this process.
import 'allure-cucumberjs';
import * as allure from 'allure-js-commons';
import { After, AfterAll, Before, BeforeAll, BeforeStep, setDefaultTimeout, Status } from '@cucumber/cucumber';
import { ConfigError, loadConfig } from './config.ts';
import { evidenceFile, figuresFile } from './evidence/ledger.ts';
import { writeRunDescription } from './report/run-description.ts';
import { startConfiguredTarget } from './targets/target.ts';
import { storyName } from './report/story-name.ts';
import { onInterrupt } from './interrupt.ts';
import { rescanAtEnd } from './tasks/access-control.ts';
import { getRunContext, setRunContext, type RunContext, type UatWorld } from './world.ts';
import { outlineProblems, stepSource } from './feature-input.ts';
import { HarnessInputError } from './harness-input.ts';

/** Helper waits stay below this; the run deadline (CI) stays above it. */
setDefaultTimeout(90_000);

const log = (line: string): void => {
  process.stderr.write(`[uat] ${line}\n`);
};

BeforeAll({ timeout: 180_000 }, async function () {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    // cucumber-js run on its own (npm run uat checks the environment first): the variable, what it may be, and no stack trace
    if (!(error instanceof ConfigError)) throw error;
    log(`${error.message.replaceAll('\n', '\n[uat] ')}\n[uat] nothing was run`);
    process.exit(2);
  }
  fs.rmSync(evidenceFile(config.reportsDir), { force: true });
  fs.rmSync(figuresFile(config.reportsDir), { force: true });
  const context: RunContext = { config, log };
  setRunContext(context);
  // interrupted: the finished scenarios' results are already written; stop everything started
  onInterrupt(async () => {
    log('interrupted: stopping the browser and the target');
    if (context.browser) await (await context.browser.catch(() => undefined))?.close().catch(() => undefined);
    if (context.target) await context.target.stop();
  });
  try {
    context.target = await startConfiguredTarget(config, log);
  } catch (error) {
    // Scenarios still run and fail with this cause, so the reports and the sign-off are written.
    context.targetError = error as Error;
    log(`target did not start: ${(error as Error).message}`);
  }
  writeRunDescription(config, context.target, context.targetError);
});

Before(async function (this: UatWorld, { pickle, gherkinDocument }) {
  this.setScenario(pickle.name, gherkinDocument.feature?.name ?? path.basename(pickle.uri), pickle.tags.map((t) => t.name));
  await allure.epic(this.scenario.category);
  const story = pickle.tags.find((t) => t.name.startsWith('@story:'));
  if (story) await allure.story(storyName(story.name.slice('@story:'.length)));
});

// An Outline step using a column its Examples do not have fails the scenario before it sends anything.
Before(function ({ gherkinDocument, pickle }) {
  const problems = outlineProblems(gherkinDocument, pickle);
  if (problems.length > 0) throw new HarnessInputError(problems.join('\n'));
});

// Where each step is in its feature: a table, an Examples value or a name the harness cannot use is reported at its line.
BeforeStep(function (this: UatWorld, { gherkinDocument, pickle, pickleStep }) {
  this.step = stepSource(gherkinDocument, pickle, pickleStep);
});

After(async function (this: UatWorld, { result }) {
  // A part of the target that died explains a failure better than the refused connection it caused.
  const deaths = this.run.target?.deaths() ?? [];
  if (result?.status === Status.FAILED && deaths.length > 0) {
    await this.attach(deaths.join('\n'), { mediaType: 'text/plain', fileName: 'target-part-died.txt' });
  }
  // The resources' conditions (and, on a cluster, their events) as they stood when the scenario failed.
  if (result?.status === Status.FAILED && this.run.target) {
    const state = await this.run.target.diagnose().catch((error: Error) => `could not read the resources' state: ${error.message}`);
    await this.attach(state, { mediaType: 'text/plain', fileName: 'resources-on-failure.txt' });
  }
  if (this.deployment.stack) await this.deployment.stack.teardown();
  if (this.ui.dashboard) {
    if (result?.status === Status.FAILED) {
      await this.attach(await this.ui.dashboard.screenshot(), { mediaType: 'image/png', fileName: 'dashboard-on-failure.png' });
      // the browser's steps, DOM snapshots and network: `npx playwright-core show-trace <file>`
      const trace = await this.ui.dashboard.trace();
      if (trace) await this.attach(trace, { mediaType: 'application/zip', fileName: 'playwright-trace.zip' });
    }
    await this.ui.dashboard.close();
  }
});

// A database drill that failed before its restart leaves the database running again for the rest of the run.
After({ tags: '@database-outage', timeout: 30_000 }, async function (this: UatWorld) {
  const drill = this.security.drill;
  if (drill?.part === 'database' && drill.restartedAt === undefined) await this.run.target?.restartPart('database');
});

// A scenario that stops Prometheus leaves it running again for the rest of the run, even when it failed.
After({ tags: '@prometheus-outage', timeout: 30_000 }, async function (this: UatWorld) {
  await this.run.target?.restartPrometheus();
});

AfterAll({ timeout: 60_000 }, async function () {
  const context = getRunContext();
  if (context.browser) await (await context.browser.catch(() => undefined))?.close();
  // everything the run wrote, once the last scenario has ended (and before its processes stop)
  const scan = rescanAtEnd(context);
  if (scan) log(`credentials of the run looked for again in the run's reports and command lines: ${scan.measured} ${scan.unit}${scan.passed ? '' : ` (FAILED: ${JSON.stringify(scan.details?.hits)})`}`);
  if (context.target && !context.config.keep) await context.target.stop();
  if (context.target && context.config.keep) log(`UAT_KEEP set: the stack stays at ${context.target.inferenceUrl} (${context.target.servedBy})`);
  setRunContext(undefined);
});
