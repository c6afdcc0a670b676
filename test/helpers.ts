/**
 * Shared helpers of the harness's own tests.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/config.ts';
import { freePort } from '../support/free-port.ts';
import { launchStack, StackStartError, type StackProcess } from '../support/targets/stack-process.ts';
import { fitOrReuse, publishPredictors } from '../support/training/publish-predictors.ts';
import { DEFAULT_TRAINING, marketDataFor, type TrainedPredictor } from '../fixtures/train-predictors.ts';
import type { MarketRow } from '../fixtures/market-data.ts';

/** The shared reference folder, or undefined (tests that need it skip with a visible message). */
export function referenceDir(): string | undefined {
  const dir = path.resolve(process.env.UAT_REFERENCE_DIR ?? path.join(PROJECT_ROOT, '..', 'shared', 'reference'));
  return fs.existsSync(dir) ? dir : undefined;
}

export const SKIP_NO_REFERENCE = 'reference material not found (set UAT_REFERENCE_DIR to ../shared/reference)';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `uat-test-${prefix}-`));
}

/** Start the stack program on loopback with the given CLI arguments; resolves on its ready line. */
export function startStack(args: string[]): Promise<StackProcess> {
  return launchStack({ args });
}

/** Start the stack expecting it to refuse: its exit code and error output, or code 0 when it did start. */
export async function runStack(args: string[]): Promise<{ code: number | null; stderr: string }> {
  try {
    await (await launchStack({ args })).stop();
    return { code: 0, stderr: '' };
  } catch (error) {
    if (error instanceof StackStartError) return { code: error.exitCode, stderr: error.stderr };
    throw error;
  }
}

/** A loopback port nothing listens on (it was free a moment ago). */
export const closedPort = freePort;

/**
 * The seeded predictors (DEFAULT_TRAINING) and the held-out days, fitted once per machine and
 * training code: test files reuse one fit from the OS temp folder instead of fitting again.
 */
export function trainedForTests(seed = 42): { predictors: TrainedPredictor[]; heldOut: MarketRow[] } {
  const training = { seed, ...DEFAULT_TRAINING };
  return { predictors: fitOrReuse(training, TEST_TRAINING_CACHE), heldOut: marketDataFor(training).heldOut };
}

/**
 * The training step's artifacts for k8s/ab-testing, k8s/router, k8s/explainer and k8s/drift (predictors, drift detectors,
 * router, explainers) written under `store` (the bucket's folder), from the fit the test files share.
 */
export async function publishForTests(store: string): Promise<void> {
  await publishPredictors({
    seed: 42,
    manifests: ['ab-testing', 'router', 'explainer', 'drift'].map((folder) => path.join(PROJECT_ROOT, 'k8s', folder)),
    storageMap: [['gs://financial-mlops-models/', store]],
    experimentName: 'tests',
    uatRunId: 'tests',
    cacheDir: TEST_TRAINING_CACHE,
  });
}

/** Run a demo script (`scripts/<script>.ts`) with its reports in `reports`, on the fit the test files share. */
/** Where the tests' runs reuse the seeded fit (the same seed and training code fit the same predictors). */
export const TEST_TRAINING_CACHE = path.join(os.tmpdir(), 'financial-mlops-uat-test-training');

export function runDemo(script: string, args: string[], reports: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', `${script}.ts`), ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, UAT_REPORTS_DIR: reports, UAT_TRAINING_CACHE: TEST_TRAINING_CACHE },
  });
}
