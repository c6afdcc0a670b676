import { Then, When, type DataTable } from '@cucumber/cucumber';
import {
  checkPlatformCountsRefusals,
  checkPrometheusCountsRefusals,
  checkRefused,
  checkStillHealthy,
  sendBadInput,
  sendBadInputs,
  type ErrorBody,
} from '../support/tasks/bad-input.ts';
import type { UatWorld } from '../support/world.ts';

When(/^a client sends (?!these malformed requests)(.+) to the "([^"]+)" predictor$/, async function (this: UatWorld, malformed: string, predictor: string) {
  await sendBadInput(this, malformed, predictor);
});

When('a client sends these malformed requests to the {string} predictor', async function (this: UatWorld, predictor: string, table: DataTable) {
  this.security.refusals = await sendBadInputs(this, predictor, table.hashes().map((r) => ({ name: r['malformed request'], count: Number(r.count) })));
});

Then(/^the request is refused with HTTP status (\d+) and (a validation error|an error message|no body)$/, function (this: UatWorld, status: string, body: ErrorBody) {
  return checkRefused(this, Number(status), body);
});

Then('the platform still answers a valid request to {string}', function (this: UatWorld, predictor: string) {
  return checkStillHealthy(this, predictor);
});

Then('the platform counts each refused request under its own status code and none as answered', function (this: UatWorld) {
  if (!this.security.refusals) throw new Error('no malformed requests were sent in this scenario');
  return checkPlatformCountsRefusals(this, this.security.refusals);
});

Then('within {int} seconds Prometheus counts the refused requests the same way', function (this: UatWorld, seconds: number) {
  if (!this.security.refusals) throw new Error('no malformed requests were sent in this scenario');
  return checkPrometheusCountsRefusals(this, this.security.refusals, seconds);
});
