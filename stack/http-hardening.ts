/**
 * HTTP servers that hold up against hostile or broken clients, shared by the embedded stack's
 * gateway and the dashboard. What each limit protects against:
 *
 *   maxBodyBytes        memory: a request body is refused (413) past this size, before it is read
 *                       when its Content-Length says so, as soon as it passes the size when chunked
 *   headersTimeoutMs    slow-headers clients (slowloris): a connection that has not sent complete
 *                       headers in time gets 408 and is closed
 *   requestTimeoutMs    slow-body clients: the whole request must arrive in time (408, closed)
 *   keepAliveTimeoutMs  idle keep-alive connections holding sockets after their last response
 *   maxConnections      file descriptors and memory: connections past this number are dropped
 *
 * Every refusal is an HTTP answer with a JSON body `{"error": "..."}` whenever the socket can
 * still carry one; nothing a client sends makes the server throw.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';

export interface HttpLimits {
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
});

/** The limit flags, for node:util parseArgs (`options: { ...limitOptions, ... }`); no defaults here, parseLimits fills them. */
export const limitOptions = {
  'max-body-bytes': { type: 'string' },
  'headers-timeout-ms': { type: 'string' },
  'request-timeout-ms': { type: 'string' },
  'max-connections': { type: 'string' },
} as const;

export type LimitValues = { [K in keyof typeof limitOptions]?: string | undefined };

/** Smallest accepted value of each flag: below these the server cannot do its job. */
const MINIMUM = { 'max-body-bytes': 1024, 'headers-timeout-ms': 100, 'request-timeout-ms': 100, 'max-connections': 1 } as const;

function integerFlag(values: LimitValues, flag: keyof typeof limitOptions, fallback: number): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < MINIMUM[flag]) throw new Error(`--${flag} must be an integer >= ${MINIMUM[flag]}, got '${raw}'`);
  return value;
}

/**
 * The limits from parsed flag values (unset flags keep `defaults`). Throws an Error naming the
 * flag and the bad value. An unset headers timeout never exceeds the request timeout given.
 */
export function parseLimits(values: LimitValues, defaults: Readonly<HttpLimits> = DEFAULT_HTTP_LIMITS): HttpLimits {
  const requestTimeoutMs = integerFlag(values, 'request-timeout-ms', defaults.requestTimeoutMs);
  const headersTimeoutMs = integerFlag(values, 'headers-timeout-ms', Math.min(defaults.headersTimeoutMs, requestTimeoutMs));
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new Error(`--headers-timeout-ms must not exceed --request-timeout-ms (${requestTimeoutMs}), got '${values['headers-timeout-ms']}'`);
  }
  return {
    maxBodyBytes: integerFlag(values, 'max-body-bytes', defaults.maxBodyBytes),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: defaults.keepAliveTimeoutMs,
    maxConnections: integerFlag(values, 'max-connections', defaults.maxConnections),
  };
}

const JSON_HEADERS = { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' } as const;

/**
 * Answer with a JSON body: content-type, content-length and `x-content-type-options: nosniff` are
 * always set (over any given in `headers`). A response already under way is cut off instead,
 * since its status can no longer change.
 */
export function sendJson(res: http.ServerResponse, status: number, payload: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(payload);
  const all: http.OutgoingHttpHeaders = {};
  for (const name in headers) if (Object.hasOwn(headers, name)) all[name.toLowerCase()] = headers[name];
  all['content-type'] = JSON_HEADERS['content-type'];
  all['x-content-type-options'] = JSON_HEADERS['x-content-type-options'];
  all['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, all);
  res.end(body);
}

/** After a 413, up to this many times the limit is read and discarded (a lingering close) ... */
const DRAIN_FACTOR = 16;
/** ... as long as the client keeps sending: a pause this long ends it. */
const LINGER_MS = 1000;

/**
 * The request body, at most `maxBytes` of it. A declared Content-Length above the limit is
 * refused with 413 before any byte is read; a chunked body is refused as soon as it passes the
 * limit (what was collected is dropped). After the 413 the connection lingers, as nginx's
 * lingering close does: what the client still sends is read and discarded (never kept) until the
 * body ends (the connection then stays usable), DRAIN_FACTOR times the limit has been discarded,
 * or the client pauses for LINGER_MS (both close it). So a client still uploading reads the 413
 * instead of a reset. A
 * declared body above DRAIN_FACTOR times the limit closes the connection at once. Resolves
 * undefined when it has answered, or when the client went away (aborted, socket error); never
 * rejects.
 */
export function readBody(req: http.IncomingMessage, res: http.ServerResponse, maxBytes: number): Promise<Buffer | undefined> {
  const refuse = (linger: boolean): void => {
    const payload = { error: `request body exceeds ${maxBytes} bytes` };
    if (!linger) return sendJson(res, 413, payload, { connection: 'close' });
    sendJson(res, 413, payload);
    const socket = req.socket;
    let discarded = 0;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DRAIN_FACTOR * maxBytes) socket.destroy();
      else timer.refresh();
    });
    // The whole body came and was discarded: the connection stays usable (keep-alive).
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.resume();
  };
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    refuse(Number(declared) <= DRAIN_FACTOR * maxBytes);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (body: Buffer | undefined): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      resolve(body);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      chunks.length = 0;
      refuse(true);
      settle(undefined);
    };
    req.on('data', onData);
    req.once('end', () => settle(Buffer.concat(chunks)));
    req.once('aborted', () => settle(undefined));
    // Stays attached: a late socket error on the request must never become an uncaught 'error'.
    req.on('error', () => settle(undefined));
    req.once('close', () => settle(req.complete ? Buffer.concat(chunks) : undefined));
  });
}

