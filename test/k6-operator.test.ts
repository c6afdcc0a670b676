/**
 * Distributed load with the k6 operator (support/load/k6-operator.ts): the ConfigMap and TestRun of
 * every profile; the TestRun applied with server-side dry run to the real local kube-apiserver
 * against a CRD typed as the operator's (k6.io/v1alpha1 TestRun: spec.parallelism an integer,
 * spec.script required, script.configMap.name required, status.stage one of the operator's stages);
 * the stage followed through the status subresource; the runners' summaries read from their logs
 * and merged, on the real k6 summaries of the conformance folder.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiextensionsV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { PROJECT_ROOT } from '../support/config.ts';
import { apiErrorMessage } from '../support/k8s/api-error.ts';
import { followStage, mergeRunnerSummaries, OPERATOR_INSTALL, runDistributedLoad, parallelismFrom, STAGES, SUMMARY_BEGIN, SUMMARY_END, summariesFromLogs, testRunObjects } from '../support/load/k6-operator.ts';
import { fromK6Summary } from '../support/load/k6-runner.ts';
import { loadProfile, profileNames, type LoadProfile } from '../support/load/profile.ts';
import { FIELD_MANAGER } from '../support/targets/kubernetes-deploy.ts';
import type { LocalCluster } from '../support/cluster/local-cluster.ts';
import { clusterWithCrds, NO_CLUSTER } from './cluster-helpers.ts';
import { referenceDir, SKIP_NO_REFERENCE } from './helpers.ts';

const REFERENCE = referenceDir();
const SUMMARIES = path.join(REFERENCE ?? '', 'conformance', 'k6-summaries');
const NO_SUMMARIES = REFERENCE ? false : SKIP_NO_REFERENCE;

const TARGET = { url: 'http://seldon-mesh.seldon-mesh.svc.cluster.local/v2/models/financial-ab-test/infer', headers: { 'content-type': 'application/json', 'seldon-model': 'financial-ab-test.experiment' }, bodies: ['{"inputs":[1]}', '{"inputs":[2]}'] };

test('every profile becomes a ConfigMap holding the k6 script and the payloads, and a TestRun with N runners reading them', () => {
  for (const name of profileNames()) {
    const profile = loadProfile(name);
    const [configMap, testRun] = testRunObjects(profile, TARGET, { name: `load-${name}`, namespace: 'seldon-mesh', parallelism: 3 });
    assert.equal(configMap.data['load-test.ts'], fs.readFileSync(path.join(PROJECT_ROOT, 'scenarios', 'load-test.ts'), 'utf8'));
    assert.deepEqual(JSON.parse(configMap.data['payloads.json']), [{ inputs: [1] }, { inputs: [2] }]);
    assert.equal(testRun.apiVersion, 'k6.io/v1alpha1');
    assert.equal(testRun.spec.parallelism, 3);
    assert.deepEqual(testRun.spec.script, { configMap: { name: `load-${name}`, file: 'load-test.ts' } });
    const env = Object.fromEntries((testRun.spec.runner as { env: { name: string; value: string }[] }).env.map((e) => [e.name, e.value]));
    assert.deepEqual(JSON.parse(env.K6_OPTIONS).scenarios[name.replace(/-/g, '_')], profile.scenario);
    assert.deepEqual(JSON.parse(env.K6_OPTIONS).thresholds, profile.thresholds);
    assert.equal(env.TARGET_URL, TARGET.url);
    assert.equal(env.SELDON_MODEL, 'financial-ab-test.experiment');
    assert.equal(env.PAYLOADS, '/test/payloads.json', 'the operator mounts the ConfigMap at /test');
    assert.equal(env.SUMMARY_STDOUT, '1');
  }
  assert.throws(() => testRunObjects(loadProfile('burst-experiment'), TARGET, { name: 'x', namespace: 'y', parallelism: 0 }), /parallelism must be a whole number/);
  assert.equal(parallelismFrom({}), 2);
  assert.equal(parallelismFrom({ UAT_K6_PARALLELISM: '4' }), 4);
  assert.throws(() => parallelismFrom({ UAT_K6_PARALLELISM: 'two' }), /UAT_K6_PARALLELISM: a whole number of runners from 1 to 100, not 'two'/);
});

test('the script prints its summary between the markers the harness reads', () => {
  const script = fs.readFileSync(path.join(PROJECT_ROOT, 'scenarios', 'load-test.ts'), 'utf8');
  assert.ok(script.includes(`'${SUMMARY_BEGIN}'`) && script.includes(`'${SUMMARY_END}'`));
  const logs = [
    { pod: 'r-1', log: `running\n${SUMMARY_BEGIN}\n{"metrics":{}}\n${SUMMARY_END}\n` },
    { pod: 'r-2', log: 'k6 crashed: out of memory\n' },
  ];
  assert.deepEqual(summariesFromLogs(logs.slice(0, 1)), [{ pod: 'r-1', summary: { metrics: {} } }]);
  assert.throws(() => summariesFromLogs(logs), /runner pod r-2 printed no end-of-test summary \(its log ends: k6 crashed: out of memory\)/);
});

describe('merging the runners\' summaries', { skip: NO_SUMMARIES }, () => {
  const read = (file: string, profile: LoadProfile) => fromK6Summary(JSON.parse(fs.readFileSync(path.join(SUMMARIES, file), 'utf8')), file, profile);
  const profile: LoadProfile = { ...loadProfile('sustained-experiment'), thresholds: { http_req_duration: ['p(95)<40', 'p(95)<50'], http_reqs: ['count>1000'] } };

  test('two real summaries: counts summed, mean weighted by requests, extremes kept, each percentile the larger (an upper bound), thresholds on the merge', () => {
    const a = read('k6-reporter_simple.handleSummary.json', profile);
    const b = read('k6-html-reporter_export.handleSummary.json', profile);
    const merged = mergeRunnerSummaries([a, b], profile);
    const da = a.metrics.http_req_duration.values;
    const db = b.metrics.http_req_duration.values;
    const m = merged.metrics;
    assert.equal(m.http_reqs.values.count, 878 + 149);
    assert.ok(Math.abs(m.http_req_duration.values.avg - (da.avg * 878 + db.avg * 149) / 1027) < 1e-9);
    assert.equal(m.http_req_duration.values.min, Math.min(da.min, db.min));
    assert.equal(m.http_req_duration.values.max, Math.max(da.max, db.max));
    assert.equal(m.http_req_duration.values['p(95)'], Math.max(da['p(95)'], db['p(95)']));
    assert.equal(m.http_req_duration.values['p(90)'], Math.max(da['p(90)'], db['p(90)']));
    // one runner reported no p(99): the merge has no bound for it
    assert.equal(m.http_req_duration.values['p(99)'], undefined);
    // checks: passes and fails summed, the rate recomputed
    const checks = [a, b].map((s) => s.metrics.checks.values);
    assert.equal(m.checks.values.passes, checks[0].passes + checks[1].passes);
    assert.equal(m.checks.values.rate, (checks[0].passes + checks[1].passes) / (checks[0].passes + checks[0].fails + checks[1].passes + checks[1].fails));
    // the upper bound, 44.55 ms, holds under 50 but not under 40
    assert.deepEqual(m.http_req_duration.thresholds, { 'p(95)<40': { ok: false }, 'p(95)<50': { ok: true } });
    assert.deepEqual(m.http_reqs.thresholds, { 'count>1000': { ok: true } });
    assert.match(merged.note, /merged from 2 k6 operator runners.*upper bound/);
    assert.equal(merged.runners.length, 2);
  });

  test('a hand-computed case: two runners of 100 and 300 requests', () => {
    const runner = (count: number, avg: number, p95: number, failed: number) => ({
      ...read('k6-reporter_simple.handleSummary.json', profile),
      state: { testRunDurationMs: 10_000 },
      metrics: {
        http_reqs: { type: 'counter' as const, contains: 'default' as const, values: { count, rate: count / 10 } },
        http_req_failed: { type: 'rate' as const, contains: 'default' as const, values: { passes: failed, fails: count - failed, rate: failed / count } },
        http_req_duration: { type: 'trend' as const, contains: 'time' as const, values: { avg, min: 1, max: 2 * p95, med: avg, 'p(90)': p95 - 1, 'p(95)': p95, 'p(99)': p95 + 1 } },
        vus_max: { type: 'gauge' as const, contains: 'default' as const, values: { value: 10, min: 10, max: 10 } },
      },
    });
    const merged = mergeRunnerSummaries([runner(100, 10, 20, 1), runner(300, 30, 60, 3)], { ...profile, thresholds: { http_req_failed: ['rate<0.01'] } });
    assert.deepEqual(merged.metrics.http_reqs.values, { count: 400, rate: 40 });
    assert.deepEqual(merged.metrics.http_req_failed.values, { passes: 4, fails: 396, rate: 0.01 });
    assert.equal(merged.metrics.http_req_duration.values.avg, 25);
    assert.equal(merged.metrics.http_req_duration.values['p(95)'], 60);
    assert.equal(merged.metrics.vus_max.values.value, 20);
    assert.deepEqual(merged.failedThresholds, ['http_req_failed: rate<0.01 (measured 0.01)']);
    // a percentile lies between the runners' 20 and 60 ms: a threshold passes only when it holds on all of that
    const bounded = mergeRunnerSummaries([runner(100, 10, 20, 1), runner(300, 30, 60, 3)], { ...profile, thresholds: { http_req_duration: ['p(95)<70', 'p(95)<50', 'p(95)>10', 'p(95)>30', 'p(95)!=40', 'p(95)!=80'] } });
    assert.deepEqual(bounded.metrics.http_req_duration.thresholds, {
      'p(95)<70': { ok: true },
      'p(95)<50': { ok: false }, // the largest runner's 60
      'p(95)>10': { ok: true },
      'p(95)>30': { ok: false }, // the smallest runner's 20: the whole may be below 30
      'p(95)!=40': { ok: false }, // 40 lies between the bounds
      'p(95)!=80': { ok: true },
    });
    assert.ok(bounded.failedThresholds.includes('http_req_duration: p(95)>30 (measured 20)'), bounded.failedThresholds.join('; '));
  });
});

test('more runners than the profile has virtual users is refused, naming both', () => {
  const profile = loadProfile('burst-experiment');
  assert.throws(() => testRunObjects({ ...profile, scenario: { ...profile.scenario, vus: 3 } as LoadProfile['scenario'] }, TARGET, { name: 'x', namespace: 'y', parallelism: 4 }), /parallelism 4 is more runners than profile burst-experiment has virtual users \(3\): each runner needs at least one; lower UAT_K6_PARALLELISM/);
  assert.doesNotThrow(() => testRunObjects({ ...profile, scenario: { ...profile.scenario, vus: 3 } as LoadProfile['scenario'] }, TARGET, { name: 'x', namespace: 'y', parallelism: 3 }));
});

test('the stage is followed to finished; error and a timeout are named', async () => {
  const seen: string[] = [];
  const stages = ['initialization', 'initialized', 'created', 'started', 'started', 'stopped', 'finished'];
  await followStage(async () => stages.shift(), 10_000, 1, (s) => seen.push(s));
  assert.deepEqual(seen, ['initialization', 'initialized', 'created', 'started', 'stopped', 'finished']);
  await assert.rejects(followStage(async () => 'error', 10_000, 1), /reached stage error/);
  await assert.rejects(followStage(async () => 'started', 30, 5), /did not finish within 0 s \(last stage: started\)/);
});

/** A CRD typed as the operator's for what the harness sets (the operator's own CRD is installed on a real cluster). */
const TESTRUN_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'testruns.k6.io' },
  spec: {
    group: 'k6.io',
    names: { kind: 'TestRun', listKind: 'TestRunList', plural: 'testruns', singular: 'testrun' },
    scope: 'Namespaced',
    versions: [{
      name: 'v1alpha1',
      served: true,
      storage: true,
      subresources: { status: {} },
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              required: ['parallelism', 'script'],
              'x-kubernetes-preserve-unknown-fields': true,
              properties: {
                parallelism: { type: 'integer', format: 'int32' },
                arguments: { type: 'string' },
                separate: { type: 'boolean' },
                script: { type: 'object', properties: { configMap: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, file: { type: 'string' } } } } },
                runner: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { image: { type: 'string' }, env: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, value: { type: 'string' } } } } } },
              },
            },
            status: { type: 'object', properties: { stage: { type: 'string', enum: [...STAGES] }, testRunId: { type: 'string' } } },
          },
        },
      },
    }],
  },
};

