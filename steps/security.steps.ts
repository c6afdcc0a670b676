import { Then, When } from '@cucumber/cucumber';
import { checkRefused, checkStillHealthy, sendBadInput } from '../support/tasks/bad-input.ts';
import type { UatWorld } from '../support/world.ts';

When(/^a client sends (.+) to the "([^"]+)" predictor$/, function (this: UatWorld, malformed: string, predictor: string) {
  return sendBadInput(this, malformed, predictor);
});

Then('the request is refused with HTTP status {int} and an error message', function (this: UatWorld, status: number) {
  return checkRefused(this, status);
});

Then('the platform still answers a valid request to {string}', function (this: UatWorld, predictor: string) {
  return checkStillHealthy(this, predictor);
});
