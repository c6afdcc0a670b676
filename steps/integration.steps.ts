import { Given, Then, When } from '@cucumber/cucumber';
import { checkServedAccuracyMatchesLogged, readLoggedRuns, scoreHeldOutThroughServing } from '../support/tasks/mlflow-serving.ts';
import { checkMetricsTotalEqualsSent } from '../support/tasks/traffic.ts';
import type { UatWorld } from '../support/world.ts';

Given('the training runs of this release are logged in the MLflow store', function (this: UatWorld) {
  return readLoggedRuns(this);
});

When('the held-out market days are scored through each served predictor', function (this: UatWorld) {
  return scoreHeldOutThroughServing(this);
});

Then("each predictor's served accuracy equals its logged accuracy within {float}", function (this: UatWorld, tolerance: number) {
  return checkServedAccuracyMatchesLogged(this, tolerance);
});

Then('the request count in the platform metrics equals the requests sent', function (this: UatWorld) {
  return checkMetricsTotalEqualsSent(this);
});
