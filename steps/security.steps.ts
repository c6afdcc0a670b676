import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { checkDashboardRecovers, checkStoreOutageLabelled, checkStoreRecovers, killPart, recordStoreBefore, restartPart } from '../support/tasks/fault-drills.ts';
import { checkDatabaseAuthentication, checkAccessMatrix, checkManifestPolicy, checkNoCredentialInOutput, checkPolicyViolations, useAccessMatrix } from '../support/tasks/access-control.ts';
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

When('every manifest under k8s\\/ is checked against the security policy', function (this: UatWorld) {
  checkManifestPolicy(this);
});

Then('no manifest breaks a rule of the policy', function (this: UatWorld) {
  return checkPolicyViolations(this);
});

Given("the platform's identities on the Kubernetes API server of the target", async function (this: UatWorld) {
  const api = await this.target.kubernetesApi();
  if ('problem' in api) throw new Error(`no Kubernetes API server to prove the access matrix on: ${api.problem}`);
});

When('the API server is asked about each line of this access matrix', function (this: UatWorld, table: DataTable) {
  return useAccessMatrix(this, table.hashes());
});

Then("the API server answers every line as declared, to an access review and to the request made with the identity's own token", function (this: UatWorld) {
  return checkAccessMatrix(this);
});

Then('the MLflow database asks for SCRAM-SHA-256 authentication, never a password in clear', function (this: UatWorld) {
  return checkDatabaseAuthentication(this);
});

Then("no file under the run's reports holds a credential of the run, nor does any process's command line", function (this: UatWorld) {
  return checkNoCredentialInOutput(this);
});

When('the dashboard process is killed', function (this: UatWorld) {
  return killPart(this, 'dashboard');
});

Then('the target reports the dashboard down within {int} second(s), naming how it died, and once started again the dashboard serves live figures within {int} seconds of the kill', function (this: UatWorld, reportS: number, serveS: number) {
  return checkDashboardRecovers(this, reportS, serveS);
});

Given("the MLflow store holds this run's predictors", function (this: UatWorld) {
  return recordStoreBefore(this);
});

When('the MLflow database is killed', function (this: UatWorld) {
  return killPart(this, 'database');
});

Then("within {int} seconds the harness's reads of the MLflow store fail with the cause, and the dashboard shows every accuracy as unavailable, naming the store", function (this: UatWorld, seconds: number) {
  return checkStoreOutageLabelled(this, seconds);
});

When('the MLflow database is started again', function (this: UatWorld) {
  return restartPart(this, 'database');
});

Then('within {int} seconds the harness and the dashboard read the MLflow store again, every run logged before the kill still there', function (this: UatWorld, seconds: number) {
  return checkStoreRecovers(this, seconds);
});
