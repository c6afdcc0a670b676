/**
 * The bandit controller program (bandit/main.ts) against the embedded stack serving the A/B and
 * MAB folders, with its state in a real PostgreSQL: it starts from the Experiment's weights and
 * annotations, learns from feedback, writes the weights into the Experiment every `update-every`
 * rewards (and the stack splits by them), answers bad feedback with a 4xx and an error body,
 * exports Seldon's feedback counters, resumes from its stored posteriors after a restart, gives an
 * arm that does not answer weight 0, and refuses an Experiment whose bandit annotations are wrong,
 * naming the annotation. Its two deliberate defects (uniform, never-patch) do what they say.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { featuresRequest, OipClient, routedModel } from '../support/clients/oip-client.ts';
import { PROJECT_ROOT } from '../support/config.ts';
import { providePostgres, type Database } from '../support/db/postgres-provider.ts';
import { waitFor } from '../support/wait.ts';
import { launchBandit, StackStartError, type StackProcess } from '../support/targets/stack-process.ts';
import { startStack, tempDir, trainedForTests } from './helpers.ts';

const store = tempDir('bandit-store');
const bad = tempDir('bandit-bad');
let db: Database;
let stack: StackProcess;
let row: number[];
const ARMS = ['baseline-predictor', 'enhanced-predictor', 'ensemble-predictor', 'decision-tree-predictor'];

before(async () => {
  const { predictors, heldOut } = trainedForTests();
  row = heldOut[0].features;
  for (const p of predictors) {
    fs.mkdirSync(path.join(store, 'predictors', p.spec.name), { recursive: true });
    fs.writeFileSync(path.join(store, 'predictors', p.spec.name, ARTIFACT_FILE), JSON.stringify(p.artifact));
  }
  fs.writeFileSync(
    path.join(bad, 'experiment.yaml'),
    'apiVersion: mlops.seldon.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: bad-bandit\n  annotations:\n    bandit.financial-mlops-uat/floor-percent: "40"\nspec:\n  candidates:\n    - name: baseline-predictor\n      weight: 50\n    - name: enhanced-predictor\n      weight: 25\n    - name: ensemble-predictor\n      weight: 25\n',
  );
  db = await providePostgres({ keep: false, log: () => undefined });
  stack = await startStack(['--manifests', path.join(PROJECT_ROOT, 'k8s', 'ab-testing'), '--manifests', path.join(PROJECT_ROOT, 'k8s', 'mab'), '--manifests', bad, '--storage-map', `gs://financial-mlops-models/=${store}`, '--seed', '42']);
});
after(async () => {
  await stack?.stop();
  await db?.stop();
  fs.rmSync(store, { recursive: true, force: true });
  fs.rmSync(bad, { recursive: true, force: true });
});

async function controller(args: string[] = []): Promise<StackProcess> {
  return launchBandit({ args: ['--stack-url', stack.url, '--seed', '42', ...args], env: { ...process.env, BANDIT_DB_URL: db.url } });
}

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function experimentWeights(name = 'financial-mab-experiment'): Promise<Record<string, number>> {
  const res = await fetch(`${stack.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/experiments/${name}`);
  const experiment = (await res.json()) as { spec: { candidates: { name: string; weight: number }[] } };
  return Object.fromEntries(experiment.spec.candidates.map((c) => [c.name, c.weight]));
}

/** 100 rewards (twice the manifest's update-every): the enhanced predictor earns, the others lose. */
async function rewardEnhanced(url: string): Promise<Record<string, unknown>[]> {
  const answers = [];
  for (let i = 0; i < 100; i++) {
    const model = ARMS[i % 4];
    answers.push((await post(`${url}/feedback`, { model, reward: model === 'enhanced-predictor' ? 50 + (i % 7) : -50 - (i % 5) })).body);
  }
  return answers;
}

