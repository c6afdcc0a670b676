/**
 * The harness's webhook receiver: where the drift monitor sends its alerts (Alertmanager's webhook
 * payload). It keeps every POSTed body with the time it arrived, for the scenarios to read.
 */
import http from 'node:http';

export interface ReceivedAlert {
  receivedAt: string;
  body: { status?: string; alerts?: { status?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] } & Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  received(): ReceivedAlert[];
  stop(): Promise<void>;
}

export function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedAlert[] = [];
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push({ receivedAt: new Date().toISOString(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedAlert['body'] });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'the body is not JSON' }));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${address.port}/alerts`,
        received: () => [...received],
        stop: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
