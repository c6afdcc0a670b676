/**
 * `npm run cluster`: a real Kubernetes API server on loopback for the `kubernetes` target. Builds
 * kube-apiserver once from Debian's source (cached outside the clone), starts etcd and
 * kube-apiserver with token authentication and RBAC, installs the Seldon CRDs (generated from the
 * project's schema), creates one namespace (`--namespace`, default financial-mlops-uat) with the
 * harness Role bound to the suite's identity, starts the embedded stack in operator mode as Seldon's
 * control plane there, writes kubeconfigs under reports/cluster/, prints how to point the suite at
 * it, and stays in the foreground until Ctrl-C or `npm run cluster -- --stop`. With
 * `--namespace-per-run` the harness ClusterRole is bound too and the stand-in serves every namespace,
 * for runs with UAT_NAMESPACE_PER_RUN=1.
 *
 *   npm run cluster                 build if needed, start, print how to use it
 *   npm run cluster -- --namespace-per-run   the same, ready for a namespace per run
 *   npm run cluster -- --build-only build (or find) kube-apiserver and print where it is
 *   npm run cluster -- --stop       stop the cluster another `npm run cluster` started
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../support/config.ts';
import { BUILD_PACKAGES, ClusterToolMissing, ensureKubeApiserver } from '../support/cluster/kube-apiserver-build.ts';
import { HARNESS_GROUP, startSeldonCluster, type SeldonCluster } from '../support/cluster/seldon-cluster.ts';
import { publishPredictors } from '../support/training/publish-predictors.ts';
import { reportHarnessInputErrors } from '../support/harness-input.ts';

// bad input (the environment, a profile, a manifest) is named without a stack trace
reportHarnessInputErrors('cluster');

const { values } = parseArgs({
  options: { stop: { type: 'boolean', default: false }, 'build-only': { type: 'boolean', default: false }, namespace: { type: 'string', default: 'financial-mlops-uat' }, 'namespace-per-run': { type: 'boolean', default: false } },
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

const started = Date.now();
const namespace = values.namespace;
let seldon: SeldonCluster;
try {
  // the artifacts the seeded training publishes, so `kubectl apply -f k8s/ab-testing` serves at once (the suite publishes its own)
  const published = await publishPredictors({ seed: config.seed, manifests: config.manifests, storageMap: config.storageMap, experimentName: config.mlflowExperiment, uatRunId: 'npm-run-cluster' });
  progress(`trained ${published.length} predictors (seed ${config.seed}) into ${config.storageMap.map(([, folder]) => path.relative(process.cwd(), folder)).join(', ')}`);
  seldon = await startSeldonCluster({ apiserverBin, config, namespace, namespacePerRun: values['namespace-per-run'], dir, progress });
} catch (error) {
  console.error(`[cluster] could not start Seldon on a local API server: ${(error as Error).message.split('\n')[0]}`);
  process.exit(1);
}
const { cluster, stack } = seldon;
fs.writeFileSync(stateFile, JSON.stringify({ pid: process.pid, server: cluster.server, version: cluster.version, kubeconfig: seldon.adminKubeconfig, harnessKubeconfig: seldon.harnessKubeconfig, namespace, inferenceUrl: stack.url }, null, 2));
const rel = (file: string): string => path.relative(process.cwd(), file);
const storage = config.storageMap.map(([prefix, folder]) => `${prefix}=${rel(folder)}`).join(',');
const perRun = values['namespace-per-run']
  ? `
  per run      UAT_TARGET=kubernetes KUBECONFIG=${rel(seldon.harnessKubeconfig)} UAT_NAMESPACE_PER_RUN=1 UAT_INFERENCE_URL=${stack.url} UAT_STORAGE_MAP=${storage} npm run uat
               (the harness identity is also bound to k8s/rbac/harness-clusterrole.yaml; the stand-in serves every namespace)`
  : '';
console.log(`
kube-apiserver ${cluster.version} is up at ${cluster.server} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${rel(cluster.dir)})
  kubeconfig   ${rel(seldon.adminKubeconfig)} (administrator token)
               ${rel(seldon.harnessKubeconfig)} (the suite's identity: group ${HARNESS_GROUP}, bound to k8s/rbac/harness-role.yaml in ${namespace} only)
  Seldon       the embedded stack in operator mode serves ${values['namespace-per-run'] ? 'every namespace' : `namespace ${namespace}`} at ${stack.url} (seldon-mesh's role)
  suite        UAT_TARGET=kubernetes KUBECONFIG=${rel(seldon.harnessKubeconfig)} UAT_NAMESPACE=${namespace} UAT_INFERENCE_URL=${stack.url} UAT_STORAGE_MAP=${storage} npm run uat${perRun}
  dry run      the same variables, npm run uat -- --dry-run
  doctor       UAT_TARGET=kubernetes KUBECONFIG=${rel(seldon.harnessKubeconfig)} UAT_NAMESPACE=${namespace} UAT_INFERENCE_URL=${stack.url} npm run doctor
  try          KUBECONFIG=${rel(seldon.adminKubeconfig)} kubectl apply -n ${namespace} -f k8s/ab-testing
               KUBECONFIG=${rel(seldon.adminKubeconfig)} kubectl get experiment financial-ab-test -n ${namespace} -o yaml   (status.conditions: Ready)
No kubelet runs: nothing runs pods.
Stop with Ctrl-C or \`npm run cluster -- --stop\`.`);
const stop = async (): Promise<void> => {
  await seldon.stop();
  fs.rmSync(stateFile, { force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
