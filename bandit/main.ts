/**
 * The bandit controller, as a program (on a cluster it would be a Deployment beside Seldon):
 *
 *   tsx bandit/main.ts --experiment financial-mab-experiment --namespace NS
 *                      (--stack-url URL | --kubernetes [--kubeconfig FILE] [--context NAME])
 *                      [--port 0] [--host 127.0.0.1] [--seed 42] [--fresh] [--fault uniform|never-patch]
 *
 * It reads the Experiment's candidates and bandit annotations through the embedded stack's
 * Kubernetes-shaped paths (--stack-url) or a Kubernetes API server (--kubernetes: KUBECONFIG,
 * ~/.kube/config or in-cluster, or --kubeconfig; --context), keeps its state
 * in the PostgreSQL at BANDIT_DB_URL (never an argument, so it stays out of process lists; the
 * MLflow store's server will do), reads each arm's readiness from its Model's status (the control
 * plane's view, what Seldon routes by; probing seldon-mesh would count as the model's requests) at
 * every update and every probe-seconds, and serves the API of bandit/server.ts. --fresh forgets the stored state first.
 * When listening it prints {"event":"ready","url":...,"arms":[...],"resumed":{...}}.
 */
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { BanditController, CONTROLLER_FAULTS, type ControllerFault } from './controller.ts';
import { kubeExperimentAccess, stackExperimentAccess, type ExperimentAccess } from './experiment-access.ts';
import { createBanditServer } from './server.ts';
import { BanditStateStore } from './state-store.ts';
import { fatal, listenAndAnnounce } from '../stack/program.ts';

const { values } = parseArgs({
  options: {
    experiment: { type: 'string', default: 'financial-mab-experiment' },
    namespace: { type: 'string', default: 'seldon-mesh' },
    'stack-url': { type: 'string' },
    kubernetes: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string', default: '42' },
    fresh: { type: 'boolean', default: false },
    fault: { type: 'string', multiple: true, default: [] },
  },
});
const seed = Number(values.seed);
const port = Number(values.port);
if (!Number.isInteger(seed)) fatal(`--seed must be an integer, got '${values.seed}'`);
if (!Number.isInteger(port) || port < 0 || port > 65535) fatal(`--port must be 0..65535, got '${values.port}'`);
const kubernetes = values.kubernetes || values.kubeconfig !== undefined;
if ((values['stack-url'] === undefined) === !kubernetes) fatal('give one of --stack-url (the embedded stack) or --kubernetes (a Kubernetes API server)');
const badFault = values.fault.find((f) => !(CONTROLLER_FAULTS as readonly string[]).includes(f));
if (badFault !== undefined) fatal(`--fault must be one of ${CONTROLLER_FAULTS.join(', ')}, got '${badFault}'`);
const databaseUrl = process.env.BANDIT_DB_URL;
if (!databaseUrl) fatal('BANDIT_DB_URL is not set: the controller keeps its posteriors in PostgreSQL (the MLflow store\'s server will do)');

let access: ExperimentAccess;
if (kubernetes) {
  const kc = new KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else kc.loadFromDefault();
  if (values.context) kc.setCurrentContext(values.context);
  access = kubeExperimentAccess(kc, values.namespace, 'financial-mlops-uat-bandit');
} else {
  access = stackExperimentAccess(values['stack-url']!.replace(/\/$/, ''), values.namespace);
}
const armReady = (arm: string): Promise<boolean> => access.modelReady(arm);

let store: BanditStateStore;
try {
  store = await BanditStateStore.connect(databaseUrl);
  if (values.fresh) await store.reset(values.experiment);
} catch (error) {
  fatal(`cannot use the PostgreSQL at BANDIT_DB_URL: ${(error as Error).message}`);
}
let controller: BanditController;
try {
  controller = await BanditController.start({
    experiment: values.experiment,
    access,
    store,
    seed,
    armReady,
    faults: values.fault as ControllerFault[],
    onUpdate: (u) => process.stderr.write(`${JSON.stringify({ event: 'update', ...u })}\n`),
  });
} catch (error) {
  fatal(`cannot start on Experiment ${values.experiment} in ${access.where}: ${(error as Error).message}`);
}
const server = createBanditServer(controller);
listenAndAnnounce(server, values.host, port, () => ({ experiment: values.experiment, arms: controller.arms, strategy: controller.settings.strategy, resumed: controller.progress }));
const stop = (): void => {
  server.close();
  // every reward received is stored before the exit, so a restart resumes from all of them
  void controller.flush().catch((error: Error) => process.stderr.write(`${JSON.stringify({ event: 'error', message: error.message })}\n`)).finally(() => void store.close().finally(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
