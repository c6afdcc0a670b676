import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, PROJECT_ROOT } from '../support/config.ts';
import { selectedStacks } from '../support/scope/selection.ts';
import { parseStacks, stacksForTags, STACKS } from '../support/scope/stacks.ts';

test('a run deploys the stacks its selected scenarios need, the A/B testing stack always', async () => {
  assert.deepEqual((await selectedStacks(PROJECT_ROOT, 'security', [], [])).stacks, ['ab-testing'], 'malformed requests go to the A/B stack only');
  assert.deepEqual((await selectedStacks(PROJECT_ROOT, 'performance', [], [])).stacks, ['ab-testing']);
  assert.deepEqual((await selectedStacks(PROJECT_ROOT, 'usability', [], [])).stacks, [...STACKS], 'the dashboard has a view of every stack');
  assert.deepEqual((await selectedStacks(PROJECT_ROOT, 'ci', [], [])).stacks, [...STACKS]);
  const bandit = await selectedStacks(PROJECT_ROOT, 'default', ['bandit'], []);
  assert.deepEqual(bandit.stacks, ['ab-testing', 'mab']);
  assert.deepEqual(bandit.features, ['features/functional/multi-armed-bandit.feature']);
  assert.ok(bandit.scenarios > 0);
  // the preflight builds the access matrix's kube-apiserver only when a selected feature has @access-control
  assert.ok(!bandit.tags.includes('@access-control') && bandit.tags.includes('@functional'), bandit.tags.join(' '));
  assert.ok((await selectedStacks(PROJECT_ROOT, 'security', [], [])).tags.includes('@access-control'));
  const extra = await selectedStacks(PROJECT_ROOT, 'security', [], ['features/functional/drift-detection.feature']);
  assert.deepEqual(extra.stacks, ['ab-testing', 'drift'], 'a feature file given besides the profile adds its stack');
  assert.deepEqual(stacksForTags([['@functional', '@router'], ['@security']]), ['ab-testing', 'router']);
});

test('UAT_STACKS names the stacks to deploy; an unknown one is an error naming the variable and the valid stacks', () => {
  assert.deepEqual(parseStacks('drift, mab'), ['ab-testing', 'mab', 'drift'], 'in deployment order, with the main stack');
  assert.deepEqual(loadConfig({ UAT_STACKS: 'router' }).manifests.map((m) => m.slice(PROJECT_ROOT.length + 1)), ['k8s/ab-testing', 'k8s/router']);
  assert.equal(loadConfig({}).manifests.length, STACKS.length, 'unset: every stack');
  assert.throws(() => loadConfig({ UAT_STACKS: 'ab-testing,bandit' }), /environment variable UAT_STACKS: unknown stack 'bandit' \(the stacks are ab-testing, mab, router, explainer, drift\)/);
});