test('the controller starts from the Experiment, and every update-every rewards writes the weights the posteriors give; the stack splits by them; a restart resumes from PostgreSQL', { timeout: 60_000 }, async () => {
  let bandit = await controller(['--fresh']);
  try {
    assert.deepEqual(bandit.ready.arms, ARMS);
    assert.deepEqual(bandit.ready.resumed, { updates: 0, rewards: 0, rewardsSinceUpdate: 0 });
    assert.deepEqual(await experimentWeights(), { 'baseline-predictor': 40, 'enhanced-predictor': 30, 'ensemble-predictor': 20, 'decision-tree-predictor': 10 });
    const answers = await rewardEnhanced(bandit.url);
    assert.deepEqual(answers.map((a, i) => [i, a.updated]).filter(([, u]) => u !== null), [[49, 1], [99, 2]], 'an update at the 50th and at the 100th reward, none between');
    const weights: Record<string, number> = await experimentWeights();
    // P(enhanced is best) is ~1: every other arm keeps the 2 % floor
    assert.deepEqual(weights, { 'baseline-predictor': 2, 'enhanced-predictor': 94, 'ensemble-predictor': 2, 'decision-tree-predictor': 2 });
    const state = (await (await fetch(`${bandit.url}/state`)).json()) as { updates: number; arms: { name: string; rewards: number; weight: number; probabilityBest: number }[] };
    assert.equal(state.updates, 2);
    assert.deepEqual(state.arms.map((a) => [a.name, a.rewards, a.weight]), ARMS.map((a) => [a, 25, (weights as Record<string, number>)[a]]));
    assert.ok(state.arms[1].probabilityBest > 0.99, String(state.arms[1].probabilityBest));
    // the stack routes the experiment's traffic by the new weights
    const oip = new OipClient(stack.url);
    const routes: string[] = [];
    for (let i = 0; i < 200; i++) routes.push(routedModel((await oip.infer('financial-mab-experiment.experiment', featuresRequest([row]))).route) ?? 'none');
    assert.ok(routes.filter((r) => r === 'enhanced-predictor').length > 170, `enhanced got ${routes.filter((r) => r === 'enhanced-predictor').length} of 200`);
    // Seldon's feedback counters
    const metrics = await (await fetch(`${bandit.url}/metrics`)).text();
    assert.match(metrics, /seldon_api_model_feedback_total\{model="enhanced-predictor"\} 25/);
    assert.match(metrics, /seldon_api_model_feedback_reward_total\{model="enhanced-predictor"\} 1\d\d\d/);
    assert.match(metrics, /financial_mlops_bandit_weight_percent\{experiment="financial-mab-experiment",model="enhanced-predictor"\} 94/);
    // the cumulative regret the rewards show: each arm's 25 rewards times its mean's distance below enhanced's
    const sums = ARMS.map((arm) => Array.from({ length: 100 }, (_, i) => i).filter((i) => ARMS[i % 4] === arm).reduce((a, i) => a + (arm === 'enhanced-predictor' ? 50 + (i % 7) : -50 - (i % 5)), 0));
    const regret = sums.reduce((a, sum) => a + (sums[1] - sum), 0);
    const shown = Number(/^financial_mlops_bandit_estimated_regret\{experiment="financial-mab-experiment"\} (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(Math.abs(shown - regret) < 1e-6 && regret > 2500, `metric ${shown}, by hand ${regret}`);
    // both writes confirmed by the stack's status (it serves a change as it takes it)
    assert.match(metrics, /financial_mlops_bandit_apply_seconds_count\{experiment="financial-mab-experiment"\} 2/);
    assert.doesNotMatch(metrics, /financial_mlops_bandit_apply_unconfirmed_total\{[^}]*\} [1-9]/);
    await bandit.stop();
    // a restart: the posteriors and the update count come back from PostgreSQL
    bandit = await controller();
    assert.deepEqual(bandit.ready.resumed, { updates: 2, rewards: 100, rewardsSinceUpdate: 0 });
    const resumed = (await (await fetch(`${bandit.url}/state`)).json()) as typeof state;
    assert.deepEqual(resumed.arms.map((a) => [a.name, a.rewards, a.weight]), state.arms.map((a) => [a.name, a.rewards, a.weight]));
    const next = (await post(`${bandit.url}/update`, {})).body as { update: number; weights: Record<string, number>; applied?: object };
    assert.equal(next.update, 3, 'learning continues from the stored update count');
    assert.ok(next.applied && 'observedAfterMs' in next.applied, JSON.stringify(next.applied));
    assert.equal(next.weights['enhanced-predictor'], 94);
  } finally {
    await bandit.stop();
  }
});

test('feedback by the answer\'s route; malformed feedback is a 400, an arm that is not a candidate a 404, each with an error body', { timeout: 30_000 }, async () => {
  const bandit = await controller(['--fresh']);
  try {
    assert.deepEqual((await post(`${bandit.url}/feedback`, { route: ':enhanced-predictor_1:', reward: 3.5 })).body, { model: 'enhanced-predictor', rewardsSinceUpdate: 1, updated: null });
    const cases: [unknown, number, RegExp][] = [
      ['not json', 400, /feedback is not JSON/],
      [{ model: 'enhanced-predictor', reward: 'high' }, 400, /feedback must be .*reward/],
      [{ model: 'enhanced-predictor' }, 400, /feedback must be/],
      [{ route: ':nothing:', reward: 1 }, 400, /route ':nothing:' names no model/],
      [{ model: 'no-such-predictor', reward: 1 }, 404, /'no-such-predictor' is not a candidate of Experiment financial-mab-experiment \(candidates: baseline-predictor, enhanced-predictor/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await post(`${bandit.url}/feedback`, body);
      assert.equal(answer.status, status, JSON.stringify(body));
      assert.match(String(answer.body.error), message);
    }
    assert.equal(((await (await fetch(`${bandit.url}/state`)).json()) as { rewardsSinceUpdate: number }).rewardsSinceUpdate, 1, 'nothing was counted from the bad ones');
    // a reset starts the experiment over in the same process: no rewards, no updates, the Experiment's weights
    assert.equal((await post(`${bandit.url}/reset`, { seed: 'x' })).status, 400);
    const reset = (await post(`${bandit.url}/reset`, { seed: 7 })).body as { updates: number; rewardsSinceUpdate: number; arms: { rewards: number; weight: number }[] };
    assert.deepEqual([reset.updates, reset.rewardsSinceUpdate, reset.arms.map((a) => a.rewards)], [0, 0, [0, 0, 0, 0]]);
    assert.deepEqual(reset.arms.map((a) => a.weight), Object.values(await experimentWeights()));
  } finally {
    await bandit.stop();
  }
});

test('an arm that does not answer its readiness probe gets weight 0 and leaves the candidates at the next update, and the probe brings it back once it answers', { timeout: 30_000 }, async () => {
  // the decision tree's Model is taken away (as when its server is gone), then brought back
  const api = `${stack.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/models`;
  const tree = (await (await fetch(`${api}/decision-tree-predictor`)).json()) as { apiVersion: string; kind: string; metadata: { name: string }; spec: unknown };
  assert.equal((await fetch(`${api}/decision-tree-predictor`, { method: 'DELETE' })).status, 200);
  const bandit = await controller(['--fresh']);
  const candidates = async () => ((await (await fetch(`${stack.url}/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/experiments/financial-mab-experiment`)).json()) as { spec: { candidates: { name: string; weight: number }[] } }).spec.candidates;
  try {
    const update = (await post(`${bandit.url}/update`, {})).body as { weights: Record<string, number>; answering: Record<string, boolean> };
    assert.equal(update.answering['decision-tree-predictor'], false);
    assert.equal(update.weights['decision-tree-predictor'], 0);
    assert.equal(Object.values(update.weights).reduce((a, b) => a + b, 0), 100);
    // Seldon serves no split while a listed candidate is unavailable: it is taken out, the default stays
    assert.deepEqual((await candidates()).map((c) => c.name), ['baseline-predictor', 'enhanced-predictor', 'ensemble-predictor']);
    // no reward comes in: the readiness probe (probe-seconds 2 in k8s/mab) updates on its own once the arm answers
    const back = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: tree.apiVersion, kind: tree.kind, metadata: { name: tree.metadata.name }, spec: tree.spec }) });
    assert.equal(back.status, 201);
    const started = Date.now();
    await waitFor('the decision tree back among the candidates', 6000, async () => ((await candidates()).length === 4 ? true : undefined), 100);
    assert.ok(Date.now() - started < 4000, `back after ${Date.now() - started} ms (probe every 2 s)`);
    assert.deepEqual((await candidates()).map((c) => c.name), ARMS);
    // (the probe may also have taken the tree out on its own before the update by hand)
    // the probe's update ends once its weights are stored, a moment after the stack serves them
    type State = { arms: { name: string; weight: number }[]; lastUpdate: { answering: Record<string, boolean> } };
    const state = await waitFor('the probe\'s update recorded', 2000, async () => {
      const now = (await (await fetch(`${bandit.url}/state`)).json()) as State;
      return now.lastUpdate.answering['decision-tree-predictor'] ? now : undefined;
    }, 50);
    assert.ok(state.arms.find((a) => a.name === 'decision-tree-predictor')!.weight >= 2, 'back with at least the floor');
  } finally {
    await bandit.stop();
  }
});

