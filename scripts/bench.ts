/**
 * Benchmarks, side by side in one run (results in reports/bench/*.json, a table printed):
 *
 *   (a) engines: the built-in load engine against wrk (Debian's package) and autocannon on the same
 *       trivial endpoint, the same connections and duration: request rate and latency as ratios;
 *   (b) platform: the embedded stack's experiment endpoint against a bare Node OIP echo server at
 *       100 and 2,500 connections, both loaded by the built-in engine: rate, P95, failed requests.
 *
 *   npm run bench [-- --seconds 10] [--only engines|platform]
 *
 * Every endpoint runs in a process of its own on loopback. wrk and autocannon report the 50th, 90th
 * and 99th percentiles but no 95th, so the engines are compared there. wrk is installed with apt on
 * Debian as root; elsewhere its row says how to install it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Table from 'cli-table3';
import { loadConfig, PROJECT_ROOT } from '../support/config.ts';
import { featuresRequest } from '../support/clients/oip-client.ts';
import { fixPackages, missingPackages, type SystemPackage } from '../support/doctor/preflight.ts';
import { metricValues, runBuiltinLoad, type LoadSummary } from '../support/load/builtin-engine.ts';
import { loadProfile, withOverrides } from '../support/load/profile.ts';
import { publishPredictors } from '../support/training/publish-predictors.ts';
import { launchStack } from '../support/targets/stack-process.ts';
import { marketSnapshots } from '../support/tasks/traffic.ts';
import { reportHarnessInputErrors } from '../support/harness-input.ts';

// bad input (the environment, a profile, a manifest) is named without a stack trace
reportHarnessInputErrors('bench');

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, only: { type: 'string' } } });
const seconds = Number(values.seconds);
if (!Number.isInteger(seconds) || seconds < 2 || seconds > 120) {
  console.error('--seconds must be an integer from 2 to 120');
  process.exit(2);
}
const outDir = path.join(PROJECT_ROOT, 'reports', 'bench');
fs.mkdirSync(outDir, { recursive: true });
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, at: new Date().toISOString() };
const BODY = JSON.stringify(featuresRequest([marketSnapshots(42)[0]]));
const OIP_ANSWER = JSON.stringify({ model_name: 'echo', outputs: [{ name: 'predict', shape: [1, 1], datatype: 'FP32', data: [1] }] });

interface Row {
  engine: string;
  connections: number;
  requestsPerSecond: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  failed: number | null;
  note?: string;
  /** Compared with the baseline at these connections (default: its own). */
  versus?: number;
}

/** Requests in flight on average over the run, by Little's law: rate × mean latency. */
const inFlight = (r: Row): number | null => (r.requestsPerSecond === null || r.meanMs === null ? null : (r.requestsPerSecond * r.meanMs) / 1000);

/** A bare Node server answering every POST with a fixed OIP answer, in a process of its own. */
async function echoServer(): Promise<{ url: string; child: ChildProcess }> {
  const code = `const http=require('node:http');const body=${JSON.stringify(OIP_ANSWER)};const s=http.createServer((q,r)=>{q.resume();q.on('end',()=>r.writeHead(200,{'content-type':'application/json','content-length':Buffer.byteLength(body)}).end(body))});s.maxConnections=5000;s.listen({port:0,host:'127.0.0.1',backlog:5000},()=>console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim())));
  return { url: `http://127.0.0.1:${port}/v2/models/echo/infer`, child };
}

function builtinRow(name: string, connections: number, s: LoadSummary): Row {
  const d = metricValues(s, 'http_req_duration');
  return { engine: name, connections, requestsPerSecond: metricValues(s, 'http_reqs').rate, p50Ms: d.med, p90Ms: d['p(90)'], p95Ms: d['p(95)'], p99Ms: d['p(99)'], meanMs: d.avg, failed: metricValues(s, 'http_req_failed').passes };
}

async function builtin(url: string, connections: number, headers: Record<string, string> = {}, forSeconds = seconds): Promise<LoadSummary> {
  const profile = withOverrides(loadProfile('concurrent-users'), { vus: connections, duration: `${forSeconds}s` });
  return runBuiltinLoad({ ...profile, thresholds: {} }, { url, headers: { 'content-type': 'application/json', ...headers }, bodies: [BODY] }, { progress: false });
}

