/**
 * The built-in load engine (support/load/builtin-engine.ts) against local servers whose behaviour
 * is known: exact request counts, failures counted as k6 counts them (4xx, 5xx, no answer), the
 * open model's schedule and dropped iterations, the closed model's concurrency, percentiles from
 * HDR histograms within their stated precision, thresholds evaluated into the summary.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { describeLoad, metricValues, runBuiltinLoad } from '../support/load/builtin-engine.ts';
import { activeVus, arrivalsBy, workerPlan } from '../support/load/plan.ts';
import type { LoadProfile, ProfileScenario } from '../support/load/profile.ts';

const OIP = '{"outputs":[{"name":"p","shape":[1],"datatype":"FP32","data":[1]}]}';

function profile(scenario: Partial<ProfileScenario> & { executor: ProfileScenario['executor'] }, thresholds: LoadProfile['thresholds'] = {}): LoadProfile {
  return { name: 'test', file: 'test.yaml', description: 'test', payload: 'market-snapshots', scenario: { gracefulStop: '2s', ...scenario } as ProfileScenario, thresholds };
}

async function serve(handler: (n: number, res: http.ServerResponse) => void): Promise<{ url: string; seen: () => number; close: () => void; peak: () => number }> {
  let seen = 0;
  let open = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    open++;
    peak = Math.max(peak, open);
    res.on('finish', () => open--);
    req.resume();
    req.on('end', () => handler(++seen, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/models/m/infer`, seen: () => seen, peak: () => peak, close: () => server.close() };
}

const target = (url: string) => ({ url, headers: { 'content-type': 'application/json' }, bodies: ['{"a":1}', '{"a":2}'] });

test('shared iterations: exactly the planned requests; 4xx, 5xx and no answer all count as failed; thresholds evaluated as k6 does', async () => {
  const server = await serve((n, res) => {
    if (n % 10 === 0) setTimeout(() => res.writeHead(500).end('{"error":"x"}'), 20);
    else if (n % 25 === 0) res.writeHead(422).end('{"detail":[]}');
    else res.end(OIP);
  });
  try {
    const summary = await runBuiltinLoad(profile({ executor: 'shared-iterations', vus: 3, iterations: 100, maxDuration: '30s' }, { http_req_failed: ['rate<0.5', 'rate<0.01'], http_req_duration: ['p(95)<10000'] }), target(server.url), { workers: 2 });
    assert.equal(server.seen(), 100);
    assert.equal(metricValues(summary, 'http_reqs').count, 100);
    // every 10th is a 500 and every 25th not a 10th (25, 75) a 422
    assert.deepEqual(summary.statusCounts, { '200': 88, '422': 2, '500': 10 });
    assert.equal(metricValues(summary, 'http_req_failed').passes, 12);
    assert.equal(metricValues(summary, 'http_req_failed').rate, 0.12);
    assert.equal(metricValues(summary, 'checks').passes, 88);
    const trend = metricValues(summary, 'http_req_duration');
    assert.ok(trend.min <= trend.med && trend.med <= trend['p(90)'] && trend['p(90)'] <= trend['p(95)'] && trend['p(95)'] <= trend.max);
    assert.ok(trend.max >= 19, `the slow answers show in the max: ${trend.max} ms`);
    assert.deepEqual(summary.metrics.http_req_failed.thresholds, { 'rate<0.5': { ok: true }, 'rate<0.01': { ok: false } });
    assert.deepEqual(summary.failedThresholds, ['http_req_failed: rate<0.01 (measured 0.12)']);
    const text = describeLoad(summary);
    assert.match(text, /^failed requests: 12 of 100$/m);
    assert.match(text, /^status codes: 200: 88, 422: 2, 500: 10$/m);
    assert.match(text, /^thresholds: crossed: http_req_failed: rate<0\.01/m);
  } finally {
    server.close();
  }
});

test('no answer at all is a failed request with its error', async () => {
  const server = await serve((_, res) => res.end(OIP));
  server.close();
  const summary = await runBuiltinLoad(profile({ executor: 'shared-iterations', vus: 1, iterations: 5, maxDuration: '10s' }), target(server.url), { workers: 1 });
  assert.equal(metricValues(summary, 'http_req_failed').passes, 5);
  assert.deepEqual(summary.statusCounts, { '0': 5 });
  assert.match(summary.errors[0], /ECONNREFUSED|connect/);
});

test('open model: iterations start on schedule whatever the answers, and those with no free virtual user are dropped', async () => {
  // answers take 300 ms; 100 arrivals a second for 2 s with at most 10 in flight: about 10 start per 300 ms, the rest are dropped
  const slow = await serve((_, res) => setTimeout(() => res.end(OIP), 300));
  try {
    const summary = await runBuiltinLoad(profile({ executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s', duration: '2s', preAllocatedVUs: 10, maxVUs: 10 }, { dropped_iterations: ['count<1'] }), target(slow.url), { workers: 1 });
    const sent = metricValues(summary, 'http_reqs').count;
    const dropped = summary.metrics.dropped_iterations?.values.count ?? 0;
    assert.equal(sent + dropped, 200, `every planned iteration is sent or dropped: ${sent} + ${dropped}`);
    assert.ok(dropped > 100, `most are dropped: ${dropped}`);
    assert.ok(slow.peak() <= 10, `never more than maxVUs in flight: ${slow.peak()}`);
    assert.deepEqual(summary.metrics.dropped_iterations?.thresholds, { 'count<1': { ok: false } });
  } finally {
    slow.close();
  }
  // a fast server keeps up: the planned count, on schedule, second by second
  const fast = await serve((_, res) => res.end(OIP));
  try {
    const summary = await runBuiltinLoad(profile({ executor: 'constant-arrival-rate', rate: 150, timeUnit: '1s', duration: '2s', preAllocatedVUs: 10, maxVUs: 50 }), target(fast.url), { workers: 2 });
    assert.equal(metricValues(summary, 'http_reqs').count, 300);
    assert.deepEqual(summary.metrics.dropped_iterations.values.count, 0);
    assert.deepEqual(summary.timeline.map((t) => t.requests), [150, 150]);
  } finally {
    fast.close();
  }
});

test('closed model: each virtual user sends its next request when the last is answered; all of them at once', async () => {
  const server = await serve((_, res) => setTimeout(() => res.end(OIP), 50));
  try {
    const summary = await runBuiltinLoad(profile({ executor: 'constant-vus', vus: 40, duration: '1s' }), target(server.url), { workers: 2 });
    assert.equal(server.peak(), 40, 'all 40 in flight at once');
    const sent = metricValues(summary, 'http_reqs').count;
    // 40 users, 50 ms answers, 1 s: about 800
    assert.ok(sent > 400 && sent <= 880, `sent ${sent}`);
    assert.equal(summary.metrics.vus_max.values.value, 40);
  } finally {
    server.close();
  }
});

test('constant VUs: 4xx, 5xx and dropped connections count as failed; every answer the server gave is counted, those in flight at the end included', async () => {
  let answered = 0;
  let dropped = 0;
  const server = await serve((n, res) => {
    // slow enough that requests are in flight when the 1 s ends: gracefulStop lets them finish
    const answer = (): void => {
      if (n % 10 === 0) res.writeHead(500).end('{"error":"x"}');
      else if (n % 25 === 0) res.writeHead(422).end('{"detail":[]}');
      else if (n % 7 === 0) res.end('{"id":"no outputs"}');
      else res.end(OIP);
      answered++;
    };
    if (n % 33 === 0) {
      dropped++;
      res.socket?.destroy();
    } else setTimeout(answer, 40);
  });
  try {
    const summary = await runBuiltinLoad(profile({ executor: 'constant-vus', vus: 20, duration: '1s' }), target(server.url), { workers: 2 });
    const count = metricValues(summary, 'http_reqs').count;
    const codes = summary.statusCounts;
    assert.equal(count, answered + dropped, `every request the server saw is counted (server: ${answered} answered, ${dropped} dropped)`);
    assert.equal(codes['0'], dropped, 'a dropped connection is a request with no answer');
    assert.equal(metricValues(summary, 'http_req_failed').passes, (codes['500'] ?? 0) + (codes['422'] ?? 0) + dropped);
    assert.ok((codes['500'] ?? 0) > 0 && (codes['422'] ?? 0) > 0, JSON.stringify(codes));
    // the check: 200 with OIP outputs (a 200 without outputs fails it)
    const withoutOutputs = Array.from({ length: server.seen() }, (_, i) => i + 1).filter((n) => n % 7 === 0 && n % 10 !== 0 && n % 25 !== 0 && n % 33 !== 0).length;
    assert.equal(metricValues(summary, 'checks').passes, codes['200'] - withoutOutputs);
    assert.match(summary.errors.join(' '), /socket|closed|ECONNRESET|hang up/i);
  } finally {
    server.close();
  }
});

test('every framing of an HTTP/1.1 answer is read whole: chunked, Content-Length, to the end of the connection, Connection: close, no body; the request goes as given', async () => {
  const requests: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const connections = new Set<unknown>();
  const server = http.createServer((req, res) => {
    connections.add(req.socket);
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const n = requests.length;
      if (n % 4 === 0) {
        // chunked, the outputs split across chunks
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(OIP.slice(0, 5));
        setTimeout(() => res.end(OIP.slice(5)), 2);
      } else if (n % 4 === 1) res.writeHead(200, { 'content-length': Buffer.byteLength(OIP) }).end(OIP);
      else if (n % 4 === 2) {
        // no length: the answer ends with the connection
        res.socket!.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n${OIP}`);
        res.socket!.end();
      } else res.writeHead(204, { connection: 'close' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/models/m/infer?x=1`;
  try {
    const summary = await runBuiltinLoad(profile({ executor: 'shared-iterations', vus: 2, iterations: 40, maxDuration: '20s' }), { url, headers: { 'content-type': 'application/json', 'seldon-model': 'm.experiment', Host: 'models.example' }, bodies: ['{"a":1}', '{"a":2}'] }, { workers: 1 });
    assert.equal(requests.length, 40);
    assert.deepEqual(summary.statusCounts, { '200': 30, '204': 10 }, JSON.stringify(summary.errors));
    assert.equal(metricValues(summary, 'http_req_failed').passes, 0);
    // the check holds for the 200s with outputs, however they were framed; a 204 has none
    assert.equal(metricValues(summary, 'checks').passes, 30);
    for (const r of requests) {
      assert.equal(r.method, 'POST');
      assert.equal(r.url, '/v2/models/m/infer?x=1');
      assert.equal(r.headers['seldon-model'], 'm.experiment');
      assert.equal(r.headers.host, 'models.example');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(Number(r.headers['content-length']), r.body.length);
    }
    assert.deepEqual(new Set(requests.map((r) => r.body)), new Set(['{"a":1}', '{"a":2}']));
    // closed connections were opened again; kept-alive ones were reused
    assert.ok(connections.size > 2 && connections.size < 40, `${connections.size} connections for 40 requests`);
  } finally {
    server.close();
  }
});

test('a connection that never opens is a failed request after the connect timeout, not a hung virtual user', { timeout: 60_000 }, async () => {
  // a server that listens with the smallest accept queue and never accepts (its only thread blocked,
  // using no CPU): once its queue is full, a new connection's SYN goes unanswered
  const code = `const s=require('node:net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{console.log(s.address().port);setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0),50)})`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { default: net } = await import('node:net');
  const fillers: import('node:net').Socket[] = [];
  try {
    const port = Number(await new Promise<string>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim()))));
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 4; i++) fillers.push(net.connect({ port, host: '127.0.0.1' }).on('error', () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const summary = await runBuiltinLoad(profile({ executor: 'shared-iterations', vus: 1, iterations: 1, maxDuration: '30s' }), target(`http://127.0.0.1:${port}/v2/models/m/infer`), { workers: 1 });
    assert.equal(metricValues(summary, 'http_reqs').count, 1);
    assert.equal(metricValues(summary, 'http_req_failed').passes, 1);
    assert.deepEqual(summary.statusCounts, { '0': 1 });
    assert.match(summary.errors.join(' '), /timed out after 10 s/);
  } finally {
    for (const f of fillers) f.destroy();
    child.kill('SIGKILL');
  }
});

test('percentiles from the HDR histogram are within 0.1 % of the exact ones', async () => {
  // answers whose time is known: every fifth waits 40 ms
  const server = await serve((n, res) => setTimeout(() => res.end(OIP), n % 5 === 0 ? 40 : 0));
  try {
    const summary = await runBuiltinLoad(profile({ executor: 'shared-iterations', vus: 1, iterations: 50, maxDuration: '30s' }), target(server.url), { workers: 1 });
    const trend = metricValues(summary, 'http_req_duration');
    assert.ok(trend['p(95)'] >= 40 && trend.med < 40, JSON.stringify(trend));
    assert.ok(trend.max >= 40 && trend.min < 40);
    const buckets = summary.latencyBuckets.reduce((s, b) => s + b.requests, 0);
    assert.equal(buckets, 50, 'the histogram holds every request');
  } finally {
    server.close();
  }
});

test('ramps are linear between stages, as k6 ramps; arrivals are the integral of the rate; work is dealt across workers', () => {
  const ramp = workerPlan({ executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 1, stages: [{ duration: '10s', target: 100 }, { duration: '10s', target: 100 }], gracefulStop: '1s' }, 1, 0);
  // 0 -> 100/s over 10 s: 500 by 10 s, then 100 a second
  assert.equal(arrivalsBy(ramp, 10_000), 500);
  assert.equal(arrivalsBy(ramp, 5_000), 125);
  assert.equal(arrivalsBy(ramp, 20_000), 1500);
  const vus = workerPlan({ executor: 'ramping-vus', startVUs: 0, gracefulRampDown: '1s', stages: [{ duration: '10s', target: 10 }, { duration: '10s', target: 0 }], gracefulStop: '1s' }, 1, 0);
  assert.deepEqual([0, 5_000, 10_000, 15_000, 20_000].map((t) => activeVus(vus, t)), [0, 5, 10, 5, 0]);
  const dealt = [0, 1, 2].map((i) => workerPlan({ executor: 'shared-iterations', vus: 10, iterations: 100, maxDuration: '1m', gracefulStop: '1s' }, 3, i));
  assert.deepEqual(dealt.map((p) => [p.maxConcurrency, p.iterations]), [[4, 34], [3, 33], [3, 33]]);
  const rates = [0, 1].map((i) => workerPlan({ executor: 'constant-arrival-rate', rate: 300, timeUnit: '1s', duration: '10s', preAllocatedVUs: 5, gracefulStop: '1s' }, 2, i));
  assert.equal(rates.reduce((s, p) => s + arrivalsBy(p, 10_000), 0), 3000);
});
