import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { checkSplitMatchesWeights, declareWeights } from '../support/tasks/ab-split.ts';
import { checkAnswersComeFrom, checkEveryRequestAnswered, checkMetricsCountEachPredictor, experimentTarget, sendSnapshots } from '../support/tasks/traffic.ts';
import type { UatWorld } from '../support/world.ts';

Given('the {string} experiment shares traffic as', function (this: UatWorld, experiment: string, table: DataTable) {
  declareWeights(this, experiment, table.hashes() as { predictor: string; weight: string }[]);
});

When('{int} market snapshots are sent to the {string} experiment', function (this: UatWorld, count: number, experiment: string) {
  return sendSnapshots(this, experimentTarget(experiment), count);
});

When('{int} market snapshots are sent to the {string} predictor', function (this: UatWorld, count: number, predictor: string) {
  return sendSnapshots(this, predictor, count);
});

Then('every request is answered with a prediction', function (this: UatWorld) {
  return checkEveryRequestAnswered(this);
});

Then('the share of traffic each predictor receives matches the weights at significance level {float}', function (this: UatWorld, alpha: number) {
  return checkSplitMatchesWeights(this, alpha);
});

Then('every answer comes from {string}', function (this: UatWorld, predictor: string) {
  return checkAnswersComeFrom(this, predictor);
});

Then("the platform metrics count each predictor's requests exactly", function (this: UatWorld) {
  return checkMetricsCountEachPredictor(this);
});
