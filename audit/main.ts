/**
 * The explanation gateway, as a program (on a cluster it would be a Deployment in front of the
 * explainers):
 *
 *   tsx audit/main.ts --inference-url URL --explains <explainer>=<model> [--explains ...]
 *                     [--port 0] [--host 127.0.0.1] [--fault skip-every-4th-write]
 *
 * It writes the audit trail to the PostgreSQL at AUDIT_DB_URL (never an argument, so it stays out
 * of process lists; the MLflow store's server will do) and serves the API of audit/gateway.ts.
 * When listening it prints {"event":"ready","url":...,"explainers":[...]}.
 */
import { parseArgs } from 'node:util';
import { createAuditGateway, GATEWAY_FAULTS, type GatewayFault } from './gateway.ts';
import { AuditStore } from './store.ts';
import { fatal, listenAndAnnounce } from '../stack/program.ts';

const { values } = parseArgs({
  options: {
    'inference-url': { type: 'string' },
    explains: { type: 'string', multiple: true, default: [] },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    fault: { type: 'string', multiple: true, default: [] },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fatal(`--port must be 0..65535, got '${values.port}'`);
if (!values['inference-url']) fatal('--inference-url is required: the serving mesh the explainers answer on');
const explains = new Map<string, string>();
for (const pair of values.explains) {
  const match = /^([\w.-]+)=([\w.-]+)$/.exec(pair);
  if (!match) fatal(`--explains must be <explainer>=<model>, got '${pair}'`);
  explains.set(match[1], match[2]);
}
if (explains.size === 0) fatal('give at least one --explains <explainer>=<model>');
const badFault = values.fault.find((f) => !(GATEWAY_FAULTS as readonly string[]).includes(f));
if (badFault !== undefined) fatal(`--fault must be one of ${GATEWAY_FAULTS.join(', ')}, got '${badFault}'`);
const databaseUrl = process.env.AUDIT_DB_URL;
if (!databaseUrl) fatal('AUDIT_DB_URL is not set: the gateway writes the audit trail to PostgreSQL (the MLflow store\'s server will do)');

let store: AuditStore;
try {
  store = await AuditStore.connect(databaseUrl);
} catch (error) {
  fatal(`cannot use the PostgreSQL at AUDIT_DB_URL: ${(error as Error).message}`);
}
const server = createAuditGateway({ inferenceUrl: values['inference-url'].replace(/\/$/, ''), store, explains, faults: values.fault as GatewayFault[] });
listenAndAnnounce(server, values.host, port, () => ({ explainers: [...explains.keys()] }));
const stop = (): void => {
  server.close();
  void store.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
