import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runBuiltinLoad } from '../support/load/builtin-engine.ts';

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
  } finally {
    server.close();
  }
});

test('a profile without users or iterations is refused', async () => {
  await assert.rejects(runBuiltinLoad({ url: 'http://127.0.0.1:1/', headers: {}, body: {}, vus: 0, iterations: 10, maxDurationMs: 1000 }), /at least 1 VU/);
});