test('an Experiment whose bandit annotations are wrong is refused, naming the annotation', { timeout: 30_000 }, async () => {
  await assert.rejects(controller(['--experiment', 'bad-bandit']), (error: unknown) => {
    assert.ok(error instanceof StackStartError);
    assert.equal(error.exitCode, 2);
    assert.match(error.stderr, /annotation bandit\.financial-mlops-uat\/floor-percent: 40 % for each of 3 arms exceeds 100 %/);
    return true;
  });
});

test('the deliberate defects: uniform splits evenly whatever the rewards; never-patch leaves the Experiment as it was', { timeout: 60_000 }, async () => {
  let bandit = await controller(['--fresh', '--fault', 'uniform']);
  try {
    await rewardEnhanced(bandit.url);
    assert.deepEqual(await experimentWeights(), { 'baseline-predictor': 25, 'enhanced-predictor': 25, 'ensemble-predictor': 25, 'decision-tree-predictor': 25 });
  } finally {
    await bandit.stop();
  }
  bandit = await controller(['--fresh', '--fault', 'never-patch']);
  try {
    await rewardEnhanced(bandit.url);
    assert.deepEqual(await experimentWeights(), { 'baseline-predictor': 25, 'enhanced-predictor': 25, 'ensemble-predictor': 25, 'decision-tree-predictor': 25 }, 'unchanged since the last patch');
    assert.equal(((await (await fetch(`${bandit.url}/state`)).json()) as { updates: number }).updates, 2, 'it computed its updates');
  } finally {
    await bandit.stop();
  }
});
