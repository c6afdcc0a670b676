/**
 * The live dashboard web app: one HTML page (A/B testing, business impact, bandit allocation, drift
 * status, explanations), a JSON API the page polls, and the ECharts and page scripts.
 *
 *   GET /                      the page
 *   GET /api/dashboard?window=5m&models=a,b    DashboardData (figures with sources, chart options)
 *   GET /healthz               {"ok":true}
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/config.ts';
import { dashboardData, WINDOWS, type ViewSources } from '../support/views/dashboard-views.ts';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/echarts.min.js': { file: path.join(PROJECT_ROOT, 'node_modules', 'echarts', 'dist', 'echarts.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.js': { file: path.join(import.meta.dirname, 'public', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: path.join(import.meta.dirname, 'public', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/': { file: path.join(import.meta.dirname, 'public', 'index.html'), type: 'text/html; charset=utf-8' },
};

export interface DashboardServerOptions {
  sources: ViewSources;
  refreshSeconds: number;
}

export function createDashboardServer(options: DashboardServerOptions): http.Server {
  const cache = new Map<string, Buffer>();
  const asset = (file: string): Buffer => {
    let body = cache.get(file);
    if (!body) cache.set(file, (body = fs.readFileSync(file)));
    return body;
  };
  return http.createServer((req, res) => {
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
      res.end(body);
    };
    const json = (status: number, payload: unknown): void => send(status, 'application/json', JSON.stringify(payload), { 'cache-control': 'no-store' });
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://dashboard.local');
      try {
        if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: `use GET for ${url.pathname}` });
        if (url.pathname === '/healthz') return json(200, { ok: true });
        if (url.pathname === '/api/dashboard') {
          const window = url.searchParams.get('window') ?? '5m';
          if (!WINDOWS.includes(window)) return json(400, { error: `window must be one of ${WINDOWS.join(', ')}, got '${window}'` });
          const models = (url.searchParams.get('models') ?? '').split(',').filter(Boolean);
          const unknown = models.filter((m) => !options.sources.models.includes(m));
          if (unknown.length > 0) return json(400, { error: `unknown model(s) ${unknown.join(', ')}; known: ${options.sources.models.join(', ')}` });
          return json(200, { ...(await dashboardData(options.sources, window, models)), refreshSeconds: options.refreshSeconds, windows: WINDOWS });
        }
        const found = ASSETS[url.pathname];
        if (found) return send(200, found.type, asset(found.file), { 'cache-control': url.pathname === '/' ? 'no-store' : 'max-age=300' });
        return json(404, { error: `no route for ${url.pathname}` });
      } catch (error) {
        return json(500, { error: (error as Error).message });
      }
    })();
  });
}
