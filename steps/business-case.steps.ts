import { Then, When } from '@cucumber/cucumber';
import { checkReturnAndPayback, computeBusinessCase } from '../support/tasks/business-case.ts';
import type { UatWorld } from '../support/world.ts';
import { requireNamed } from '../support/feature-input.ts';

When('the business case of {string} over {string} is computed with the assumptions in {string}', function (this: UatWorld, challenger: string, baseline: string, assumptions: string) {
  requireNamed(this, 'Model', challenger);
  requireNamed(this, 'Model', baseline);
  return computeBusinessCase(this, challenger, baseline, assumptions);
});

Then('the return on investment over the period is at least {float} % and the cost is paid back within {int} days', function (this: UatWorld, percent: number, days: number) {
  return checkReturnAndPayback(this, percent, days);
});
