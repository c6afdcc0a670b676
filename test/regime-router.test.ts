/**
 * The market-regime router's rules (fixtures/regime-router.ts) against the plan's table and its
 * boundaries, its thresholds from a Model's parameters (bad ones named), and the regime
 * predictors fitted on their regime's training days only.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { FEATURE_NAMES } from '../fixtures/market-data.ts';
import { defaultRouterArtifact, loadRouter, routeOf, routerThresholds, RouterConfigError } from '../fixtures/regime-router.ts';
import { DEFAULT_TRAINING, marketDataFor, MIN_REGIME_DAYS, regimeDays } from '../fixtures/train-predictors.ts';
import { tempDir, trainedForTests } from './helpers.ts';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { deploy } from '../stack/deployment.ts';
import { parseManifestDocuments } from '../stack/manifests.ts';

const plan = routerThresholds(defaultRouterArtifact('market-regime-router'));

test("the plan's routing table and its boundaries: volatility first, then the trend; a threshold itself does not cross", () => {
  const table: [number, number, string][] = [
    [0.45, 0, 'robust'],
    [0.31, -0.5, 'robust'],
    [0.3, 0.05, 'aggressive'],
    [0.1, 0.021, 'aggressive'],
    [0.1, 0.02, 'baseline'],
    [0.1, -0.02, 'baseline'],
    [0.1, -0.021, 'conservative'],
    [0, 0, 'baseline'],
  ];
  for (const [volatility, trend, route] of table) assert.equal(routeOf(volatility, trend, plan), route, `volatility ${volatility}, trend ${trend}`);
});

test('every context goes to exactly the regime its first matching rule names (property)', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: -0.5, max: 0.5, noNaN: true }), (volatility, trend) => {
      const route = routeOf(volatility, trend, plan);
      const expected = volatility > 0.3 ? 'robust' : trend > 0.02 ? 'aggressive' : trend < -0.02 ? 'conservative' : 'baseline';
      return route === expected;
    }),
    { seed: 42, numRuns: 2000 },
  );
});

test("a Model's parameters set the thresholds; an unknown, non-numeric or inverted one is refused, naming it", () => {
  const artifact = defaultRouterArtifact('r');
  assert.deepEqual(routerThresholds(artifact, [{ name: 'volatility_threshold', value: '0.25' }]), { volatility_threshold: 0.25, trend_up_threshold: 0.02, trend_down_threshold: -0.02 });
  assert.throws(() => routerThresholds(artifact, [{ name: 'volatility', value: '0.3' }]), (e: unknown) => e instanceof RouterConfigError && /'volatility' is not a parameter of the regime router/.test(e.message));
  assert.throws(() => routerThresholds(artifact, [{ name: 'trend_up_threshold', value: 'high' }]), /'trend_up_threshold' must be a number, got 'high'/);
  assert.throws(() => routerThresholds(artifact, [{ name: 'trend_up_threshold', value: '-0.05' }]), /trend_down_threshold \(-0\.02\) must not be above trend_up_threshold \(-0\.05\)/);
  assert.throws(() => loadRouter({ ...artifact, outputs: { robust: '' } }), /invalid router artifact: field 'outputs/);
});

test('each regime predictor is fitted on its regime\'s training days only, and every regime has enough of them', () => {
  const { predictors, heldOut } = trainedForTests();
  const { train } = marketDataFor({ seed: 42, ...DEFAULT_TRAINING });
  const vol = FEATURE_NAMES.indexOf('vol_20d');
  const trend = FEATURE_NAMES.indexOf('ret_20d');
  for (const regime of ['robust', 'aggressive', 'conservative'] as const) {
    const p = predictors.find((x) => x.spec.name === `${regime}-predictor`);
    assert.ok(p, `${regime}-predictor was trained`);
    assert.equal(p.spec.regime, regime);
    assert.ok(p.metrics.train_rows >= MIN_REGIME_DAYS, `${regime}: ${p.metrics.train_rows} training days`);
    assert.equal(p.metrics.train_rows, regimeDays(train, regime).length, `${regime}-predictor saw its regime's training days, and no others`);
  }
  const days = (regime: 'robust' | 'aggressive' | 'conservative' | 'baseline') => regimeDays(heldOut, regime);
  assert.ok(days('robust').every((r) => r.features[vol] > 0.3));
  assert.ok(days('aggressive').every((r) => r.features[vol] <= 0.3 && r.features[trend] > 0.02));
  assert.ok(days('conservative').every((r) => r.features[vol] <= 0.3 && r.features[trend] < -0.02));
});

test('a router Model whose parameters are wrong is not served: ModelFailed, the reason naming the parameter', () => {
  const store = tempDir('router-store');
  fs.mkdirSync(path.join(store, 'routers', 'r'), { recursive: true });
  fs.writeFileSync(path.join(store, 'routers', 'r', ARTIFACT_FILE), JSON.stringify(defaultRouterArtifact('r')));
  const model = (parameters: string) => parseManifestDocuments(`apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: r\nspec:\n  storageUri: gs://b/routers/r\n  requirements: [mlserver, python]\n  parameters:\n${parameters}`, 'r.yaml');
  const ok = deploy(model('    - name: volatility_threshold\n      value: "0.25"'), [['gs://b/', store]]);
  assert.equal(ok.models[0]?.router?.thresholds.volatility_threshold, 0.25);
  const bad = deploy(model('    - name: volatility\n      value: "0.25"'), [['gs://b/', store]]);
  assert.deepEqual(bad.models, []);
  const ready = bad.resources[0].status.conditions.find((c) => c.type === 'ModelReady');
  assert.equal(ready?.status, 'False');
  assert.match(ready?.reason ?? '', /spec\.parameters: 'volatility' is not a parameter of the regime router/);
  fs.rmSync(store, { recursive: true, force: true });
});
