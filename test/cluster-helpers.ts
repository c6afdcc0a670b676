/**
 * A real local kube-apiserver with the Seldon CRDs, a namespace, and the embedded stack in operator
 * mode serving that namespace from trained artifacts: the Kubernetes side of the harness's own tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ARTIFACT_FILE } from '../fixtures/model-artifact.ts';
import { installSeldonCrds } from '../support/cluster/crd-install.ts';
import { cachedBinary, missingTools } from '../support/cluster/kube-apiserver-build.ts';
import { startLocalCluster, type LocalCluster } from '../support/cluster/local-cluster.ts';
import { startSeldonCluster } from '../support/cluster/seldon-cluster.ts';
import type { StackProcess } from '../support/targets/stack-process.ts';
import { tempDir, trainedForTests } from './helpers.ts';

/** Why the cluster tests skip on this machine, or false when they can run. */
export const NO_CLUSTER = !cachedBinary()
  ? 'kube-apiserver is not built on this machine: run `npm run cluster -- --build-only` (see docs/guides/kubernetes-target.md)'
  : missingTools().some((t) => t.startsWith('etcd'))
    ? 'etcd is missing: apt-get install -y etcd-server'
    : false;

/** A local API server with the Seldon CRDs installed and `namespace` created; `kc` holds the administrator's token. */
export async function clusterWithCrds(namespace: string, options: { users?: { name: string; groups: string[] }[]; labels?: Record<string, string> } = {}): Promise<{ cluster: LocalCluster; kc: KubeConfig }> {
  const cluster = await startLocalCluster({ apiserverBin: cachedBinary()!, users: options.users });
  const kc = new KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  try {
    await installSeldonCrds(kc);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace, labels: options.labels } } });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { cluster, kc };
}

export interface OperatedCluster {
  cluster: LocalCluster;
  kc: KubeConfig;
  /** The harness identity's kubeconfig (bound to the harness Role, and with `namespacePerRun` the ClusterRole). */
  harnessKubeconfig: string;
  stack: StackProcess;
  /** A held-out market snapshot, to send to the served models. */
  row: number[];
  stop(): Promise<void>;
}

/** The local API server with Seldon's stand-in for `namespace`, as `npm run cluster` and `npm test` start it, serving freshly trained artifacts. */
export async function clusterWithOperator(namespace: string, options: { namespacePerRun?: boolean; resyncSeconds?: number } = {}): Promise<OperatedCluster> {
  const dir = tempDir('operated');
  const { predictors, heldOut } = trainedForTests();
  for (const p of predictors) {
    fs.mkdirSync(path.join(dir, 'store', 'predictors', p.spec.name), { recursive: true });
    fs.writeFileSync(path.join(dir, 'store', 'predictors', p.spec.name, ARTIFACT_FILE), JSON.stringify(p.artifact));
  }
  const seldon = await startSeldonCluster({ apiserverBin: cachedBinary()!, config: { storageMap: [['gs://financial-mlops-models/', path.join(dir, 'store')]], seed: 42 }, namespace, namespacePerRun: options.namespacePerRun, resyncSeconds: options.resyncSeconds, dir: path.join(dir, 'cluster') });
  const kc = new KubeConfig();
  kc.loadFromFile(seldon.adminKubeconfig);
  return {
    cluster: seldon.cluster,
    kc,
    harnessKubeconfig: seldon.harnessKubeconfig,
    stack: seldon.stack,
    row: heldOut[0].features,
    stop: async () => {
      await seldon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
