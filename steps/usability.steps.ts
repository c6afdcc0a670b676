import { Then, When } from '@cucumber/cucumber';
import { checkAccuracyShown, checkEveryFigureHasSource, checkLoadTime, openDashboard } from '../support/tasks/dashboard.ts';
import type { UatWorld } from '../support/world.ts';

When('a stakeholder opens the A\\/B testing dashboard', function (this: UatWorld) {
  return openDashboard(this);
});

Then('the dashboard loads in less than {int} milliseconds', function (this: UatWorld, thresholdMs: number) {
  return checkLoadTime(this, thresholdMs);
});

Then('it shows the accuracy of {string} and {string} as logged in the MLflow store', function (this: UatWorld, first: string, second: string) {
  return checkAccuracyShown(this, [first, second]);
});

Then('every figure on the dashboard names its data source', function (this: UatWorld) {
  return checkEveryFigureHasSource(this);
});
