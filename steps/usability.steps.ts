import { Then, When, type DataTable } from '@cucumber/cucumber';
import {
  checkAccessibility,
  checkAccuracyShown,
  checkAutoRefresh,
  checkChartsDrawn,
  checkChartsFollowSelection,
  checkDashboardSecurity,
  checkEveryFigureHasSource,
  checkFiguresFollowSelection,
  checkKeyboardOpensView,
  checkKeyboardOrder,
  checkKeyboardTogglesModel,
  checkLoadTime,
  checkNoFigureSimulated,
  checkNoHorizontalScroll,
  chooseWindowAndModels,
  openDashboard,
} from '../support/tasks/dashboard.ts';
import type { UatWorld } from '../support/world.ts';
import { requireNamed, stepInputError } from '../support/feature-input.ts';
import { WINDOWS } from '../support/views/dashboard-views.ts';

When('a stakeholder opens the A\\/B testing dashboard', function (this: UatWorld) {
  return openDashboard(this);
});

When('a stakeholder opens the A\\/B testing dashboard on a {int} by {int} screen', function (this: UatWorld, width: number, height: number) {
  return openDashboard(this, { width, height });
});

When('chooses the last {string} and only the {string} model', function (this: UatWorld, window: string, model: string) {
  if (!(WINDOWS as string[]).includes(window)) throw stepInputError(this.step, `"${window}" is not a time window of the dashboard (${WINDOWS.join(', ')})`);
  requireNamed(this, 'Model', model);
  return chooseWindowAndModels(this, window, [model]);
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

Then('no figure on the dashboard is simulated', function (this: UatWorld) {
  return checkNoFigureSimulated(this);
});

Then('the charts show only {string} over the last {string}', function (this: UatWorld, model: string, window: string) {
  return checkChartsFollowSelection(this, [model], window);
});

Then('the per-model figures shown are only those of {string}', function (this: UatWorld, model: string) {
  return checkFiguresFollowSelection(this, [model]);
});

Then('the figures are refreshed without any action within {int} seconds', function (this: UatWorld, seconds: number) {
  return checkAutoRefresh(this, seconds);
});

Then('the page needs no horizontal scrolling', function (this: UatWorld) {
  return checkNoHorizontalScroll(this);
});

Then('all {int} charts are drawn', function (this: UatWorld, count: number) {
  return checkChartsDrawn(this, count);
});

Then('an automated accessibility scan finds no serious or critical violation', function (this: UatWorld) {
  return checkAccessibility(this);
});

Then('the keyboard reaches these controls in this order', function (this: UatWorld, table: DataTable) {
  return checkKeyboardOrder(this, table.raw().map((row) => row[0]));
});

Then('pressing Enter on {string} opens the {string} view', function (this: UatWorld, link: string, view: string) {
  return checkKeyboardOpensView(this, link, view);
});

Then('pressing Space on the {string} filter removes it from the charts', function (this: UatWorld, model: string) {
  return checkKeyboardTogglesModel(this, model);
});

Then("within {int} seconds the security view shows the latest result of every security check in the run's evidence ledger, with its source", function (this: UatWorld, seconds: number) {
  return checkDashboardSecurity(this, seconds);
});
