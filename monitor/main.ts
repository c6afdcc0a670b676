/**
 * The drift monitor, as a program (on a cluster it would be a Deployment reading the detectors'
 * Kafka topics):
 *
 *   tsx monitor/main.ts --inference-url URL --namespace NS --detector <model>=<feature>,<feature>... [--detector ...]
 *                       --webhook-url URL --retrain-model <predictor> [--seed 42] [--experiment NAME]
 *                       [--open-after 2] [--close-after 2] [--poll-ms 250] [--from latest|earliest] [--port 0] [--host 127.0.0.1] [--fault alert-every-window]
 *
 * It reads the topics from the serving mesh's topic endpoint (`GET /kafka/topics/<topic>?offset=N`,
 * the embedded stack's stand-in for a Kafka consumer; from the topics' end unless `--from earliest`:
 * a restarted monitor does not alert again on verdicts it has already acted on), sends alerts to the webhook in
 * Alertmanager's payload, runs monitor/retrain.ts once per episode (MLFLOW_DB_URL is passed on to
 * it), and serves `GET /metrics` (Prometheus), `GET /episodes` (episodes, topic offsets) and
 * `GET /windows` (the latest 200 verdicts per detector with their p-values). When listening it prints
 * {"event":"ready","url":...}.
 */
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createMonitor, MONITOR_FAULTS, type Episode } from './monitor.ts';
import { fatal, listenAndAnnounce } from '../stack/program.ts';

const { values } = parseArgs({
  options: {
    'inference-url': { type: 'string' },
    namespace: { type: 'string', default: 'seldon-mesh' },
    detector: { type: 'string', multiple: true, default: [] },
    'webhook-url': { type: 'string' },
    'retrain-model': { type: 'string' },
    seed: { type: 'string', default: '42' },
    experiment: { type: 'string', default: 'financial-mlops-uat-retraining' },
    'open-after': { type: 'string', default: '2' },
    'close-after': { type: 'string', default: '2' },
    'poll-ms': { type: 'string', default: '250' },
    from: { type: 'string', default: 'latest' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    fault: { type: 'string', multiple: true, default: [] },
  },
});
const whole = (name: string, min: number): number => {
  const v = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(v) || v < min) fatal(`--${name} must be a whole number of at least ${min}, got '${String(values[name as keyof typeof values])}'`);
  return v;
};
const port = whole('port', 0);
const pollMs = whole('poll-ms', 10);
if (!values['inference-url']) fatal('--inference-url is required: the serving mesh whose topics hold the detectors\' verdicts');
if (!values['webhook-url']) fatal('--webhook-url is required: where drift alerts are sent');
if (!values['retrain-model']) fatal('--retrain-model is required: the predictor a drift episode retrains');
const detectors = new Map<string, string[]>();
for (const pair of values.detector) {
  const match = /^([\w.-]+)=([\w.,-]+)$/.exec(pair);
  if (!match) fatal(`--detector must be <model>=<feature>,<feature>..., got '${pair}'`);
  detectors.set(match[1], match[2].split(','));
}
if (detectors.size === 0) fatal('give at least one --detector <model>=<features>');
const badFault = values.fault.find((f) => !(MONITOR_FAULTS as readonly string[]).includes(f));
if (badFault !== undefined) fatal(`--fault must be one of ${MONITOR_FAULTS.join(', ')}, got '${badFault}'`);
if (values.from !== 'latest' && values.from !== 'earliest') fatal(`--from must be latest or earliest, got '${values.from}'`);
if (!process.env.MLFLOW_DB_URL) fatal('MLFLOW_DB_URL is not set: the retraining job logs its run in the MLflow store');
const base = values['inference-url'].replace(/\/$/, '');
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);

/** The retraining job, a child process; its run id from its last line. */
const retrain = (episode: Episode): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'retrain.ts'), '--model', values['retrain-model']!, '--seed', values.seed, '--episode', episode.id, '--features', Object.keys(episode.features).join(','), '--experiment', values.experiment], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.includes('"event":"logged"'));
      if (code === 0 && line) resolve(String((JSON.parse(line) as { runUuid: string }).runUuid));
      else reject(new Error(`the retraining job exited ${code}: ${err.trim().slice(0, 400)}`));
    });
  });

const monitor = createMonitor({
  readTopic: async (topic, offset) => {
    const res = await fetch(`${base}/kafka/topics/${encodeURIComponent(topic)}?offset=${offset}`);
    if (!res.ok) throw new Error(`topic ${topic} answered ${res.status}`);
    return (await res.json()) as Awaited<ReturnType<Parameters<typeof createMonitor>[0]['readTopic']>>;
  },
  namespace: values.namespace,
  from: values.from as 'latest' | 'earliest',
  detectors,
  openAfter: whole('open-after', 1),
  closeAfter: whole('close-after', 1),
  notify: async (alert) => {
    const res = await fetch(values['webhook-url']!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert), signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
  },
  retrain,
  log,
  faults: new Set(values.fault),
});

let polling = false;
const timer = setInterval(() => {
  if (polling) return;
  polling = true;
  monitor.poll().catch((error: Error) => log(`poll: ${error.message}`)).finally(() => (polling = false));
}, pollMs);

const server = http.createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && url === '/metrics') {
    void monitor.registry.metrics().then((text) => res.writeHead(200, { 'content-type': monitor.registry.contentType }).end(text));
    return;
  }
  if (req.method === 'GET' && url === '/episodes') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ episodes: monitor.episodes(), offsets: monitor.offsets(), startOffsets: monitor.startOffsets() }));
    return;
  }
  if (req.method === 'GET' && url === '/windows') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ windows: monitor.windows() }));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no ${req.method} ${url} (GET /metrics, GET /episodes, GET /windows)` }));
});
listenAndAnnounce(server, values.host, port, () => ({ detectors: [...detectors.keys()] }));
const stop = (): void => {
  clearInterval(timer);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
