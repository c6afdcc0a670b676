import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { checkDashboardBandit, checkOutageNoErrors, checkOutageSplitResumes, replayThroughOutage, checkRegretBelowStatic, replayOne, checkResumed, checkWeakestStarved, checkWeightsVisible, measureArmValues, replayThenRestart, requireBandit, runReplays } from '../support/tasks/bandit.ts';
import type { UatWorld } from '../support/world.ts';
import { cell, requireNamed, tableRows } from '../support/feature-input.ts';

Given('the bandit runs the {string} experiment, starting from the weights', function (this: UatWorld, experiment: string, table: DataTable) {
  requireNamed(this, 'Experiment', experiment);
  return requireBandit(this, experiment, tableRows(table, { predictor: cell.text, weight: cell.number({ integer: true, min: 0 }) }, this.step, { unique: ['predictor'] }));
});

Given("each predictor's business value is measured on every held-out market day, net of {float} basis points of trading cost per call", function (this: UatWorld, costBp: number) {
  return measureArmValues(this, costBp);
});

When('{int} seeded replays of {int} held-out market days are sent to the bandit, each answer\'s business value fed back', { timeout: 300_000 }, function (this: UatWorld, replays: number, days: number) {
  return runReplays(this, replays, days);
});

When('{int} held-out market days are sent to the bandit, each answer\'s business value fed back, and the bandit controller restarts', { timeout: 120_000 }, function (this: UatWorld, days: number) {
  return replayThenRestart(this, days);
});

Then("the bandit's cumulative regret is at least {float} % below the static initial split's, at {float} % confidence", function (this: UatWorld, reduction: number, confidence: number) {
  return checkRegretBelowStatic(this, reduction, confidence);
});

Then(/^the predictor with the lowest business value receives at most ([0-9.]+) % of the last (\d+) requests of a replay(?: \([^)]*\))?, at ([0-9.]+) % confidence$/, function (this: UatWorld, share: string, window: string, confidence: string) {
  return checkWeakestStarved(this, Number(share), Number(window), Number(confidence));
});

Then("the weights the bandit set are the experiment's weights and the weights in its metrics", function (this: UatWorld) {
  return checkWeightsVisible(this);
});

Then('the bandit resumes from the posteriors and the update count it had stored', function (this: UatWorld) {
  return checkResumed(this);
});

When('{int} held-out market days are sent to the bandit, each answer\'s business value fed back', { timeout: 120_000 }, function (this: UatWorld, days: number) {
  return replayOne(this, days);
});

Then("within {int} seconds the dashboard's bandit view shows each predictor's weight and P\\(best) as the controller set them, and the rewards and cumulative regret of the feedback", { timeout: 60_000 }, function (this: UatWorld, seconds: number) {
  return checkDashboardBandit(this, seconds);
});

When('{int} held-out market days are sent to the bandit, each answer\'s business value fed back, then {string} stops answering while days keep coming at {int} a second for {int} seconds', { timeout: 180_000 }, function (this: UatWorld, before: number, arm: string, rate: number, seconds: number) {
  requireNamed(this, 'Model', arm);
  return replayThroughOutage(this, before, arm, rate, seconds);
});

Then('within {int} seconds the experiment splits the traffic again between the predictors that answer, none to it', function (this: UatWorld, seconds: number) {
  return checkOutageSplitResumes(this, seconds);
});

Then('from then on every request is answered', function (this: UatWorld) {
  return checkOutageNoErrors(this);
});
