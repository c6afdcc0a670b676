/**
 * The live dashboard web app: one HTML page (A/B testing, business impact, bandit allocation, drift
 * status, explanations, security), a JSON API the page polls, and the ECharts and page scripts. The
 * security view is read from the run's evidence ledger (--evidence) on every API request.
 *
 *   GET /                      the page
 *   GET /api/dashboard?window=5m&models=a,b    DashboardData (figures with sources, chart options)
 *   GET /healthz               {"ok":true}
 *
 * Served by a hardened server (stack/http-hardening.ts: timeouts, body and connection limits, JSON
 * answers to malformed requests). A request whose Host header names a host the dashboard does not
 * serve is refused with 403, so a page on another site cannot read the API through DNS rebinding.
 * Every answer carries `x-content-type-options: nosniff`.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/config.ts';
import { dashboardData, type DashboardData, WINDOWS, type ViewSources } from '../support/views/dashboard-views.ts';
import { createHardenedServer, DEFAULT_HTTP_LIMITS, readBody, sendJson, type HttpLimits } from '../stack/http-hardening.ts';
import { LiveMetrics } from '../support/metrics/live-metrics.ts';
import { diesAfter, figuresOfAll, pageWithFaults, SLOW_PAGE_MS, stickyFallback, withFaults, type DashboardFault } from './faults.ts';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/echarts.min.js': { file: path.join(PROJECT_ROOT, 'node_modules', 'echarts', 'dist', 'echarts.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.js': { file: path.join(import.meta.dirname, 'public', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: path.join(import.meta.dirname, 'public', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/': { file: path.join(import.meta.dirname, 'public', 'index.html'), type: 'text/html; charset=utf-8' },
};

export interface DashboardServerOptions {
  sources: ViewSources;
  refreshSeconds: number;
  /** HTTP limits (timeouts, body size, connections); DEFAULT_HTTP_LIMITS when unset. */
  limits?: HttpLimits;
  /** The host the server is bound to, as given (a name or an address): `<host>:<port>` is served. */
  host?: string;
  /** More Host header values to serve: `name` (any port) or `name:port`. */
  allowedHosts?: string[];
  /** Deliberate defects for the harness's meta tests (dashboard/faults.ts); none in normal runs. */
  faults?: ReadonlySet<DashboardFault>;
}

/** A Host header value (or an --allowed-host entry) split into a lower-case name and its port. */
export interface HostName {
  name: string;
  port?: number;
}

/** `name`, `name:port`, `[v6]` or `[v6]:port`; undefined for anything else (user info, paths, junk). */
export function parseHostHeader(value: string): HostName | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)(?::(\d{1,5}))?$/i.exec(value);
  if (!match) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name: match[1].toLowerCase(), port };
}

/** A bare address as a Host name: IPv6 in brackets. */
const hostName = (address: string): string => (address.includes(':') && !address.startsWith('[') ? `[${address}]` : address).toLowerCase();

/**
 * Decides whether a Host is served: the loopback names and the bound host on the bound port, and
 * the extra entries (an entry without a port allows any port).
 */
function hostPolicy(server: http.Server, options: DashboardServerOptions): (host: HostName) => boolean {
  const extra = (options.allowedHosts ?? []).map((entry) => {
    const parsed = parseHostHeader(entry);
    if (!parsed) throw new Error(`allowed host '${entry}' must look like name, name:port or [v6]:port`);
    return parsed;
  });
  return (host) => {
    const address = server.address();
    if (!address || typeof address === 'string') return false;
    const port = host.port ?? 80;
    const local = new Set(['localhost', '127.0.0.1', '[::1]', hostName(address.address)]);
    if (options.host) local.add(hostName(options.host));
    if (port === address.port && local.has(host.name)) return true;
    return extra.some((e) => e.name === host.name && (e.port === undefined || e.port === port));
  };
}

/** The request target as a URL: origin-form (`/path?query`, `//` included) or absolute-form (`http://host/path`); undefined otherwise. */
function requestUrl(target: string): URL | undefined {
  if (target.startsWith('/')) return URL.canParse(`http://dashboard.local${target}`) ? new URL(`http://dashboard.local${target}`) : undefined;
  return /^https?:\/\//i.test(target) && URL.canParse(target) ? new URL(target) : undefined;
}

