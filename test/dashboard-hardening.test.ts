/**
 * The dashboard program against hostile clients: foreign Host headers (DNS rebinding), oversized
 * bodies, slow headers and malformed requests each get a JSON refusal (or a closed connection),
 * every JSON answer says nosniff, and the program keeps serving.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { launchDashboard, StackStartError, type StackProcess } from '../support/targets/stack-process.ts';

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 3000;

let dashboard: StackProcess;
let port = 0;
let exits = 0;

before(async () => {
  dashboard = await launchDashboard({
    args: ['--port', '0', '--headers-timeout-ms', String(HEADERS_TIMEOUT_MS), '--request-timeout-ms', String(REQUEST_TIMEOUT_MS), '--allowed-host', 'dash.example:8443', '--allowed-host', 'dash.internal'],
    env: { ...process.env, MLFLOW_DB_URL: '' },
  });
  port = Number(new URL(dashboard.url).port);
  dashboard.child.once('exit', () => exits++);
});
after(async () => {
  await dashboard?.stop();
});

interface RawAnswer {
  /** 0 when the connection closed (or the wait ended) without a status line. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection within the wait. */
  closed: boolean;
  ms: number;
}

/**
 * Send raw bytes on a fresh connection (then `drip` bytes one at a time, `dripMs` apart) and
 * collect everything until the server closes or `waitMs` passes.
 */
function exchange(data: string, options: { waitMs?: number; drip?: string; dripMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    let dripper: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearInterval(dripper);
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
      const headers = Object.fromEntries(lines.filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: status ? Number(status) : 0, headers, body: rest.join('\r\n\r\n'), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(finish, options.waitMs ?? 5000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(data);
    if (options.drip) {
      let i = 0;
      dripper = setInterval(() => {
        if (i < options.drip!.length && !socket.destroyed) socket.write(options.drip![i++]);
      }, options.dripMs ?? 100);
    }
  });
}

const host = (): string => `127.0.0.1:${port}`;
const get = (path: string, hostHeader: string | null, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\n${hostHeader === null ? '' : `Host: ${hostHeader}\r\n`}${extra}Connection: close\r\n\r\n`;

function assertJsonError(answer: RawAnswer, status: number, message: RegExp): void {
  assert.equal(answer.status, status, `expected ${status}, got ${JSON.stringify(answer)}`);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  assert.match(JSON.parse(answer.body).error, message);
}

test('a Host the dashboard does not serve is refused with 403 (DNS rebinding); its own names are served', async () => {
  for (const foreign of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `localhost:${port}@evil.example`, 'dash.example:8444', `127.0.0.2:${port}`]) {
    assertJsonError(await exchange(get('/healthz', foreign)), 403, /is not served here/);
  }
  assertJsonError(await exchange(get('/api/dashboard', 'evil.example')), 403, /host 'evil.example' is not served here/);
  for (const own of [host(), `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, 'dash.example:8443', 'dash.internal', 'dash.internal:9000']) {
    const answer = await exchange(get('/healthz', own));
    assert.equal(answer.status, 200, `${own}: ${JSON.stringify(answer)}`);
    assert.deepEqual(JSON.parse(answer.body), { ok: true });
  }
  // An absolute-form target names the host itself: a foreign one is refused the same way.
  assertJsonError(await exchange(get('http://evil.example/healthz', host())), 403, /host 'evil.example' is not served here/);
  assert.equal((await exchange(get(`http://127.0.0.1:${port}/healthz`, host()))).status, 200);
  // No Host at all: HTTP/1.0 reaches the dashboard's check, HTTP/1.1 is malformed.
  assertJsonError(await exchange('GET /healthz HTTP/1.0\r\n\r\n'), 403, /missing Host header/);
  assertJsonError(await exchange(get('/healthz', null)), 400, /must carry a Host header/);
});

test('every JSON answer says nosniff, and so does the page', async () => {
  for (const [path, status] of [['/healthz', 200], ['/api/dashboard?window=1m', 200], ['/api/dashboard?window=2m', 400], ['/nothing', 404]] as const) {
    const response = await fetch(`${dashboard.url}${path}`);
    assert.equal(response.status, status, path);
    assert.equal(response.headers.get('content-type'), 'application/json', path);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
    await response.arrayBuffer();
  }
  const post = await fetch(`${dashboard.url}/healthz`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('x-content-type-options'), 'nosniff');
  await post.arrayBuffer();
  const page = await fetch(`${dashboard.url}/`);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  await page.arrayBuffer();
});

test('a declared 10 MB body is refused with 413 before it is read, and the connection lingers briefly, then closes', async () => {
  for (const method of ['POST', 'GET']) {
    // Only the headers are sent: a server that waited for the body would answer 408 after the
    // request timeout instead. The connection then lingers (1 s without data) and closes.
    const answer = await exchange(`${method} /api/dashboard HTTP/1.1\r\nHost: ${host()}\r\nContent-Length: 10000000\r\n\r\n`, { waitMs: REQUEST_TIMEOUT_MS + 2000 });
    assertJsonError(answer, 413, /request body exceeds 1048576 bytes/);
    assert.ok(answer.closed && answer.ms < REQUEST_TIMEOUT_MS / 2 + 500, `${method}: closed=${answer.closed} after ${answer.ms} ms`);
  }
  // Far above the limit (more than 16 times): closed at once, no lingering.
  const huge = await exchange(`POST /api/dashboard HTTP/1.1\r\nHost: ${host()}\r\nContent-Length: 100000000\r\n\r\n`, { waitMs: REQUEST_TIMEOUT_MS + 2000 });
  assertJsonError(huge, 413, /request body exceeds/);
  assert.equal(huge.headers.connection, 'close');
  assert.ok(huge.closed && huge.ms < 500, `closed=${huge.closed} after ${huge.ms} ms`);
  // Chunked, no length: refused once the bytes pass the limit.
  const chunk = `100000\r\n${'a'.repeat(0x100000)}\r\n`;
  const chunked = await exchange(`POST /healthz HTTP/1.1\r\nHost: ${host()}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}`, { waitMs: REQUEST_TIMEOUT_MS + 2000 });
  assertJsonError(chunked, 413, /request body exceeds/);
  assert.ok(chunked.closed, 'connection closed after the 413');
});

