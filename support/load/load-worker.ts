/**
 * A worker thread of the built-in load engine: its share of a profile's load (support/load/plan.ts)
 * against one endpoint, every latency recorded in HDR histograms (the run's and one per second)
 * instead of kept. Runs off the harness's event loop so the harness does not distort what it
 * measures. Each virtual user sends over a keep-alive connection of its own (class VirtualUser).
 *
 * autocannon does not fit: when the server closes a connection with a request in flight, autocannon
 * reconnects without reporting that request, and times the next answer from the lost request's
 * start. A platform that drops connections would look clean.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import net from 'node:net';
import tls from 'node:tls';
import { HTTPParser } from 'http-parser-js';
import { activeVus, arrivalsBy, type WorkerPlan } from './plan.ts';

export interface WorkerTarget {
  url: string;
  headers: Record<string, string>;
  /** The payload set: iteration i sends bodies[i % length]. */
  bodies: string[];
}

export interface WorkerInput {
  plan: WorkerPlan;
  target: WorkerTarget;
  /** Epoch ms all workers start at. */
  startAt: number;
}

export interface SecondStats {
  second: number;
  requests: number;
  failed: number;
  /** HDR histogram of the second's latencies (µs), compressed base64. */
  histogram: string;
}

export interface WorkerOutput {
  histogram: string;
  seconds: SecondStats[];
  statusCounts: Record<string, number>;
  errors: string[];
  requests: number;
  failed: number;
  checksPassed: number;
  iterations: number;
  dropped: number;
  maxInFlight: number;
  elapsedMs: number;
}

export interface WorkerProgress {
  requests: number;
  failed: number;
  dropped: number;
  inFlight: number;
}

/** Latencies in µs, up to an hour. */
export const newHistogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a worker counts, whichever client sends the requests. */
class Recorder {
  readonly all = newHistogram();
  readonly perSecond = new Map<number, { requests: number; failed: number; histogram: hdr.Histogram }>();
  readonly statusCounts: Record<string, number> = {};
  readonly errors = new Set<string>();
  requests = 0;
  failed = 0;
  checksPassed = 0;
  iterations = 0;
  dropped = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly t0 = performance.now();
  private elapsedMs: number | undefined;

  elapsed(): number {
    return this.elapsedMs ?? performance.now() - this.t0;
  }

  /** The run is over: what ends later (an interrupted request) is not counted, as k6 does not count it. */
  finish(): void {
    this.elapsedMs ??= performance.now() - this.t0;
  }

  /**
   * One request ended: its HTTP status (0: no answer), whether k6's check held (200 with OIP
   * outputs), when it started (performance.now()) and its duration in ms (undefined when there was
   * no answer and no time to keep, as with a connection that failed before the request was sent).
   */
  ended(status: number, ok: boolean, startedAt: number, durationMs: number | undefined, error?: string): void {
    if (this.elapsedMs !== undefined) return;
    if (error !== undefined && this.errors.size < 5) this.errors.add(error);
    const second = Math.max(0, Math.floor((startedAt - this.t0) / 1000));
    let bucket = this.perSecond.get(second);
    if (!bucket) this.perSecond.set(second, (bucket = { requests: 0, failed: 0, histogram: newHistogram() }));
    if (durationMs !== undefined) {
      const micros = Math.max(1, Math.round(durationMs * 1000));
      this.all.recordValue(micros);
      bucket.histogram.recordValue(micros);
    }
    this.requests++;
    bucket.requests++;
    // k6's http_req_failed: anything outside 200-399, and no answer at all
    if (status < 200 || status >= 400) {
      this.failed++;
      bucket.failed++;
    }
    if (ok) this.checksPassed++;
    this.statusCounts[String(status)] = (this.statusCounts[String(status)] ?? 0) + 1;
  }

  progress(): WorkerProgress {
    return { requests: this.requests, failed: this.failed, dropped: this.dropped, inFlight: this.inFlight };
  }

  output(): WorkerOutput {
    return {
      histogram: hdr.encodeIntoCompressedBase64(this.all),
      seconds: [...this.perSecond.entries()].sort((a, b) => a[0] - b[0]).map(([second, b]) => ({ second, requests: b.requests, failed: b.failed, histogram: hdr.encodeIntoCompressedBase64(b.histogram) })),
      statusCounts: this.statusCounts,
      errors: [...this.errors],
      requests: this.requests,
      failed: this.failed,
      checksPassed: this.checksPassed,
      iterations: this.iterations,
      dropped: this.dropped,
      maxInFlight: this.maxInFlight,
      elapsedMs: this.elapsed(),
    };
  }
}

