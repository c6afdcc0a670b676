import { Given, Then, When } from '@cucumber/cucumber';
import { checkDashboardDrift, checkDetectionRate, checkDriftMetric, checkEpisodeAlerts, checkFalseAlarms, checkMissedByFeatureTests, checkNamesShiftedFeatures, checkRetrainedOnce, requireDetectors, sendWindows, streamDays } from '../support/tasks/drift.ts';
import type { UatWorld } from '../support/world.ts';
import { requireNamed } from '../support/feature-input.ts';

Given('the drift detectors {string} and {string} are deployed and ready', function (this: UatWorld, a: string, b: string) {
  for (const detector of [a, b]) requireNamed(this, 'Model', detector, 'drift detector');
  return requireDetectors(this, [a, b]);
});

When('{int} reference-like windows of {int} days are sent to {string}', { timeout: 120_000 }, function (this: UatWorld, windows: number, size: number, detector: string) {
  return sendWindows(this, [detector], windows, size, 'none');
});

When('{int} reference-like windows of {int} days with the volatility features shifted by {float} standard deviations are sent to {string}', { timeout: 120_000 }, function (this: UatWorld, windows: number, size: number, sd: number, detector: string) {
  return sendWindows(this, [detector], windows, size, 'volatility-shift', sd);
});

When('{int} reference-like windows of {int} days with implied volatility shuffled within the window are sent to {string} and {string}', { timeout: 120_000 }, function (this: UatWorld, windows: number, size: number, a: string, b: string) {
  return sendWindows(this, [a, b], windows, size, 'correlation');
});

Then("the share of windows {string} reports as drift is within the one-sided binomial bound at {float} for its p_val {float}", function (this: UatWorld, detector: string, level: number, pVal: number) {
  return checkFalseAlarms(this, detector, level, pVal);
});

Then('{string} reports at least {float} of such windows as drift, at {int} % confidence', function (this: UatWorld, detector: string, minimum: number, confidence: number) {
  return checkDetectionRate(this, detector, minimum, confidence / 100);
});

Then('every window {string} reports as drift names a shifted feature as its strongest drift', function (this: UatWorld, detector: string) {
  return checkNamesShiftedFeatures(this, detector);
});

Then('{string} reports no more of them than the one-sided binomial bound at {float} for its p_val {float}', function (this: UatWorld, detector: string, level: number, pVal: number) {
  return checkMissedByFeatureTests(this, detector, level, pVal);
});

Given('the drift monitor is watching the pipeline {string}', async function (this: UatWorld, pipeline: string) {
  requireNamed(this, 'Pipeline', pipeline);
  const monitor = this.driftMonitor;
  if (monitor.pipeline !== pipeline) throw new Error(`the drift monitor watches ${monitor.pipeline}, not ${pipeline}`);
  await this.status.waitFor('Pipeline', pipeline, 'Ready', 'True', 60_000);
});

When('{int} reference-like days, then {int} days with the volatility features shifted by {float} standard deviations, then {int} reference-like days go through {string}, one request each', { timeout: 180_000 }, function (this: UatWorld, before: number, shifted: number, sd: number, after: number, pipeline: string) {
  return streamDays(this, pipeline, [{ days: before, shiftSd: 0 }, { days: shifted, shiftSd: sd }, { days: after, shiftSd: 0 }]);
});

Then('within {int} seconds the drift monitor has sent one firing alert naming the shifted features and one resolved alert', { timeout: 90_000 }, function (this: UatWorld, seconds: number) {
  return checkEpisodeAlerts(this, seconds);
});

Then("within {int} seconds Prometheus counts as many drifting windows of {string} as its output topic holds, in one episode", { timeout: 90_000 }, function (this: UatWorld, seconds: number, detector: string) {
  return checkDriftMetric(this, detector, seconds);
});

Then('within {int} seconds exactly one retraining run, with a new model version, is logged in MLflow for the episode', { timeout: 90_000 }, function (this: UatWorld, seconds: number) {
  return checkRetrainedOnce(this, seconds);
});

Then("within {int} seconds the dashboard's drift view shows the verdicts of {string} and {string} and the episode", { timeout: 90_000 }, function (this: UatWorld, seconds: number, a: string, b: string) {
  return checkDashboardDrift(this, [a, b], seconds);
});
