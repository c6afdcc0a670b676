import { Given, Then, When } from '@cucumber/cucumber';
import { checkAnsweredBy, checkRefusedNamingContext, requireRouter, sendDay, sendWithout } from '../support/tasks/router.ts';
import type { UatWorld } from '../support/world.ts';

Given('the contextual router pipeline {string} is deployed and ready', function (this: UatWorld, pipeline: string) {
  return requireRouter(this, pipeline);
});

When('a held-out day with volatility {float} and trend {float} is sent to the router', function (this: UatWorld, volatility: number, trend: number) {
  return sendDay(this, volatility, trend);
});

Then('it is answered by {string}', function (this: UatWorld, predictor: string) {
  return checkAnsweredBy(this, predictor);
});

When('held-out days are sent to the router, each without one of its context tensors: {string}', function (this: UatWorld, tensors: string) {
  return sendWithout(this, tensors.split(',').map((t) => t.trim()).filter(Boolean));
});

Then('each is refused with a 4xx and an error body that names the missing tensor', function (this: UatWorld) {
  return checkRefusedNamingContext(this);
});
