/**
 * `npm run cluster`: a real Kubernetes API server on loopback for the `kubernetes` target. Builds
 * kube-apiserver once from Debian's source (cached outside the clone), starts etcd and
 * kube-apiserver with token authentication and RBAC, installs the Seldon CRDs (generated from the
 * project's schema), starts the embedded stack in operator mode as Seldon's control plane for one
 * namespace (`--namespace`, default financial-mlops-uat), writes a kubeconfig under reports/cluster/ and
 * stays in the foreground until Ctrl-C or `npm run cluster -- --stop`.
 *
 *   npm run cluster                 build if needed, start, print how to use it
 *   npm run cluster -- --build-only build (or find) kube-apiserver and print where it is
 *   npm run cluster -- --stop       stop the cluster another `npm run cluster` started
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../support/config.ts';
import { BUILD_PACKAGES, ClusterToolMissing, ensureKubeApiserver } from '../support/cluster/kube-apiserver-build.ts';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { installSeldonCrds } from '../support/cluster/crd-install.ts';
import { startLocalCluster } from '../support/cluster/local-cluster.ts';
import { launchStack, type StackProcess } from '../support/targets/stack-process.ts';
import { publishPredictors } from '../support/training/publish-predictors.ts';

const { values } = parseArgs({
  options: { stop: { type: 'boolean', default: false }, 'build-only': { type: 'boolean', default: false }, namespace: { type: 'string', default: 'financial-mlops-uat' } },
});
const config = loadConfig(process.env);
const dir = path.join(config.reportsDir, 'cluster');
const stateFile = path.join(dir, 'state.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (values.stop) {
  const state = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { pid: number }) : undefined;
  if (!state || !alive(state.pid)) {
    console.log(`no local cluster is running (${path.relative(process.cwd(), stateFile)} names none alive)`);
    process.exit(0);
  }
  process.kill(state.pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(state.pid); i++) await new Promise((r) => setTimeout(r, 100));
  console.log(alive(state.pid) ? `the cluster (pid ${state.pid}) did not stop within 10 s` : `stopped the cluster (pid ${state.pid})`);
  process.exit(alive(state.pid) ? 1 : 0);
}

const progress = (line: string): void => console.log(`[cluster] ${line}`);
let apiserverBin: string;
try {
  const built = await ensureKubeApiserver(progress);
  apiserverBin = built.binary;
  progress(built.built ? `kube-apiserver ${built.version} built in ${built.seconds.toFixed(0)} s: ${built.binary}` : `kube-apiserver ${built.version} from the cache: ${built.binary}`);
} catch (error) {
  console.error(`[cluster] ${(error as Error).message}`);
  if (error instanceof ClusterToolMissing) console.error(`[cluster] on Debian bookworm: apt-get install -y ${BUILD_PACKAGES.join(' ')}`);
  process.exit(1);
}
if (values['build-only']) process.exit(0);

fs.mkdirSync(dir, { recursive: true });
const started = Date.now();
const cluster = await startLocalCluster({ apiserverBin, dir: fs.mkdtempSync(path.join(dir, 'run-')) });
const kubeconfig = path.join(dir, 'kubeconfig');
fs.writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
const kc = new KubeConfig();
kc.loadFromString(cluster.kubeconfig());
const namespace = values.namespace;
let stack: StackProcess;
try {
  progress(`installed ${(await installSeldonCrds(kc)).join(', ')} (generated from the project's schema)`);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  // Seldon's control plane on it: the embedded stack in operator mode, serving the artifacts the seeded training publishes
  const published = await publishPredictors({ seed: config.seed, manifests: config.manifests, storageMap: config.storageMap, experimentName: config.mlflowExperiment, uatRunId: 'npm-run-cluster' });
  progress(`trained ${published.length} predictors (seed ${config.seed}) into ${config.storageMap.map(([, folder]) => path.relative(process.cwd(), folder)).join(', ')}`);
  stack = await launchStack({
    args: ['--kubeconfig', kubeconfig, '--watch-namespace', namespace, ...config.storageMap.flatMap(([prefix, folder]) => ['--storage-map', `${prefix}=${folder}`]), '--seed', String(config.seed)],
    log: fs.createWriteStream(path.join(cluster.dir, 'stack.log'), { flags: 'a' }),
  });
} catch (error) {
  console.error(`[cluster] could not set up Seldon on the API server: ${(error as Error).message.split('\n')[0]}`);
  await cluster.stop();
  process.exit(1);
}
fs.writeFileSync(stateFile, JSON.stringify({ pid: process.pid, server: cluster.server, version: cluster.version, kubeconfig, namespace, inferenceUrl: stack.url }, null, 2));
const relKubeconfig = path.relative(process.cwd(), kubeconfig);
console.log(`
kube-apiserver ${cluster.version} is up at ${cluster.server} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${path.relative(process.cwd(), cluster.dir)})
  kubeconfig   ${relKubeconfig} (administrator token)
  Seldon       the embedded stack in operator mode serves namespace ${namespace} at ${stack.url} (seldon-mesh's role)
  try          KUBECONFIG=${relKubeconfig} kubectl apply -n ${namespace} -f k8s/ab-testing
               KUBECONFIG=${relKubeconfig} kubectl get experiment financial-ab-test -n ${namespace} -o yaml   (status.conditions: Ready)
               curl -s ${stack.url}/v2/models/baseline-predictor/ready -o /dev/null -w '%{http_code}\\n'
  doctor       UAT_TARGET=kubernetes KUBECONFIG=${relKubeconfig} UAT_NAMESPACE=${namespace} npm run doctor
The suite itself does not run on UAT_TARGET=kubernetes yet. No kubelet runs: nothing runs pods.
Stop with Ctrl-C or \`npm run cluster -- --stop\`.`);
const stop = async (): Promise<void> => {
  await stack.stop();
  await cluster.stop();
  fs.rmSync(cluster.dir, { recursive: true, force: true });
  fs.rmSync(stateFile, { force: true });
  fs.rmSync(kubeconfig, { force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