/** A constant arrival rate (the sustained-experiment profile's executor and its maxVUs, 200) for the bench's duration. */
async function arrivals(url: string, rate: number, headers: Record<string, string> = {}): Promise<LoadSummary> {
  const profile = withOverrides(loadProfile('sustained-experiment'), { rate, duration: `${seconds}s` });
  return runBuiltinLoad({ ...profile, thresholds: {} }, { url, headers: { 'content-type': 'application/json', ...headers }, bodies: [BODY] }, { progress: false });
}

async function autocannonRow(url: string, connections: number): Promise<Row> {
  const r = await autocannon({ url, connections, duration: seconds, method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
  return { engine: 'autocannon', connections, requestsPerSecond: r.requests.average, p50Ms: r.latency.p50, p90Ms: r.latency.p90, p95Ms: null, p99Ms: r.latency.p99, meanMs: r.latency.average, failed: r.errors + r.non2xx + r.timeouts };
}

const WRK: SystemPackage = { pkg: 'wrk', why: 'the engine benchmark compares the built-in engine with wrk', required: false, present: async () => spawnSync('sh', ['-c', 'command -v wrk']).status === 0 };

/** wrk's latency in ms from its text (`1.23ms`, `850.00us`, `1.02s`). */
const wrkMs = (text: string): number => {
  const [, n, unit] = /([\d.]+)(us|ms|s|m)/.exec(text)!;
  return Number(n) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 } as Record<string, number>)[unit];
};

function wrkRow(url: string, connections: number): Row {
  const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'uat-wrk-')), 'post.lua');
  // its summary prints no 95th percentile: the script's done() does, from the same histogram, with the mean (µs)
  fs.writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["content-type"] = "application/json"\ndone = function(summary, latency, requests)\n  io.write(string.format("p95_us %d mean_us %d\\n", latency:percentile(95.0), latency.mean))\nend\n`);
  try {
    const run = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
    if (run.status !== 0) return { engine: 'wrk', connections, requestsPerSecond: null, p50Ms: null, p90Ms: null, p95Ms: null, p99Ms: null, meanMs: null, failed: null, note: run.stderr.trim() || `exit ${run.status}` };
    const pct = (p: string): number | null => {
      const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+\\w+)`, 'm').exec(run.stdout);
      return m ? wrkMs(m[1]) : null;
    };
    const fromScript = /p95_us (\d+) mean_us (\d+)/.exec(run.stdout);
    const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(run.stdout);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout);
    return {
      engine: 'wrk',
      connections,
      requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? NaN),
      p50Ms: pct('50'),
      p90Ms: pct('90'),
      p95Ms: fromScript ? Number(fromScript[1]) / 1000 : null,
      p99Ms: pct('99'),
      meanMs: fromScript ? Number(fromScript[2]) / 1000 : null,
      failed: (errors ? errors.slice(1).reduce((s, n) => s + Number(n), 0) : 0) + Number(non2xx?.[1] ?? 0),
    };
  } finally {
    fs.rmSync(path.dirname(script), { recursive: true, force: true });
  }
}

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || !b ? null : a / b);

function print(title: string, rows: Row[], baseline: (row: Row) => Row | undefined): void {
  const table = new Table({ head: ['engine / endpoint', 'conns', 'req/s', 'p50 ms', 'p90 ms', 'p95 ms', 'p99 ms', 'mean ms', 'in flight', 'failed', 'req/s ratio', 'p90 ratio', 'p95 ratio', 'p99 ratio'], style: { head: [], border: [] } });
  for (const r of rows) {
    const b = baseline(r);
    table.push([r.engine, r.connections, fmt(r.requestsPerSecond, 0), fmt(r.p50Ms), fmt(r.p90Ms), fmt(r.p95Ms), fmt(r.p99Ms), fmt(r.meanMs), fmt(inFlight(r), 0), r.failed ?? r.note ?? 'n/a', b ? fmt(ratio(r.requestsPerSecond, b.requestsPerSecond)) : '', b ? fmt(ratio(r.p90Ms, b.p90Ms)) : '', b ? fmt(ratio(r.p95Ms, b.p95Ms)) : '', b ? fmt(ratio(r.p99Ms, b.p99Ms)) : '']);
  }
  console.log(`\n${title}\n${table.toString()}`);
}

