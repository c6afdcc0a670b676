import { Given, Then, When } from '@cucumber/cucumber';
import { checkServedAccuracyMatchesLogged, readLoggedRuns, scoreHeldOutThroughServing } from '../support/tasks/mlflow-serving.ts';
import { checkMetricsTotalEqualsSent } from '../support/tasks/traffic.ts';
import {
  checkCountedModelsHaveRuns,
  checkDashboardBackOnPrometheus,
  checkDashboardFallsBack,
  checkDashboardCountsRequestsAnswered,
  checkFallbackCountsRequestsAnswered,
  checkPrometheusCountsPerModel,
  checkStillAnswering,
  ensurePrometheusScraping,
  openDashboardForOutage,
  restartPrometheus,
  stopPrometheus,
} from '../support/tasks/live-metrics.ts';
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

Given('Prometheus is scraping the platform', function (this: UatWorld) {
  return ensurePrometheusScraping(this);
});

Given('a stakeholder has the A\\/B testing dashboard open', function (this: UatWorld) {
  return openDashboardForOutage(this);
});

When('Prometheus stops', function (this: UatWorld) {
  return stopPrometheus(this);
});

When('Prometheus is started again', function (this: UatWorld) {
  return restartPrometheus(this);
});

Then('within {int} seconds Prometheus counts each request under the model that answered it', function (this: UatWorld, seconds: number) {
  return checkPrometheusCountsPerModel(this, seconds);
});

Then('every model Prometheus counts has a finished training run in the MLflow store', function (this: UatWorld) {
  return checkCountedModelsHaveRuns(this);
});

Then("the dashboard's request counts grow by the requests each model answered", function (this: UatWorld) {
  return checkDashboardCountsRequestsAnswered(this);
});

Then("within {int} seconds the dashboard labels its serving figures as the platform's own metrics and names the cause", function (this: UatWorld, seconds: number) {
  return checkDashboardFallsBack(this, seconds);
});

Then('the request counts it shows grow by the requests each model answered', function (this: UatWorld) {
  return checkFallbackCountsRequestsAnswered(this);
});

Then('the dashboard and the platform keep answering', function (this: UatWorld) {
  return checkStillAnswering(this);
});

Then('within {int} seconds the dashboard labels its serving figures as Prometheus again', function (this: UatWorld, seconds: number) {
  return checkDashboardBackOnPrometheus(this, seconds);
});