/** The check k6's script makes: 200 with OIP outputs. */
const OUTPUTS = '"outputs"';
const answered = (status: number, chunks: Buffer[]): boolean => status === 200 && (chunks.length === 1 ? chunks[0].includes(OUTPUTS) : Buffer.concat(chunks).includes(OUTPUTS));

async function run({ plan, target, startAt }: WorkerInput): Promise<WorkerOutput> {
  await sleep(Math.max(0, startAt - Date.now()));
  const rec = new Recorder();
  const progress = setInterval(() => parentPort?.postMessage({ type: 'progress', progress: rec.progress() }), 500);
  try {
    await new Load(plan, target, rec).run();
  } finally {
    clearInterval(progress);
  }
  return rec.output();
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A virtual user: a keep-alive HTTP/1.1 connection of its own, as each k6 VU has, so a VU's requests
 * never wait behind another's and no shared pool is searched for a free connection on each request.
 * A request's bytes are built once per payload and written in one call; answers are parsed by
 * http-parser-js (Content-Length, chunked, or to the end of the connection). That is autocannon's
 * recipe (over undici the engine reached 0.68x wrk's rate on two cores shared with the platform:
 * docs/testing/benchmarks.md), but unlike autocannon a request whose connection fails, times out
 * connecting or closes before the whole answer is a failed request with its error (status 0), as k6
 * counts it, never sent again. Nothing is allocated per request beyond what the parser needs: under
 * tsx every closure made in the hot path is also named.
 */
class VirtualUser {
  private status = 0;
  private chunks: Buffer[] = [];
  private started = 0;
  private waiting = false;
  private socket: net.Socket | undefined;
  private parser: InstanceType<typeof HTTPParser> | undefined;
  private keepAlive = true;

  constructor(
    private readonly load: Load,
    readonly index: number,
  ) {}

  send(): void {
    const { rec, requests } = this.load;
    const request = requests[rec.iterations % requests.length];
    rec.iterations++;
    rec.inFlight++;
    if (rec.inFlight > rec.maxInFlight) rec.maxInFlight = rec.inFlight;
    this.status = 0;
    this.chunks = [];
    this.started = performance.now();
    this.waiting = true;
    (this.socket ?? this.connect()).write(request);
  }

  /** A new connection and its parser; a failure or close with a request in flight fails that request. */
  private connect(): net.Socket {
    const { host, port, tls: secure } = this.load.server;
    const socket = secure ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.setTimeout(0));
    socket.on('timeout', () => this.failed(socket, `connecting to ${host}:${port} timed out after ${CONNECT_TIMEOUT_MS / 1000} s`));
    const parser = new HTTPParser(HTTPParser.RESPONSE);
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      this.status = info.statusCode ?? 0;
      this.keepAlive = info.shouldKeepAlive;
      // answers that have no body (1: the parser skips it)
      return this.status === 204 || this.status === 304 || this.status < 200 ? 1 : 0;
    };
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
      this.chunks.push(chunk);
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (this.status >= 200) this.answered();
    };
    socket.on('data', (chunk: Buffer) => {
      if (this.parser !== parser) return;
      const parsed = parser.execute(chunk);
      if (parsed instanceof Error) this.failed(socket, `invalid HTTP answer: ${parsed.message}`);
    });
    socket.on('end', () => {
      // an answer without length ends with the connection
      if (this.parser === parser && this.waiting) parser.finish();
      this.failed(socket, 'the server closed the connection before the whole answer');
    });
    socket.on('error', (error: Error) => this.failed(socket, error.message));
    socket.on('close', () => this.failed(socket, 'the connection closed before the whole answer'));
    this.socket = socket;
    this.parser = parser;
    this.keepAlive = true;
    return socket;
  }

  /** The whole answer came. */
  private answered(): void {
    if (!this.waiting) return;
    this.waiting = false;
    const { rec } = this.load;
    rec.inFlight--;
    rec.ended(this.status, answered(this.status, this.chunks), this.started, performance.now() - this.started);
    this.chunks = [];
    if (!this.keepAlive) this.drop(this.socket);
    this.load.free(this);
  }

  /** The connection is gone (or unusable): a request in flight on it failed with `error`. */
  private failed(socket: net.Socket, error: string): void {
    if (this.socket !== socket) return;
    this.drop(socket);
    if (!this.waiting) return;
    this.waiting = false;
    const { rec } = this.load;
    rec.inFlight--;
    rec.ended(0, false, this.started, performance.now() - this.started, error);
    this.chunks = [];
    // the VU's next request waits for the next turn (no recursion when the failure was raised at once)
    setImmediate(() => this.load.free(this));
  }

  private drop(socket: net.Socket | undefined): void {
    if (!socket || this.socket !== socket) return;
    this.socket = undefined;
    this.parser = undefined;
    socket.destroy();
  }

  close(): void {
    this.drop(this.socket);
  }
}

