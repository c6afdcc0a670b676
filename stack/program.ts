/**
 * How the platform's programs (the stack, the dashboard, the bandit controller, the explanation
 * gateway, the drift monitor) tell whoever starts them that they are up or cannot start
 * (support/targets/stack-process.ts reads it): one JSON line `{"event":"ready","url":...}` on
 * stdout once listening, or one `{"event":"error","message":...}` on stderr and exit code 2.
 */
import type http from 'node:http';

export function fatal(message: string): never {
  process.stderr.write(`${JSON.stringify({ event: 'error', message })}\n`);
  process.exit(2);
}

/** Listen on host:port (0: any free port) and announce the URL with `details()`; failing to listen is fatal. */
export function listenAndAnnounce(server: http.Server, host: string, port: number, details: () => Record<string, unknown>): void {
  server.once('error', (error) => fatal(`cannot listen on ${host}:${port}: ${error.message}`));
  // the queue of connections not yet accepted: as long as the connections the server takes (a burst of
  // thousands of users connecting at once would overflow Node's default of 511, and be reset)
  const backlog = Math.max(511, Number.isFinite(server.maxConnections) ? server.maxConnections : 511);
  server.listen({ port, host, backlog }, () => {
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    process.stdout.write(`${JSON.stringify({ event: 'ready', url: `http://${shown}:${bound}`, ...details() })}\n`);
  });
}
