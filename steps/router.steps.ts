import { Given, Then, When } from '@cucumber/cucumber';
import { checkAnsweredBy, checkUplift, compareWithBaseline, checkDashboardRouting, checkRefusedNamingContext, requireRouter, sendDay, sendDaysWithOwnContext, sendWithout } from '../support/tasks/router.ts';
import type { UatWorld } from '../support/world.ts';
import { requireNamed, stepInputError } from '../support/feature-input.ts';
import { REGIMES, type Regime } from '../fixtures/market-data.ts';

Given('the contextual router pipeline {string} is deployed and ready', function (this: UatWorld, pipeline: string) {
  requireNamed(this, 'Pipeline', pipeline);
  return requireRouter(this, pipeline);
});

When('a held-out day with volatility {float} and trend {float} is sent to the router', function (this: UatWorld, volatility: number, trend: number) {
  return sendDay(this, volatility, trend);
});

Then('it is answered by {string}', function (this: UatWorld, predictor: string) {
  requireNamed(this, 'Model', predictor);
  return checkAnsweredBy(this, predictor);
});

When('held-out days are sent to the router, each without one of its context tensors: {string}', function (this: UatWorld, tensors: string) {
  return sendWithout(this, tensors.split(',').map((t) => t.trim()).filter(Boolean));
});

Then('each is refused with a 4xx and an error body that names the missing tensor', function (this: UatWorld) {
  return checkRefusedNamingContext(this);
});

When('{int} held-out days are sent to the router, each with its own market context', function (this: UatWorld, days: number) {
  return sendDaysWithOwnContext(this, days);
});

Then("within {int} seconds the dashboard's routing view shows the days routed and each regime's requests as the platform counted them", { timeout: 60_000 }, function (this: UatWorld, seconds: number) {
  return checkDashboardRouting(this, seconds);
});

When('{int} {word} market days, never trained on, are sent to the router, each with its own market context, and to {string} alone', { timeout: 180_000 }, function (this: UatWorld, days: number, regime: string, baseline: string) {
  if (!(REGIMES as readonly string[]).includes(regime)) throw stepInputError(this.step, `"${regime}" is not a market regime of the data (${REGIMES.join(', ')})`);
  requireNamed(this, 'Model', baseline);
  return compareWithBaseline(this, days, regime as Regime, baseline);
});

Then('the routed accuracy is at least {float} % above the baseline\'s, at {int} % confidence', function (this: UatWorld, uplift: number, confidence: number) {
  return checkUplift(this, uplift, confidence);
});