export function createDashboardServer(options: DashboardServerOptions): http.Server {
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const faults = options.faults ?? new Set<DashboardFault>();
  const frozen = new Map<string, DashboardData>();
  const sources = faults.has('dashboard-sticky-fallback') && options.sources.live instanceof LiveMetrics ? { ...options.sources, live: stickyFallback(options.sources.live) } : options.sources;
  const cache = new Map<string, Buffer>();
  const asset = (file: string): Buffer => {
    let body = cache.get(file);
    if (!body) cache.set(file, (body = fs.readFileSync(file)));
    return body;
  };
  const server = createHardenedServer(limits, async (req, res) => {
    res.setHeader('x-content-type-options', 'nosniff');
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
      res.end(body);
    };
    const json = (status: number, payload: unknown, extra: Record<string, string> = {}): void => sendJson(res, status, payload, { 'cache-control': 'no-store', ...extra });

    // Host first: a foreign page learns nothing, not even whether a route exists.
    const hostHeader = req.headers.host;
    if (hostHeader === undefined) return json(403, { error: 'missing Host header' }, { connection: 'close' });
    const host = parseHostHeader(hostHeader);
    if (!host || !served(host)) return json(403, { error: `host '${hostHeader}' is not served here (see --allowed-host)` }, { connection: 'close' });
    const url = requestUrl(req.url ?? '');
    if (!url) return json(400, { error: 'the request target must be a path or an http URL' }, { connection: 'close' });
    if (!req.url?.startsWith('/')) {
      // Absolute-form: its authority stands in for the Host header, so it must be served too.
      const authority = parseHostHeader(url.host);
      if (!authority || !served(authority)) return json(403, { error: `host '${url.host}' is not served here (see --allowed-host)` }, { connection: 'close' });
    }
    // The API takes no body; one that is sent is read (and dropped) within the limit, so an
    // oversized one is refused before a byte of it is read.
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      if ((await readBody(req, res, limits.maxBodyBytes)) === undefined) return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: `use GET for ${url.pathname}` }, { allow: 'GET, HEAD' });
    if (url.pathname === '/healthz') return json(200, { ok: true });
    if (url.pathname === '/api/dashboard') {
      const window = url.searchParams.get('window') ?? '5m';
      if (!WINDOWS.includes(window)) return json(400, { error: `window must be one of ${WINDOWS.join(', ')}, got '${window}'` });
      const asked = (url.searchParams.get('models') ?? '').split(',').filter(Boolean);
      const models = faults.has('dashboard-ignore-filter') ? [] : asked;
      const unknown = asked.filter((m) => !options.sources.models.includes(m));
      if (unknown.length > 0) return json(400, { error: `unknown model(s) ${unknown.join(', ')}; known: ${options.sources.models.join(', ')}` });
      try {
        const key = `${window}|${models.join(',')}`;
        let read = await dashboardData(sources, window, models);
        if (faults.has('dashboard-figures-ignore-filter') && models.length > 0) read = figuresOfAll(read, await dashboardData(sources, window, []));
        const data = (faults.has('dashboard-frozen-data') && frozen.get(key)) || withFaults(read, faults);
        if (faults.has('dashboard-frozen-data')) frozen.set(key, data);
        json(200, { ...data, refreshSeconds: options.refreshSeconds, windows: WINDOWS });
        if (diesAfter(data, faults)) res.once('finish', () => process.exit(70));
        return;
      } catch (error) {
        return json(500, { error: (error as Error).message });
      }
    }
    const found = ASSETS[url.pathname];
    if (found && url.pathname === '/' && faults.has('dashboard-slow-page')) await new Promise((resolve) => setTimeout(resolve, SLOW_PAGE_MS));
    if (found) return send(200, found.type, url.pathname === '/' ? pageWithFaults(asset(found.file), faults) : asset(found.file), { 'cache-control': url.pathname === '/' ? 'no-store' : 'max-age=300' });
    return json(404, { error: `no route for ${url.pathname}` });
  });
  const served = hostPolicy(server, options);
  return server;
}
