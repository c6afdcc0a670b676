/**
 * The dashboard's data and server without a browser: figures and their sources (live, derived,
 * assumption, unavailable, simulated), the ROI arithmetic, the HTTP API's answers to bad input,
 * and the publication charts (titles, axis units, source captions, valid PNG).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createDashboardServer } from '../dashboard/server.ts';
import { renderCharts } from '../support/charts/render-charts.ts';
import { derived, figure } from '../support/evidence/figure.ts';
import type { ServingView } from '../support/metrics/live-metrics.ts';
import { simulatedServing } from '../support/metrics/simulated-serving.ts';
import { dashboardData, type ViewSources } from '../support/views/dashboard-views.ts';
import { readRoiAssumptions } from '../support/report/roi.ts';
import { closedPort, tempDir } from './helpers.ts';

const MODELS = ['baseline-predictor', 'enhanced-predictor'];
const serving: ServingView = {
  source: 'LIVE:prometheus',
  observedAt: new Date(0).toISOString(),
  window: '1m',
  requestsTotal: { 'baseline-predictor': 280, 'enhanced-predictor': 120 },
  requestRate: { 'baseline-predictor': 4, 'enhanced-predictor': 2 },
  errorRatio: 0,
  p95Seconds: 0.012,
  rateSeries: { 'baseline-predictor': [{ time: 1, value: 4 }], 'enhanced-predictor': [{ time: 1, value: 2 }] },
  p95Series: [{ time: 1, value: 0.012 }],
};

function sources(over: Partial<ViewSources> = {}): ViewSources {
  return {
    live: { view: async () => serving },
    store: { latestAccuracies: async () => [
      { model: 'baseline-predictor', runUuid: 'a', accuracy: 0.5, params: {} },
      { model: 'enhanced-predictor', runUuid: 'b', accuracy: 0.6, params: {} },
    ] },
    mlflowExperiment: 'exp',
    experiment: { name: 'financial-ab-test', candidates: [{ name: 'baseline-predictor', weight: 70 }, { name: 'enhanced-predictor', weight: 30 }] },
    models: MODELS,
    bandit: { problem: 'none in this test' },
    audit: { problem: 'none in this test' },
    drift: { problem: 'none in this test' },
    ...over,
  };
}

const byId = (figures: { id: string }[], id: string) => figures.find((f) => f.id === id) as ReturnType<typeof figure>;

test('a derived figure is simulated if any input is, unavailable if any is missing, and names its root sources', () => {
  const live = figure('a', 'a', 2, 'x', 'LIVE:prometheus');
  const assumed = figure('b', 'b', 3, 'x', 'ASSUMPTION');
  const product = derived('p', 'p', 'x', [live, assumed], ([a, b]) => a * b);
  assert.deepEqual([product.value, product.source, product.basis], [6, 'DERIVED', ['LIVE:prometheus', 'ASSUMPTION']]);
  const again = derived('q', 'q', 'x', [product, live], ([p, a]) => p + a);
  assert.deepEqual(again.basis, ['LIVE:prometheus', 'ASSUMPTION'], 'basis is flattened, never "DERIVED"');
  assert.equal(derived('s', 's', 'x', [live, figure('c', 'c', 1, 'x', 'SIMULATED')], ([a]) => a).source, 'SIMULATED');
  const missing = derived('m', 'm', 'x', [live, figure('d', 'missing input', null, 'x', 'LIVE:mlflow-postgres')], ([a]) => a);
  assert.deepEqual([missing.value, missing.source, missing.note], [null, 'UNAVAILABLE', 'needs missing input']);
});

test('business impact: uplift x challenger requests x value, minus the extra serving cost', async () => {
  const { value_per_correct_prediction: v, extra_cost_per_1000_requests: c } = readRoiAssumptions();
  const data = await dashboardData(sources(), '1m');
  const f = data.business.figures;
  const requests = 2 * 60; // enhanced rate x window
  assert.equal(byId(f, 'window-requests:enhanced-predictor').value, requests);
  // rate x window is an estimate, labelled DERIVED with its basis, not a measured count.
  assert.equal(byId(f, 'window-requests:enhanced-predictor').source, 'DERIVED');
  assert.match(byId(f, 'window-requests:enhanced-predictor').note!, /^estimate: request rate × 1m; computed from LIVE:prometheus$/);
  assert.ok(Math.abs(byId(f, 'accuracy-uplift').value! - 0.1) < 1e-12);
  assert.ok(Math.abs(byId(f, 'extra-value').value! - 0.1 * requests * v) < 1e-9);
  assert.ok(Math.abs(byId(f, 'extra-cost').value! - (requests / 1000) * c) < 1e-9);
  assert.ok(Math.abs(byId(f, 'roi').value! - (0.1 * requests * v - (requests / 1000) * c) / ((requests / 1000) * c)) < 1e-9);
  assert.equal(byId(f, 'assumption:value-per-correct').source, 'ASSUMPTION');
  assert.equal(byId(data.ab.figures, 'share:baseline-predictor').value, 0.7);
  assert.equal(byId(data.ab.figures, 'p95-latency').value, 12);
  assert.deepEqual(data.sources, { 'LIVE:mlflow-postgres': 2, 'LIVE:prometheus': 6, DERIVED: 9, ASSUMPTION: 2 });
});

test("the split shows the experiment's candidates only: each one's share of the requests they answered, DERIVED from their counts", async () => {
  const withOther: ServingView = { ...serving, requestsTotal: { ...serving.requestsTotal, 'ensemble-predictor': 600 } };
  const data = await dashboardData(sources({ live: { view: async () => withOther }, models: [...MODELS, 'ensemble-predictor'] }), '1m');
  const share = byId(data.ab.figures, 'share:baseline-predictor');
  // 280 / (280 + 120): the ensemble's 600 requests are no part of the experiment
  assert.deepEqual([share.value, share.source, share.basis], [0.7, 'DERIVED', ['LIVE:prometheus']]);
  assert.match(share.note!, /direct requests included \(Seldon's metrics carry no experiment label\)/);
  assert.equal(data.ab.figures.find((f) => f.id === 'share:ensemble-predictor'), undefined);
  const categories = (name: string, axis: 'xAxis' | 'yAxis'): unknown => (data.ab.charts[name][axis] as { data: string[] }).data;
  assert.deepEqual(categories('split', 'xAxis'), MODELS);
  assert.deepEqual(categories('accuracy', 'yAxis'), [...MODELS, 'ensemble-predictor'], 'a horizontal bar per model, in the filter\'s order');
  // filtered to the challenger, its share still has the baseline's requests as denominator
  const asked: string[][] = [];
  const filtered = await dashboardData(sources({ live: { view: async (_w, m = []) => (asked.push(m), withOther) }, models: [...MODELS, 'ensemble-predictor'] }), '1m', ['enhanced-predictor']);
  assert.equal(byId(filtered.ab.figures, 'share:enhanced-predictor').value, 0.3);
  assert.deepEqual(asked, [['enhanced-predictor'], ['enhanced-predictor', 'baseline-predictor']]);
});

test('an unreachable store leaves accuracy and ROI unavailable, with the cause, never a number', async () => {
  const data = await dashboardData(sources({ store: { latestAccuracies: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); } } }), '1m');
  const accuracy = byId(data.ab.figures, 'accuracy:enhanced-predictor');
  assert.deepEqual([accuracy.value, accuracy.source], [null, 'UNAVAILABLE']);
  assert.match(accuracy.note!, /MLflow store unreachable: connect ECONNREFUSED/);
  assert.equal(byId(data.business.figures, 'roi').source, 'UNAVAILABLE');
});

test('simulated serving figures are labelled SIMULATED and so is everything computed from them', async () => {
  const simulated = { ...simulatedServing('1m', { 'baseline-predictor': 70, 'enhanced-predictor': 30 }, [], 42), note: 'both sources down' };
  const data = await dashboardData(sources({ live: { view: async () => simulated } }), '1m');
  assert.equal(byId(data.ab.figures, 'requests:baseline-predictor').source, 'SIMULATED');
  assert.equal(byId(data.business.figures, 'roi').source, 'SIMULATED');
  assert.equal(byId(data.ab.figures, 'accuracy:baseline-predictor').source, 'LIVE:mlflow-postgres');
});

test('publication charts carry a title, axis units and a source caption; PNGs are real images', async () => {
  const dir = tempDir('charts');
  const charts = renderCharts(await dashboardData(sources(), '1m'), dir);
  assert.deepEqual(charts.map((c) => c.name), ['split', 'accuracy', 'requestRate', 'latency', 'impact']);
  const split = fs.readFileSync(path.join(dir, 'split.svg'), 'utf8');
  assert.match(split, /Traffic split: observed share of the candidates(&#39;|')? requests vs experiment weight/);
  assert.match(split, /share of requests \(%\)/);
  assert.match(split, /Source: LIVE:prometheus/);
  assert.match(fs.readFileSync(path.join(dir, 'latency.svg'), 'utf8'), /P95 latency \(ms\)/);
  const impact = fs.readFileSync(path.join(dir, 'impact.svg'), 'utf8');
  assert.match(impact, /Source: LIVE:mlflow-postgres, LIVE:prometheus, ASSUMPTION/);
  assert.match(impact, /Assumptions: fixtures\/roi-assumptions.yaml/);
  for (const c of charts) assert.deepEqual([...fs.readFileSync(c.png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${c.png} is not a PNG`);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'charts.json'), 'utf8'));
  assert.equal(index.charts.length, 5);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('charts people can read: time axes span the data present, every series in a legend that is never paginated, the caption above the plot, one precision per unit, the drift threshold drawn', async () => {
  const at = Date.parse('2026-11-28T10:00:00Z');
  // a 15-minute window whose data are the last 2 minutes: the axis starts at the first sample
  const view: ServingView = {
    ...serving,
    window: '15m',
    observedAt: new Date(at).toISOString(),
    rateSeries: { 'baseline-predictor': [{ time: at / 1000 - 120, value: 4.123456 }, { time: at / 1000 - 60, value: 3.3333333 }], 'enhanced-predictor': [{ time: at / 1000 - 120, value: 0 }] },
    p95Series: [{ time: at / 1000 - 90, value: 0.0123456 }],
  };
  const data = await dashboardData(sources({ live: { view: async () => view } }), '15m');
  const { requestRate, latency, split, accuracy } = data.ab.charts as Record<string, any>;
  assert.equal(requestRate.xAxis.min, at - 120_000, 'from the first sample, not the window start');
  assert.equal(requestRate.xAxis.max, at);
  assert.deepEqual(requestRate.series.map((s: { name: string }) => s.name), ['baseline-predictor'], 'a model that answered nothing draws no line');
  assert.match(requestRate.title.subtext, /no request in the window, so no line: enhanced-predictor/);
  assert.equal(latency.xAxis.min, at - 120_000, 'both time charts share the span');
  const charts = { ...data.ab.charts, ...data.business.charts } as Record<string, any>;
  for (const [name, option] of Object.entries(charts)) {
    assert.notEqual(option.legend?.type, 'scroll', `${name}: a paginated legend hides series`);
    if (option.series.length > 1 || option.legend) assert.equal(option.legend.type, 'plain', `${name}: its series are named in a legend`);
    const lines = option.title.subtext.split('\n').reduce((n: number, part: string) => n + Math.max(1, Math.ceil(part.length / 130)), 0);
    assert.ok(option.grid.top >= 56 + 16 * lines, `${name}: the plot starts below its ${lines}-line caption`);
  }
  // one precision per unit: percentages to 0.1, rates and milliseconds to 0.01
  assert.deepEqual(requestRate.series[0].data.map((p: number[]) => p[1]), [4.12, 3.33]);
  assert.deepEqual(latency.series[0].data.map((p: number[]) => p[1]), [12.35]);
  assert.deepEqual(split.series[0].data, [70, 30]);
  assert.deepEqual(accuracy.series[0].data, [50, 60]);
  const { driftChart } = await import('../support/charts/chart-options.ts');
  const drift = driftChart([
    { detector: 'ks', offset: 1, at: at - 60_000, pValues: { a: 0.5, b: 0.001 }, threshold: 0.002 },
    { detector: 'ks', offset: 2, at, pValues: { a: 0.4, b: 0.0001 }, threshold: 0.002 },
  ], 'note') as Record<string, any>;
  const threshold = drift.series.find((s: { name: string }) => s.name === 'ks: drift threshold (p < 0.002)');
  assert.ok(threshold, 'the detector\'s threshold is a named line');
  assert.deepEqual(threshold.data, [[at - 60_000, 2.7], [at, 2.7]], '−log10(0.002) across the windows present');
  assert.deepEqual([drift.xAxis.min, drift.xAxis.max], [at - 60_000, at]);
  assert.equal(drift.legend.type, 'plain');
});

let base = '';
let server: ReturnType<typeof createDashboardServer>;
before(async () => {
  server = createDashboardServer({ sources: sources(), refreshSeconds: 5 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('the dashboard API answers bad input with a 400 that says what is allowed', async () => {
  const window = await fetch(`${base}/api/dashboard?window=2m`);
  assert.equal(window.status, 400);
  assert.match((await window.json()).error, /window must be one of 1m, 5m, 15m, 1h, got '2m'/);
  const model = await fetch(`${base}/api/dashboard?models=nope`);
  assert.equal(model.status, 400);
  assert.match((await model.json()).error, /unknown model\(s\) nope; known: baseline-predictor, enhanced-predictor/);
  assert.equal((await fetch(`${base}/api/dashboard`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${base}/nothing-here`)).status, 404);
});

test('the dashboard serves its page, scripts and data', async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html lang="en">/);
  assert.equal((await fetch(`${base}/assets/echarts.min.js`)).status, 200);
  const data = await (await fetch(`${base}/api/dashboard?window=1m&models=enhanced-predictor`)).json();
  assert.deepEqual(data.selected, ['enhanced-predictor']);
  assert.ok(data.ab.figures.every((f: { source: string }) => typeof f.source === 'string'));
  assert.deepEqual(data.ab.charts.split.xAxis.data, ['enhanced-predictor']);
});

test('the dashboard program refuses bad settings with a message naming the flag', async () => {
  const { launchDashboard, StackStartError } = await import('../support/targets/stack-process.ts');
  const refused = async (args: string[]) => {
    try {
      await (await launchDashboard({ args, deadlineMs: 20_000 })).stop();
      return 'started';
    } catch (error) {
      assert.ok(error instanceof StackStartError, String(error));
      return `${error.exitCode}: ${error.stderr}`;
    }
  };
  assert.match(await refused(['--port', 'eighty']), /^2: .*--port must be 0\.\.65535, got 'eighty'/);
  assert.match(await refused(['--port', '0', '--prometheus-url', 'not a url']), /^2: .*--prometheus-url must be a URL/);
  assert.match(await refused(['--port', '0', '--experiment', 'no-such-experiment']), /^2: .*no Experiment 'no-such-experiment'/);
});

test('the dashboard program starts without Prometheus or a database and says so on every figure', async () => {
  const { launchDashboard } = await import('../support/targets/stack-process.ts');
  const dashboard = await launchDashboard({ args: ['--port', '0'], env: { ...process.env, MLFLOW_DB_URL: '' } });
  try {
    const data = await (await fetch(`${dashboard.url}/api/dashboard?window=1m`)).json();
    const accuracy = data.ab.figures.find((f: { id: string }) => f.id === 'accuracy:baseline-predictor');
    assert.deepEqual([accuracy.value, accuracy.source, accuracy.note], [null, 'UNAVAILABLE', 'MLFLOW_DB_URL is not set']);
    const requests = data.ab.figures.find((f: { id: string }) => f.id === 'requests:baseline-predictor');
    assert.equal(requests.source, 'SIMULATED');
    assert.match(requests.note, /no Prometheus configured; stack metrics unreachable: .*showing simulated figures/);
  } finally {
    await dashboard.stop();
  }
});

test('the bandit view shows, per predictor, the weight the controller set, P(best), its rewards and their mean, and the cumulative regret, labelled with the controller as source; without a controller it says why', async () => {
  // the cumulative regret the rewards show: 40 x (31.25 - (-12.5))
  const state = { experiment: 'financial-mab-experiment', strategy: 'thompson-sampling', updates: 3, estimatedRegret: 1750, arms: [
    { name: 'baseline-predictor', rewards: 40, meanReward: -12.5, weight: 2, probabilityBest: 0.001 },
    { name: 'enhanced-predictor', rewards: 260, meanReward: 31.25, weight: 98, probabilityBest: 0.999 },
  ] };
  const controller = http.createServer((req, res) => (req.url === '/state' ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state)) : res.writeHead(404).end()));
  await new Promise<void>((resolve) => controller.listen(0, '127.0.0.1', resolve));
  try {
    const data = await dashboardData(sources({ bandit: { url: `http://127.0.0.1:${(controller.address() as AddressInfo).port}` } }), '5m');
    assert.ok('figures' in data.bandit, JSON.stringify(data.bandit));
    if (!('figures' in data.bandit)) return;
    assert.deepEqual([data.bandit.experiment, data.bandit.strategy, data.bandit.updates], ['financial-mab-experiment', 'thompson-sampling', 3]);
    assert.deepEqual([byId(data.bandit.figures, 'bandit-weight-enhanced-predictor').value, byId(data.bandit.figures, 'bandit-weight-enhanced-predictor').source], [98, 'LIVE:bandit-controller']);
    assert.equal(byId(data.bandit.figures, 'bandit-probability-best-baseline-predictor').value, 0.1);
    assert.deepEqual([byId(data.bandit.figures, 'bandit-rewards-baseline-predictor').value, byId(data.bandit.figures, 'bandit-mean-reward-baseline-predictor').value], [40, -12.5]);
    assert.deepEqual([byId(data.bandit.figures, 'bandit-cumulative-regret').value, byId(data.bandit.figures, 'bandit-cumulative-regret').unit], [1750, 'bp']);
    assert.equal(data.sources['LIVE:bandit-controller'], 9);
  } finally {
    controller.close();
  }
  const none = await dashboardData(sources(), '5m');
  assert.deepEqual(none.bandit, { empty: 'No bandit allocation to show: none in this test.' });
  const gone = await dashboardData(sources({ bandit: { url: `http://127.0.0.1:${await closedPort()}` } }), '5m');
  assert.match('empty' in gone.bandit ? gone.bandit.empty : '', /^The bandit controller at http:\/\/127\.0\.0\.1:\d+ does not answer \(.*\): no allocation to show\.$/);
});