if (values.only !== 'platform') {
  // (a) the engines on one trivial endpoint; wrk is the baseline of the ratios
  const missing = await missingPackages([WRK]);
  const wrk = missing.length === 0 || fixPackages(missing).ok;
  const echo = await echoServer();
  try {
    const rows: Row[] = [];
    // a warm-up of the endpoint (its code compiled), not measured
    await builtin(echo.url, 100, {}, 3);
    for (const connections of [100, 2500]) {
      rows.push(wrk ? wrkRow(echo.url, connections) : { engine: 'wrk', connections, requestsPerSecond: null, p50Ms: null, p90Ms: null, p95Ms: null, p99Ms: null, meanMs: null, failed: null, note: 'not installed: apt-get install -y wrk' });
      rows.push(await autocannonRow(echo.url, connections));
      rows.push(builtinRow('built-in engine', connections, await builtin(echo.url, connections)));
    }
    // wrk does not keep 2,500 requests in flight (its loop sends the next request a turn later, and it
    // leaves out of its latencies those over 2 s); at a saturated server latency grows with the requests
    // in flight (Little's law), so the built-in engine runs again at wrk's own average in flight
    const wrk2500 = rows.find((r) => r.engine === 'wrk' && r.connections === 2500);
    const matched = wrk2500 ? inFlight(wrk2500) : null;
    if (matched !== null && matched >= 1 && matched < 2500) {
      const vus = Math.round(matched);
      rows.push({ ...builtinRow(`built-in engine at wrk's in flight`, vus, await builtin(echo.url, vus)), versus: 2500 });
    }
    fs.writeFileSync(path.join(outDir, 'engines.json'), JSON.stringify({ machine, seconds, endpoint: 'bare Node OIP echo server (a process of its own)', baseline: 'wrk', rows: rows.map((r) => ({ ...r, inFlight: inFlight(r) })) }, null, 2));
    print(`(a) load engines on a bare OIP echo server, ${seconds} s each (ratios against wrk at the same connections)`, rows, (r) => (r.engine === 'wrk' ? undefined : rows.find((x) => x.engine === 'wrk' && x.connections === (r.versus ?? r.connections) && x.requestsPerSecond !== null)));
  } finally {
    echo.child.kill();
  }
}

if (values.only !== 'engines') {
  // (b) the stack's experiment endpoint against the bare echo server, both loaded by the built-in engine
  const config = loadConfig({ ...process.env, UAT_REPORTS_DIR: path.join(outDir, 'run') });
  const manifests = [path.join(PROJECT_ROOT, 'k8s', 'ab-testing')];
  await publishPredictors({ seed: config.seed, manifests, storageMap: config.storageMap, experimentName: config.mlflowExperiment, uatRunId: 'bench', cacheDir: config.trainingCache });
  const stack = await launchStack({ args: [...manifests.flatMap((m) => ['--manifests', m]), ...config.storageMap.flatMap(([p, d]) => ['--storage-map', `${p}=${d}`]), '--seed', String(config.seed)] });
  const echo = await echoServer();
  try {
    const rows: Row[] = [];
    const stackUrl = `${stack.url}/v2/models/financial-ab-test/infer`;
    const stackHeaders = { 'seldon-model': 'financial-ab-test.experiment' };
    // a warm-up of each endpoint (its code compiled, its pools filled), not measured
    await builtin(echo.url, 100, {}, 3);
    await builtin(stackUrl, 100, stackHeaders, 3);
    for (const connections of [100, 2500]) {
      rows.push(builtinRow('bare OIP echo server', connections, await builtin(echo.url, connections)));
      rows.push(builtinRow('embedded stack, financial-ab-test experiment', connections, await builtin(stackUrl, connections, stackHeaders)));
    }
    // the open model: a steady 1,000 requests a second, whatever the answers (connections: at most 200 in flight)
    rows.push(builtinRow('bare OIP echo server, 1,000 req/s (open model)', 200, await arrivals(echo.url, 1000)));
    rows.push(builtinRow('embedded stack, 1,000 req/s (open model)', 200, await arrivals(stackUrl, 1000, stackHeaders)));
    fs.writeFileSync(path.join(outDir, 'platform.json'), JSON.stringify({ machine, seconds, engine: 'built-in', baseline: 'bare OIP echo server', rows: rows.map((r) => ({ ...r, inFlight: inFlight(r) })) }, null, 2));
    print(`(b) the stack's experiment endpoint against a bare OIP echo server, built-in engine, ${seconds} s each (ratios against the echo server at the same connections)`, rows, (r) => (r.engine.startsWith('bare') ? undefined : rows.find((x) => x.engine.startsWith('bare') && x.connections === r.connections && x.engine.includes('open model') === r.engine.includes('open model'))));
  } finally {
    echo.child.kill();
    await stack.stop();
  }
}
console.log(`\nresults: ${outDir}/*.json (${machine.cpus} cores, ${machine.model}, Node ${machine.node})`);
