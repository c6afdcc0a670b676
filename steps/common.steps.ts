import { Given } from '@cucumber/cucumber';
import { ensureStackDeployed } from '../support/tasks/deployment.ts';
import type { UatWorld } from '../support/world.ts';

Given('the A\\/B testing stack is deployed', function (this: UatWorld) {
  return ensureStackDeployed(this);
});
