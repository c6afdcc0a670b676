/**
 * Seldon on the local API server: kube-apiserver and etcd (support/cluster/local-cluster.ts), the
 * Seldon CRDs generated from the project's schema, one namespace with the harness Role
 * (k8s/rbac/harness-role.yaml) bound to the identity the suite runs as, and the embedded stack in
 * operator mode as Seldon's control plane and seldon-mesh for that namespace. With `namespacePerRun`,
 * the harness ClusterRole (k8s/rbac/harness-clusterrole.yaml) is bound too, and the stack serves
 * every namespace (one mesh for all). The platform's k8s/security is installed as its operators would,
 * with the harness's auditor ClusterRole (k8s/rbac/harness-security-auditor.yaml). Used by `npm run cluster` and by the suite's run on
 * UAT_TARGET=kubernetes in `npm test`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import type { HarnessConfig } from '../config.ts';
import { HARNESS_CLUSTER_ROLE_FILE, HARNESS_ROLE_FILE } from '../doctor/kubernetes-checks.ts';
import { launchStack, type StackProcess } from '../targets/stack-process.ts';
import { installSeldonCrds } from './crd-install.ts';
import { installPlatformSecurity } from '../security/access-matrix.ts';
import { startLocalCluster, type LocalCluster } from './local-cluster.ts';
import { yamlFile } from '../harness-input.ts';

/** The group the harness Role's binding names (k8s/rbac/harness-role.yaml). */
export const HARNESS_GROUP = 'financial-mlops-uat';

export interface SeldonCluster {
  cluster: LocalCluster;
  namespace: string;
  /** Kubeconfig files: the administrator's, and the harness identity's (bound to the harness Role in `namespace` only). */
  adminKubeconfig: string;
  harnessKubeconfig: string;
  /** seldon-mesh's address: the embedded stack in operator mode. */
  inferenceUrl: string;
  stack: StackProcess;
  stop(): Promise<void>;
}

/** The objects of an RBAC file; namespaced ones (Role, RoleBinding) put in `namespace`. */
function harnessRbac(file: string, namespace?: string): KubernetesObject[] {
  return yamlFile(file)
    .map((d) => d.value as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null)
    .map((o) => (namespace ? { ...o, metadata: { ...o.metadata, namespace } } : o));
}

export async function startSeldonCluster(options: {
  apiserverBin: string;
  config: Pick<HarnessConfig, 'storageMap' | 'seed'>;
  namespace: string;
  /** Also let the harness create a namespace per run (UAT_NAMESPACE_PER_RUN), served as well. */
  namespacePerRun?: boolean;
  /** Where the kubeconfigs and logs go (created). */
  dir: string;
  /** The operator's resync besides its watches (the stack's default when absent). */
  resyncSeconds?: number;
  progress?: (line: string) => void;
}): Promise<SeldonCluster> {
  const progress = options.progress ?? (() => undefined);
  fs.mkdirSync(options.dir, { recursive: true });
  const cluster = await startLocalCluster({ apiserverBin: options.apiserverBin, dir: fs.mkdtempSync(path.join(options.dir, 'run-')), users: [{ name: 'uat-harness', groups: [HARNESS_GROUP] }] });
  const adminKubeconfig = path.join(options.dir, 'kubeconfig');
  const harnessKubeconfig = path.join(options.dir, 'kubeconfig-harness');
  fs.writeFileSync(adminKubeconfig, cluster.kubeconfig(), { mode: 0o600 });
  fs.writeFileSync(harnessKubeconfig, cluster.kubeconfig(cluster.users[0]), { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  try {
    progress(`installed ${(await installSeldonCrds(kc)).join(', ')} (generated from the project's schema)`);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: options.namespace } } });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const o of harnessRbac(HARNESS_ROLE_FILE, options.namespace)) await objects.create(o);
    progress(`namespace ${options.namespace} with the harness Role bound to group ${HARNESS_GROUP}`);
    if (options.namespacePerRun) {
      for (const o of harnessRbac(HARNESS_CLUSTER_ROLE_FILE)) await objects.create(o);
      progress(`the harness ClusterRole (a namespace per run) bound to group ${HARNESS_GROUP}`);
    }
    // the platform's security manifests, as its operators install them, and the harness's auditor ClusterRole
    progress(`k8s/security installed (${(await installPlatformSecurity(kc)).length} objects), the security auditor ClusterRole bound to group ${HARNESS_GROUP}`);
    const stack = await launchStack({
      args: ['--kubeconfig', adminKubeconfig, '--watch-namespace', options.namespacePerRun ? '*' : options.namespace, ...options.config.storageMap.flatMap(([prefix, folder]) => ['--storage-map', `${prefix}=${folder}`]), '--seed', String(options.config.seed), ...(options.resyncSeconds === undefined ? [] : ['--resync-seconds', String(options.resyncSeconds)])],
      log: fs.createWriteStream(path.join(cluster.dir, 'stack.log'), { flags: 'a' }),
    });
    return {
      cluster,
      namespace: options.namespace,
      adminKubeconfig,
      harnessKubeconfig,
      inferenceUrl: stack.url,
      stack,
      stop: async () => {
        await stack.stop();
        await cluster.stop();
        fs.rmSync(cluster.dir, { recursive: true, force: true });
        fs.rmSync(adminKubeconfig, { force: true });
        fs.rmSync(harnessKubeconfig, { force: true });
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