/** Any executor: the plan's VUs, what they send, and what a VU does when its request ended. */
class Load {
  readonly server: { host: string; port: number; tls: boolean };
  /** Each payload's whole request (line, headers and body), built once. */
  readonly requests: Buffer[];
  readonly vus: VirtualUser[];
  /** Open model: the VUs with no request in flight. */
  private readonly idle: VirtualUser[];
  /** Closed model: iterations started against a shared budget, and the VUs still looping. */
  private shared = 0;
  private looping: number;
  private stopped: () => void = () => undefined;

  constructor(
    private readonly plan: WorkerPlan,
    target: WorkerTarget,
    readonly rec: Recorder,
  ) {
    const url = new URL(target.url);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new Error(`the load target ${target.url} is not an http or https address`);
    this.server = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || (secure ? 443 : 80), tls: secure };
    // the framing headers are the engine's; the target's own headers go as given (a Host the target names, e.g. for an ingress, included)
    const framing = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);
    const given = Object.entries(target.headers);
    const host = given.find(([name]) => name.toLowerCase() === 'host')?.[1] ?? url.host;
    const headers = given.filter(([name]) => !framing.has(name.toLowerCase())).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    this.requests = target.bodies.map((b) => {
      const body = Buffer.from(b);
      const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\n${headers}content-length: ${body.length}\r\n\r\n`;
      return Buffer.concat([Buffer.from(head, 'latin1'), body]);
    });
    this.vus = Array.from({ length: plan.maxConcurrency }, (_, i) => new VirtualUser(this, i));
    this.idle = [...this.vus].reverse();
    this.looping = plan.maxConcurrency;
  }

  /** A VU's request ended: open model, it is free again; closed model, it sends again while the plan keeps it active. */
  free(vu: VirtualUser): void {
    if (this.plan.model === 'open') this.idle.push(vu);
    else this.next(vu);
  }

  private next(vu: VirtualUser): void {
    const { plan, rec } = this;
    if (rec.elapsed() >= plan.durationMs) return this.stop();
    if (vu.index >= activeVus(plan, rec.elapsed())) {
      setTimeout(() => this.next(vu), 5);
      return;
    }
    if (plan.iterations !== undefined && this.shared >= plan.iterations) return this.stop();
    this.shared++;
    vu.send();
  }

  private stop(): void {
    if (--this.looping === 0) this.stopped();
  }

  async run(): Promise<void> {
    const { plan, rec } = this;
    try {
      if (plan.model === 'open') {
        // arrival rate: iterations start on schedule whatever the answers, each on a free VU; none free (maxVUs busy) = dropped, as k6 counts them
        let started = 0;
        while (rec.elapsed() < plan.durationMs) {
          const due = arrivalsBy(plan, rec.elapsed());
          while (started < due) {
            started++;
            const vu = this.idle.pop();
            if (vu) vu.send();
            else rec.dropped++;
          }
          await sleep(1);
        }
        const until = performance.now() + plan.gracefulStopMs;
        while (this.idle.length < plan.maxConcurrency && performance.now() < until) await sleep(2);
      } else {
        // closed model: each VU sends, waits for the answer, sends again, while the plan keeps it active
        await new Promise<void>((resolve) => {
          this.stopped = resolve;
          for (const vu of this.vus) this.next(vu);
          setTimeout(resolve, plan.durationMs + plan.gracefulStopMs - rec.elapsed()).unref();
        });
      }
    } finally {
      // requests still unanswered after gracefulStop are interrupted
      rec.finish();
      for (const vu of this.vus) vu.close();
    }
  }
}

if (parentPort) {
  run(workerData as WorkerInput).then(
    (output) => parentPort!.postMessage({ type: 'done', output }),
    (error: Error) => parentPort!.postMessage({ type: 'error', error: error.stack ?? error.message }),
  );
}
