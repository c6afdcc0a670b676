import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { describeLoad, k6Percentile, runBuiltinLoad } from '../support/load/builtin-engine.ts';

test('the built-in engine sends exactly the planned requests and summarises them the k6 way', async () => {
  let seen = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen++;
      // every tenth request fails, and takes about 20 ms
      if (seen % 10 === 0) setTimeout(() => res.writeHead(500).end('{"error":"x"}'), 20);
      else res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const summary = await runBuiltinLoad({ url: `http://127.0.0.1:${port}/`, headers: { 'content-type': 'application/json' }, body: { a: 1 }, vus: 3, iterations: 100, maxDurationMs: 30_000 });
    assert.equal(seen, 100);
    assert.equal(summary.metrics.http_reqs.values.count, 100);
    assert.equal(summary.metrics.http_req_failed.values.passes, 10);
    assert.equal(summary.metrics.http_req_failed.values.rate, 0.1);
    assert.deepEqual(summary.statusCounts, { '200': 90, '500': 10 });
    const trend = summary.metrics.http_req_duration.values;
    assert.ok(trend.min <= trend.med && trend.med <= trend['p(90)'] && trend['p(90)'] <= trend['p(95)'] && trend['p(95)'] <= trend.max);
    assert.ok(trend.max >= 19, `the slow answers show in the max: ${trend.max} ms`);
    const text = describeLoad(summary, 3);
    assert.match(text, /^requests: 100 from 3 virtual users in \d+\.\d\d s \(\d+\.\d requests\/s\)$/m);
    assert.match(text, /^failed requests: 10 of 100$/m);
    assert.match(text, /^status codes: 200: 90, 500: 10$/m);
  } finally {
    server.close();
  }
});

test('a profile without users or iterations is refused', async () => {
  await assert.rejects(runBuiltinLoad({ url: 'http://127.0.0.1:1/', headers: {}, body: {}, vus: 0, iterations: 10, maxDurationMs: 1000 }), /at least 1 VU/);
});

test("percentiles are k6's: linear interpolation at p·(n-1) of the sorted values, checked against exact values", async () => {
  // 1..10: p(95) = 1 + 0.95·9 = 9.55, p(90) = 9.1, median 5.5 (k6 lib/metrics/sink.go TrendSink.P).
  const ten = Array.from({ length: 10 }, (_, i) => i + 1);
  assert.ok(Math.abs(k6Percentile(ten, 0.95) - 9.55) < 1e-12);
  assert.ok(Math.abs(k6Percentile(ten, 0.9) - 9.1) < 1e-12);
  assert.equal(k6Percentile(ten, 0.5), 5.5);
  assert.equal(k6Percentile([7], 0.95), 7);
  // Seeded data: the exact percentile from the sorted array, index by index.
  const seedrandom = (await import('seedrandom')).default;
  const random = seedrandom('durations');
  const durations = Array.from({ length: 1001 }, () => Math.round(random() * 100000) / 1000).sort((a, b) => a - b);
  // 1001 values: p(95) sits exactly on index 950, p(99) on 990, the median on 500.
  assert.equal(k6Percentile(durations, 0.95), durations[950]);
  assert.equal(k6Percentile(durations, 0.99), durations[990]);
  assert.equal(k6Percentile(durations, 0.5), durations[500]);
  const n = 200;
  const some = durations.slice(0, n);
  const i = 0.95 * (n - 1);
  assert.ok(Math.abs(k6Percentile(some, 0.95) - (some[Math.floor(i)] + (some[Math.ceil(i)] - some[Math.floor(i)]) * (i - Math.floor(i)))) < 1e-9);
});

test('the engine summary reports the exact percentiles of the durations it measured', async () => {
  // A server whose answer time is known: every fifth request waits 30 ms.
  let seen = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen++;
      const slow = seen % 5 === 0;
      setTimeout(() => res.end('{}'), slow ? 30 : 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const summary = await runBuiltinLoad({ url: `http://127.0.0.1:${port}/`, headers: {}, body: {}, vus: 1, iterations: 50, maxDurationMs: 30_000 });
    const trend = summary.metrics.http_req_duration.values;
    // 10 of 50 answers took >= 30 ms: p(90) interpolates between rank 44 (fast) and 45 (slow);
    // p(95) lies among the slow ones, the median among the fast ones.
    assert.ok(trend['p(95)'] >= 30 && trend.med < 30, JSON.stringify(trend));
    assert.ok(trend.max >= 30 && trend.min < 30);
  } finally {
    server.close();
  }
});