type ClientError = Error & { code?: string; reason?: string };

/** Status and message for a request the HTTP parser refused (or that timed out). */
function describeClientError(error: ClientError, limits: HttpLimits): [number, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, `request headers exceed ${http.maxHeaderSize} bytes`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'chunk extensions too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, `request not received in time (headers within ${limits.headersTimeoutMs} ms, whole request within ${limits.requestTimeoutMs} ms)`];
    default:
      return [400, `malformed request: ${error.reason ?? error.message}${error.code ? ` (${error.code})` : ''}`];
  }
}

/** A raw HTTP/1.1 answer that closes the connection, for sockets no ServerResponse owns. */
function rawJsonAnswer(status: number, message: string): string {
  const body = JSON.stringify({ error: message });
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`
  );
}

/** Time a closing socket gets to hand its answer over before it is destroyed anyway. */
const CLOSE_GRACE_MS = 2000;

function answerAndClose(socket: Duplex, status: number, message: string): void {
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  socket.end(rawJsonAnswer(status, message), () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

/**
 * Whether a response on this socket has begun: an answer written now would corrupt it. Node
 * exposes the in-flight response only as the socket's `_httpMessage` (its own clientError default
 * checks the same).
 */
function responseStarted(socket: Duplex): boolean {
  const current = (socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage;
  return Boolean(current?.headersSent);
}

/**
 * An HTTP server with the given limits and these answers of its own, all JSON:
 * - a request the parser refuses (malformed request line, invalid header, bad Content-Length,
 *   broken chunk): 400; headers too large: 431; too slow: 408; each closes the connection;
 *   a reset or unwritable socket is only destroyed;
 * - an HTTP/1.1 request without Host: 400; an `Expect` other than 100-continue: 417;
 *   CONNECT: 405 (no tunnels);
 * - a handler that throws or rejects: 500 (or the connection is cut when its answer had begun),
 *   instead of taking the process down.
 */
export function createHardenedServer(limits: HttpLimits, handler: http.RequestListener): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Timeouts are only enforced at this interval (Node's default, 30 s, would let a slow
      // client hold a connection for up to 30 s past its timeout).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
      // Node would answer a missing Host with an empty 400; the listener below answers in JSON.
      requireHostHeader: false,
    },
    (req, res) => {
      if (req.httpVersion === '1.1' && req.headers.host === undefined) {
        return sendJson(res, 400, { error: 'an HTTP/1.1 request must carry a Host header' }, { connection: 'close' });
      }
      const failed = (error: unknown): void => {
        if (res.headersSent) res.destroy();
        else sendJson(res, 500, { error: `internal error: ${(error as Error)?.message ?? String(error)}` }, { connection: 'close' });
      };
      try {
        const result = handler(req, res) as unknown;
        if (result instanceof Promise) result.catch(failed);
      } catch (error) {
        failed(error);
      }
    },
  );
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;

  server.on('clientError', (error: ClientError, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const [status, message] = describeClientError(error, limits);
    answerAndClose(socket, status, message);
  });
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    sendJson(res, 417, { error: `unsupported expectation '${String(req.headers.expect)}'; only 100-continue is supported` }, { connection: 'close' });
  });
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    answerAndClose(socket, 405, 'CONNECT is not supported: this server is not a proxy');
  });
  return server;
}
