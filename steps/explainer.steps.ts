import { Given, Then, When } from '@cucumber/cucumber';
import { checkAdditivity, checkAgainstExact, checkAuditReport, checkAuditRows, checkCounterfactuals, checkDashboardExplanations, checkExplanationLatency, checkTopFeaturesStable, explainDays, requireExplainer } from '../support/tasks/explain.ts';
import type { UatWorld } from '../support/world.ts';
import { requireNamed } from '../support/feature-input.ts';

Given('the explainer {string} of {string} is deployed and ready', function (this: UatWorld, explainer: string, model: string) {
  requireNamed(this, 'Model', explainer, 'explainer');
  requireNamed(this, 'Model', model, 'model');
  return requireExplainer(this, explainer, model);
});

When('{int} held-out days are explained by {string}, one request each', { timeout: 120_000 }, function (this: UatWorld, days: number, explainer: string) {
  return explainDays(this, explainer, days);
});

When('{int} held-out days are each explained {int} times by {string}', { timeout: 120_000 }, function (this: UatWorld, days: number, times: number, explainer: string) {
  return explainDays(this, explainer, days, times);
});

Then('for every day the expected value plus the SHAP values is the probability {string} serves, within {float}', function (this: UatWorld, model: string, tolerance: number) {
  return checkAdditivity(this, model, tolerance);
});

Then('every SHAP value is within {float} of the exact Shapley value, enumerated over the features {string} uses', { timeout: 120_000 }, function (this: UatWorld, tolerance: number, model: string) {
  return checkAgainstExact(this, model, tolerance);
});

Then('the top {int} features of each day are the same in every explanation', function (this: UatWorld, top: number) {
  return checkTopFeaturesStable(this, top);
});

Then('the 95th percentile of the time one explanation takes is under {int} ms', function (this: UatWorld, ms: number) {
  return checkExplanationLatency(this, ms);
});

Then('each explanation has one audit row with its request id, the hash of the day sent, its top {int} features and who asked', function (this: UatWorld, top: number) {
  return checkAuditRows(this, top);
});

Then('the audit report for the period lists every one of them, in Markdown and CSV', { timeout: 60_000 }, function (this: UatWorld) {
  return checkAuditReport(this);
});

Then("within {int} seconds the dashboard's explanation view shows the explained instances and the leading features as the audit trail holds them", { timeout: 60_000 }, function (this: UatWorld, seconds: number) {
  return checkDashboardExplanations(this, seconds);
});

Then('the counterfactuals of {int} held-out days from {string} each flip the call, change at most {int} mutable features within their plausible ranges, and change no feature further than needed', { timeout: 60_000 }, function (this: UatWorld, days: number, explainer: string, k: number) {
  return checkCounterfactuals(this, days, explainer, k);
});
