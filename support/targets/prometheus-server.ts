/**
 * A real Prometheus server for the local target: the `prometheus` binary (PROMETHEUS_BIN or PATH)
 * with a generated scrape configuration (1 s interval) for the stack's three metrics endpoints,
 * labelled the way a Seldon PodMonitor and the kubelet label a server pod, a temporary data folder,
 * and a readiness wait that lasts until every target has been scraped once (up or not: a target
 * that is down is the scenarios' business, and they say so).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { PrometheusClient } from '../clients/prometheus-client.ts';
import { freePort } from '../free-port.ts';
import { waitFor } from '../wait.ts';
import { stopChild, superviseChild, type ChildWatch } from './stack-process.ts';

/** Where the stack's pod seems to live, as Prometheus labels its series. */
export const LOCAL_POD = { namespace: 'seldon-mesh', pod: 'mlserver-0' } as const;

export const PROMETHEUS_INSTALL_HINT = 'install it with `apt-get install -y prometheus` (Debian/Ubuntu), or set PROMETHEUS_BIN to its path, or PROMETHEUS_URL to a running server';

export class PrometheusMissing extends Error {
  constructor(bin: string) {
    super(`the Prometheus server binary '${bin}' was not found: ${PROMETHEUS_INSTALL_HINT}`);
    this.name = 'PrometheusMissing';
  }
}

export interface PrometheusServer {
  url: string;
  port: number;
  version: string;
  child: ChildProcess;
  watch: ChildWatch;
  stop(): Promise<void>;
}

/** The scrape configuration for one stack at `stackUrl`. */
export function scrapeConfig(stackUrl: string, intervalSeconds = 1, extra: { job: string; url: string }[] = []): Record<string, unknown> {
  const target = new URL(stackUrl).host;
  const job = (name: string, metricsPath: string, labels: Record<string, string>) => ({
    job_name: name,
    metrics_path: metricsPath,
    scrape_interval: `${intervalSeconds}s`,
    scrape_timeout: `${intervalSeconds}s`,
    static_configs: [{ targets: [target], labels: { ...LOCAL_POD, ...labels } }],
  });
  return {
    global: { scrape_interval: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
    scrape_configs: [
      job('seldon-agent', '/metrics', { container: 'agent' }),
      job('mlserver', '/metrics/mlserver', { container: 'mlserver' }),
      // cAdvisor series carry their own `container` label, as the kubelet's do.
      job('kubelet-cadvisor', '/metrics/cadvisor', {}),
      // the harness's own programs beside the platform (the drift monitor)
      ...extra.map((e) => ({ job_name: e.job, metrics_path: new URL(e.url).pathname, scrape_interval: `${intervalSeconds}s`, scrape_timeout: `${intervalSeconds}s`, static_configs: [{ targets: [new URL(e.url).host] }] })),
    ],
  };
}

/** Resolve the binary: an explicit path must exist; a bare name is looked up on PATH. */
export function findPrometheusBinary(bin: string): string | undefined {
  if (bin.includes('/')) return fs.existsSync(bin) ? bin : undefined;
  const found = spawnSync('sh', ['-c', `command -v ${JSON.stringify(bin)}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * `scrapedAfter`: Prometheus may be started before the stack listens (its first target discovery
 * takes about 5 s, which then overlaps the stack's start); it is ready once every target was
 * scraped after the stack was (the promise's date), up or not. Rejecting it stops Prometheus.
 */
export async function startPrometheus(options: { bin: string; stackUrl: string; extraTargets?: { job: string; url: string }[]; log?: Writable; deadlineMs?: number; keepData?: boolean; port?: number; onDeath?: (cause: string) => void; scrapedAfter?: Promise<Date> }): Promise<PrometheusServer> {
  const binary = findPrometheusBinary(options.bin);
  if (!binary) throw new PrometheusMissing(options.bin);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, stringify(scrapeConfig(options.stackUrl, 1, options.extraTargets)));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', '--storage.tsdb.retention.time=1d'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const watch = superviseChild(child, { title: 'Prometheus', log: options.log, onDeath: options.onDeath });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    await stopChild(child);
    if (!options.keepData) fs.rmSync(dir, { recursive: true, force: true });
  };
  const client = new PrometheusClient(url);
  try {
    const after = options.scrapedAfter ? (await options.scrapedAfter).getTime() : 0;
    const deadline = options.deadlineMs ?? 20_000;
    await waitFor(`Prometheus at ${url} is ready and has scraped every stack target once`, deadline, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}: ${errors.trim() || 'no message'}`);
      if (!(await client.ready())) return undefined;
      const targets = await client.targets();
      return targets.length === 3 + (options.extraTargets?.length ?? 0) && targets.every((t) => t.health !== 'unknown' && Date.parse(t.lastScrape) >= after) ? true : undefined;
    });
    return { url, port, version: await client.version(), child, watch, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
