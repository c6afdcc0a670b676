import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { checkSplitEquivalent, declareMargin, declareWeights, sendPlannedSnapshots } from '../support/tasks/ab-split.ts';
import { checkAnswersComeFrom, checkEveryRequestAnswered, checkMetricsCountEachPredictor, experimentTarget, sendSnapshots } from '../support/tasks/traffic.ts';
import type { UatWorld } from '../support/world.ts';
import { cell, requireNamed, tableRows } from '../support/feature-input.ts';

Given('the {string} experiment shares traffic as', function (this: UatWorld, experiment: string, table: DataTable) {
  requireNamed(this, 'Experiment', experiment);
  declareWeights(this, experiment, tableRows(table, { predictor: cell.text, weight: cell.number({ integer: true, min: 0 }) }, this.step, { unique: ['predictor'] }));
});

When('{int} market snapshots are sent to the {string} experiment', function (this: UatWorld, count: number, experiment: string) {
  requireNamed(this, 'Experiment', experiment);
  return sendSnapshots(this, experimentTarget(experiment), count);
});

When('{int} market snapshots are sent to the {string} predictor', function (this: UatWorld, count: number, predictor: string) {
  requireNamed(this, 'Model', predictor);
  return sendSnapshots(this, predictor, count);
});

Then('every request is answered with a prediction', function (this: UatWorld) {
  return checkEveryRequestAnswered(this);
});

Given("each predictor's share may differ from its weight by at most {float} percentage points", function (this: UatWorld, points: number) {
  declareMargin(this, points);
});

When(/^enough market snapshots to show that with (\d+)% power at alpha ([0-9.]+) are sent to the "([^"]+)" (experiment|predictor)$/, function (this: UatWorld, power: string, alpha: string, name: string, kind: string) {
  requireNamed(this, kind === 'experiment' ? 'Experiment' : 'Model', name);
  return sendPlannedSnapshots(this, kind === 'experiment' ? experimentTarget(name) : name, Number(power), Number(alpha));
});

Then("each predictor's share of the traffic is within that margin of its weight", function (this: UatWorld) {
  return checkSplitEquivalent(this);
});

Then('every answer comes from {string}', function (this: UatWorld, predictor: string) {
  requireNamed(this, 'Model', predictor);
  return checkAnswersComeFrom(this, predictor);
});

Then("the platform metrics count each predictor's requests exactly", function (this: UatWorld) {
  return checkMetricsCountEachPredictor(this);
});
