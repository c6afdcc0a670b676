/**
 * A loopback TCP port that was free a moment ago (for servers that must be told their port before
 * they listen, as Prometheus is told the stack's).
 *
 * It is drawn below the kernel's ephemeral range: a port from that range, released and bound a few
 * seconds later, can be taken meanwhile as the local port of any outgoing connection, and the
 * server then fails with EADDRINUSE. Only when no port below the range is found free does it fall
 * back to one the kernel picks.
 */
import fs from 'node:fs';
import net from 'node:net';

const LOWEST = 10_000;

function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Bind `port` (0: the kernel picks) on loopback and release it; the port bound, or undefined when it was taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryPort(LOWEST + Math.floor(Math.random() * (high - LOWEST)));
    if (port !== undefined) return port;
  }
  const any = await tryPort(0);
  if (any === undefined) throw new Error('no free loopback port');
  return any;
}