test('a slow-headers client gets 408 or is closed within the headers timeout', async () => {
  // One header byte every 100 ms, never finishing: each byte is progress, the deadline still holds.
  const slow = await exchange(`GET /healthz HTTP/1.1\r\nHost: ${host()}\r\n`, { drip: 'X-Slow: ' + 'a'.repeat(100), dripMs: 100, waitMs: 10_000 });
  assert.ok(slow.closed, `still open after ${slow.ms} ms`);
  // The timeout is checked every min(1000, headers/2) ms: allow that interval plus scheduling slack.
  assert.ok(slow.ms < HEADERS_TIMEOUT_MS * 2 + 1000, `closed after ${slow.ms} ms`);
  if (slow.status !== 0) assertJsonError(slow, 408, /not received in time/);
  // A connection that sends nothing at all is closed the same way.
  const idle = await exchange('', { waitMs: 10_000 });
  assert.ok(idle.closed && idle.ms < HEADERS_TIMEOUT_MS * 2 + 1000, `idle connection: closed=${idle.closed} after ${idle.ms} ms`);
});

test('a slow-body client gets 408 or is closed within the request timeout', async () => {
  // Complete headers, then one body byte every 100 ms: 100 bytes would take 10 s.
  const slow = await exchange(`POST /api/dashboard HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`, { drip: 'a'.repeat(100), dripMs: 100, waitMs: 10_000 });
  assert.ok(slow.closed, `still open after ${slow.ms} ms`);
  assert.ok(slow.ms < REQUEST_TIMEOUT_MS + 2000, `closed after ${slow.ms} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`);
  if (slow.status !== 0) assertJsonError(slow, 408, /not received in time/);
});

test('connections past --max-connections are dropped, and served again once others close', async () => {
  const capped = await launchDashboard({ args: ['--port', '0', '--max-connections', '2', '--headers-timeout-ms', '5000', '--request-timeout-ms', '10000'], env: { ...process.env, MLFLOW_DB_URL: '' } });
  try {
    const cappedPort = Number(new URL(capped.url).port);
    const open = (): Promise<net.Socket> => new Promise((resolve) => { const s = net.connect(cappedPort, '127.0.0.1', () => resolve(s)); s.on('error', () => undefined); });
    const holders = [await open(), await open()];
    for (const h of holders) h.write('GET /healthz HTTP/1.1\r\n'); // headers never finished
    await new Promise((resolve) => setTimeout(resolve, 200));
    const third = await open();
    const dropped = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      third.once('close', () => { clearTimeout(timer); resolve(true); });
      third.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${cappedPort}\r\n\r\n`);
    });
    assert.ok(dropped, 'the third connection was kept open');
    for (const h of holders) h.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const res = await fetch(`${capped.url}/healthz`);
    assert.equal(res.status, 200);
  } finally {
    await capped.stop();
  }
});

test('a malformed request gets a 400 with a JSON body', async () => {
  assertJsonError(await exchange('GARBAGE\r\n\r\n'), 400, /malformed request/);
  assertJsonError(await exchange('GET /healthz HTTP/9.9\r\n\r\n'), 400, /malformed request/);
  assertJsonError(await exchange(`GET /healthz HTTP/1.1\r\nHost: ${host()}\r\nBad Header: x\r\n\r\n`), 400, /malformed request/);
  assertJsonError(await exchange(`GET /healthz HTTP/1.1\r\nHost: ${host()}\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`), 431, /request headers exceed/);
  assertJsonError(await exchange(`GET /a\u0001b HTTP/1.1\r\nHost: ${host()}\r\n\r\n`), 400, /malformed request/);
  // A target the URL parser cannot take as a path (a scheme-relative '//') is still a path here.
  assert.equal((await exchange(get('//', host()))).status, 404);
  assertJsonError(await exchange(get('*', host())), 400, /request target must be a path/);
});

test('the dashboard program refuses a bad --allowed-host or limit, naming the flag', async () => {
  const refusal = async (args: string[]): Promise<string> => {
    try {
      await (await launchDashboard({ args: ['--port', '0', ...args], deadlineMs: 20_000 })).stop();
      return 'started';
    } catch (error) {
      assert.ok(error instanceof StackStartError, String(error));
      return `${error.exitCode}: ${error.stderr}`;
    }
  };
  assert.match(await refusal(['--allowed-host', 'evil.example/path']), /^2: .*--allowed-host must look like NAME, NAME:PORT or \[IPv6\]:PORT, got 'evil.example\/path'/);
  assert.match(await refusal(['--headers-timeout-ms', 'soon']), /^2: .*--headers-timeout-ms must be an integer >= 100, got 'soon'/);
});

test('after all that the dashboard still answers /healthz and never exited', async () => {
  const response = await fetch(`${dashboard.url}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true });
  assert.equal(dashboard.child.exitCode, null);
  assert.equal(exits, 0);
});