describe('the TestRun on the real local API server', { skip: NO_CLUSTER }, () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  const namespace = 'load-test';
  let withoutOperator: Error | undefined;
  before(async () => {
    ({ cluster, kc } = await clusterWithCrds(namespace));
    // before the operator's CRD is there: found out through API discovery, which any identity may read
    withoutOperator = await runDistributedLoad(kc, loadProfile('burst-experiment'), TARGET, { name: 'x', namespace, parallelism: 2, timeoutMs: 1000 }).then(() => undefined, (error: Error) => error);
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: TESTRUN_CRD });
    // a CRD serves once it is established
    for (let i = 0; i < 100; i++) {
      const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'testruns.k6.io' });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  after(async () => cluster?.stop());

  test('a cluster without the k6 operator is named as such, with how to install it, before anything is created', () => {
    assert.equal(withoutOperator?.message, `${OPERATOR_INSTALL} (the API server serves no k6.io/v1alpha1 testruns)`);
  });

  test('every profile\'s TestRun and ConfigMap are accepted by a server-side dry run; a TestRun with a bad field is refused naming it', async () => {
    const api = KubernetesObjectApi.makeApiClient(kc);
    for (const name of profileNames()) {
      for (const o of testRunObjects(loadProfile(name), TARGET, { name: `load-${name}`, namespace, parallelism: 4 })) {
        await api.patch(o, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      }
    }
    const [, testRun] = testRunObjects(loadProfile('burst-experiment'), TARGET, { name: 'bad', namespace, parallelism: 2 });
    const refused = await api.patch({ ...testRun, spec: { ...testRun.spec, parallelism: 'two' } }, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply).then(() => 'accepted', apiErrorMessage);
    assert.match(refused, /spec\.parallelism/);
    const noScript = await api.patch({ ...testRun, spec: { parallelism: 2 } }, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply).then(() => 'accepted', apiErrorMessage);
    assert.match(noScript, /spec\.script: Required value/);
  });

  test('the stage is read from the TestRun\'s status as the operator moves it', async () => {
    const api = KubernetesObjectApi.makeApiClient(kc);
    const [, testRun] = testRunObjects(loadProfile('burst-experiment'), TARGET, { name: 'followed', namespace, parallelism: 2 });
    await api.patch(testRun, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    const ref = { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 'followed', namespace } };
    const read = async () => ((await api.read(ref)) as { status?: { stage?: string } }).status?.stage;
    const seen: string[] = [];
    const following = followStage(read, 20_000, 20, (s) => seen.push(s));
    // the operator's part, played through the status subresource
    for (const stage of ['initialization', 'created', 'started', 'finished']) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus({ group: 'k6.io', version: 'v1alpha1', namespace, plural: 'testruns', name: 'followed', body: { status: { stage } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }
    await following;
    assert.deepEqual(seen, ['initialization', 'created', 'started', 'finished']);
  });
});
