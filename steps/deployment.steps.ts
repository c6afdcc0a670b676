import { Then, When, type DataTable } from '@cucumber/cucumber';
import { applyDeployment, checkNotReadyNotServed, checkReadiness, checkReadyServe, checkRefused } from '../support/tasks/partial-deployment.ts';
import type { UatWorld } from '../support/world.ts';
import { cell, tableRows } from '../support/feature-input.ts';

When('the {string} deployment is applied', function (this: UatWorld, name: string) {
  return applyDeployment(this, name);
});

Then('the resources report their readiness as', function (this: UatWorld, table: DataTable) {
  const rows = tableRows(table, { kind: cell.oneOf(['Model', 'Experiment', 'Pipeline'] as const), name: cell.text, ready: cell.oneOf(['True', 'False'] as const), reason: cell.anyText }, this.step, { optional: ['reason'] });
  return checkReadiness(this, rows);
});

Then('the object {string} is refused when applied, naming the field {string}', function (this: UatWorld, object: string, field: string) {
  return checkRefused(this, object, field);
});

Then('every resource reported ready answers a prediction', function (this: UatWorld) {
  return checkReadyServe(this);
});

Then('no resource reported not ready answers a prediction', function (this: UatWorld) {
  return checkNotReadyNotServed(this);
});
