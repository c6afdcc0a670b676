import { Then, When } from '@cucumber/cucumber';
import { checkNoFailedRequests, checkP95Below, runShortLoad } from '../support/tasks/latency.ts';
import { experimentTarget } from '../support/tasks/traffic.ts';
import type { UatWorld } from '../support/world.ts';

When('{int} virtual users send {int} market snapshots to the {string} experiment', function (this: UatWorld, vus: number, requests: number, experiment: string) {
  return runShortLoad(this, experimentTarget(experiment), vus, requests);
});

Then('the 95th percentile latency is below {float} milliseconds', function (this: UatWorld, thresholdMs: number) {
  return checkP95Below(this, thresholdMs);
});

Then('none of the {int} requests fails', function (this: UatWorld, requests: number) {
  return checkNoFailedRequests(this, requests);
});
