import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coverage } from '../support/metrics/live-metrics.ts';

test('the /metrics fallback names the period its windowed figures really cover', () => {
  const one = { time: 100 };
  assert.equal(coverage(one, one, 300), 'since the platform started (one /metrics sample so far)');
  assert.equal(coverage({ time: 100 }, { time: 137.4 }, 300), 'the last 37 s of /metrics samples');
  assert.equal(coverage({ time: 0 }, { time: 299 }, 300), undefined, 'a window covered to within two one-second samples is the window');
});
