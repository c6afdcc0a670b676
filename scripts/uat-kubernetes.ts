/**
 * `npm run test:uat:kubernetes` (part of `npm test`): the suite once more, on UAT_TARGET=kubernetes,
 * against a real kube-apiserver on loopback with Seldon's control plane played by the embedded
 * stack in operator mode (support/cluster/seldon-cluster.ts). The suite runs as the harness
 * identity, which holds only the harness Role (k8s/rbac/harness-role.yaml) in its namespace.
 *
 * Afterwards it checks what the issue of both targets demands: no object of the run is left in the
 * namespace, and the verdict and the set of criteria equal those of the local run whose reports are
 * in UAT_REPORTS_DIR (run `npm run test:uat` first; without one, only this run's verdict counts).
 * This run's reports go to a run folder under <UAT_REPORTS_DIR>/kubernetes (its `latest` points at it).
 *
 * Without a built kube-apiserver (or etcd) it says how to get them and exits 0: those runs skip.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig, PROJECT_ROOT } from '../support/config.ts';
import { cachedBinary, missingTools } from '../support/cluster/kube-apiserver-build.ts';
import { startSeldonCluster } from '../support/cluster/seldon-cluster.ts';
import { readLedger } from '../support/evidence/ledger.ts';
import { latestRun } from '../support/report/run-folders.ts';
import { labelledObjects, RUN_LABEL } from '../support/targets/kubernetes-deploy.ts';
import { reportHarnessInputErrors } from '../support/harness-input.ts';

const { values } = parseArgs({ options: { profile: { type: 'string', default: 'ci' }, namespace: { type: 'string', default: 'financial-mlops-uat' } } });
// a variable of the environment (or a manifest) the harness cannot use: its message, exit 2, no stack trace
reportHarnessInputErrors('uat:kubernetes');
const config = loadConfig();
const say = (line: string): void => console.log(`[uat:kubernetes] ${line}`);

const apiserverBin = cachedBinary();
const noEtcd = missingTools().some((t) => t.startsWith('etcd'));
if (!apiserverBin || noEtcd) {
  say(`SKIPPED: the suite on UAT_TARGET=kubernetes needs ${!apiserverBin ? 'kube-apiserver, built once from Debian\'s source: `npm run cluster -- --build-only` (apt packages and the deb-src entry: docs/guides/kubernetes-target.md)' : 'etcd: apt-get install -y etcd-server'}`);
  process.exit(0);
}

const reportsDir = path.join(config.reportsDir, 'kubernetes');
fs.rmSync(path.join(reportsDir, 'cluster'), { recursive: true, force: true });
const started = Date.now();
const seldon = await startSeldonCluster({ apiserverBin, config, namespace: values.namespace, dir: path.join(reportsDir, 'cluster'), progress: say });
say(`kube-apiserver ${seldon.cluster.version} at ${seldon.cluster.server}, Seldon (operator mode) for ${seldon.namespace} at ${seldon.inferenceUrl}, up in ${((Date.now() - started) / 1000).toFixed(1)} s`);

let exitCode = 1;
try {
  const t0 = Date.now();
  const suite = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'uat.ts'), '--profile', values.profile!], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      UAT_TARGET: 'kubernetes',
      KUBECONFIG: seldon.harnessKubeconfig,
      UAT_NAMESPACE: seldon.namespace,
      UAT_INFERENCE_URL: seldon.inferenceUrl,
      // the operator serves the artifacts the suite publishes: one storage map for both
      UAT_STORAGE_MAP: config.storageMap.map(([prefix, folder]) => `${prefix}=${folder}`).join(','),
      UAT_REPORTS_DIR: reportsDir,
    },
  });
  const suiteSeconds = (Date.now() - t0) / 1000;

  const problems: string[] = [];
  if (suite.status !== 0) problems.push(`the suite on UAT_TARGET=kubernetes exited ${suite.status} (verdict not GO)`);
  // after the run, nothing carrying the run label is left (the suite ran without UAT_KEEP)
  const kc = new KubeConfig();
  kc.loadFromFile(seldon.adminKubeconfig);
  const left = await labelledObjects(kc, seldon.namespace, RUN_LABEL);
  if (left.length > 0) problems.push(`objects labelled ${RUN_LABEL} left in ${seldon.namespace}: ${left.join(', ')}`);
  say(`objects labelled ${RUN_LABEL} in ${seldon.namespace} after the run: ${left.length}`);

  // the same verdict and criteria as the local run, when its reports are there
  const localRun = latestRun(config.reportsDir) ?? config.reportsDir;
  const kubeRun = latestRun(reportsDir) ?? reportsDir;
  const localSignoff = path.join(localRun, 'signoff', 'signoff.json');
  const kubeSignoff = path.join(kubeRun, 'signoff', 'signoff.json');
  const verdict = (file: string): string => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { verdict: string }).verdict : 'none');
  const criteria = (dir: string): string[] => [...new Set(readLedger(dir).map((c) => c.id))].sort();
  if (fs.existsSync(localSignoff)) {
    const [local, kube] = [criteria(localRun), criteria(kubeRun)];
    const onlyLocal = local.filter((id) => !kube.includes(id));
    const onlyKube = kube.filter((id) => !local.includes(id));
    say(`verdicts: local ${verdict(localSignoff)}, kubernetes ${verdict(kubeSignoff)}; criteria: local ${local.length}, kubernetes ${kube.length}, in one only ${onlyLocal.length + onlyKube.length}`);
    if (verdict(localSignoff) !== verdict(kubeSignoff)) problems.push(`verdicts differ: local ${verdict(localSignoff)}, kubernetes ${verdict(kubeSignoff)}`);
    if (onlyLocal.length > 0) problems.push(`criteria recorded only on the local target: ${onlyLocal.join(', ')}`);
    if (onlyKube.length > 0) problems.push(`criteria recorded only on the kubernetes target: ${onlyKube.join(', ')}`);
  } else {
    say(`no local run's sign-off in ${config.reportsDir} to compare with (run \`npm run test:uat\` first)`);
  }
  say(`suite on UAT_TARGET=kubernetes: ${suiteSeconds.toFixed(1)} s; reports in ${path.relative(process.cwd(), kubeRun)}`);
  for (const p of problems) say(`FAILED: ${p}`);
  exitCode = problems.length === 0 ? 0 : 1;
} finally {
  await seldon.stop();
}
process.exit(exitCode);
