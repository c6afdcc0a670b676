import { Then, When } from '@cucumber/cucumber';
import { checkConcurrentUsersAnswered, checkErrorRatio, checkLatencyDoesNotDrift, checkMemoryDoesNotGrow, checkNoFailedRequests, checkP95Below, checkPrometheusP95Agrees, checkRateSustained, runProfile, runShortLoad } from '../support/tasks/latency.ts';
import { experimentTarget } from '../support/tasks/traffic.ts';
import type { UatWorld } from '../support/world.ts';
import { requireNamed } from '../support/feature-input.ts';

When('{int} virtual users send {int} market snapshots to the {string} experiment', function (this: UatWorld, vus: number, requests: number, experiment: string) {
  requireNamed(this, 'Experiment', experiment);
  return runShortLoad(this, experimentTarget(experiment), vus, requests);
});

When('market snapshots arrive at the {string} experiment at {int} requests per second for {int} seconds', async function (this: UatWorld, experiment: string, rate: number, seconds: number) {
  requireNamed(this, 'Experiment', experiment);
  await runProfile(this, 'sustained-experiment', experimentTarget(experiment), { rate, duration: `${seconds}s` });
});

When('{int} users send market snapshots to the {string} experiment at once for {int} seconds', async function (this: UatWorld, users: number, experiment: string, seconds: number) {
  requireNamed(this, 'Experiment', experiment);
  await runProfile(this, 'concurrent-users', experimentTarget(experiment), { vus: users, duration: `${seconds}s` });
});

// the soak runs for minutes
When('the {string} load profile runs against the {string} experiment for {int} minutes', { timeout: 120 * 60_000 }, async function (this: UatWorld, profile: string, experiment: string, minutes: number) {
  requireNamed(this, 'Experiment', experiment);
  await runProfile(this, profile, experimentTarget(experiment), { duration: `${minutes}m` });
});

Then('the 95th percentile latency rises by less than {float} milliseconds over the run', function (this: UatWorld, ms: number) {
  return checkLatencyDoesNotDrift(this, ms);
});

Then("the inference servers' memory grows by less than {float} % over the run", function (this: UatWorld, percent: number) {
  return checkMemoryDoesNotGrow(this, percent);
});

Then('the 95th percentile latency is below {float} milliseconds', function (this: UatWorld, thresholdMs: number) {
  return checkP95Below(this, thresholdMs);
});

Then('none of the {int} requests fails', function (this: UatWorld, requests: number) {
  return checkNoFailedRequests(this, requests);
});

Then('the load engine sent {int} requests per second for {int} seconds, none dropped', function (this: UatWorld, rate: number, seconds: number) {
  return checkRateSustained(this, rate, seconds);
});

Then('less than {float} % of the requests fail', function (this: UatWorld, percent: number) {
  return checkErrorRatio(this, percent);
});

Then('all {int} users are answered at once and none of their requests fails', function (this: UatWorld, users: number) {
  return checkConcurrentUsersAnswered(this, users);
});

Then("the platform's own P95 latency in Prometheus agrees with the load engine's within one bucket of its histogram", function (this: UatWorld) {
  return checkPrometheusP95Agrees(this);
});
