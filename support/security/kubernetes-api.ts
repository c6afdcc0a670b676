/**
 * The Kubernetes API server on which the platform's access is proven, as the target gives it:
 *
 * - kubernetes: the target's own API server, with the harness's identity. The platform's operators
 *   have installed k8s/security there; the harness only asks (k8s/rbac/harness-security-auditor.yaml).
 * - local (the embedded default): a kube-apiserver of its own on loopback (Debian's source, built by
 *   `npm run cluster -- --build-only`), started the first time a scenario asks, with k8s/security
 *   installed by its administrator the way an operator would, and the harness's identity bound to
 *   the same auditor ClusterRole. Stopped with the target.
 *
 * Either way the harness holds an identity in the group financial-mlops-uat, not the administrator's.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { HarnessConfig } from '../config.ts';
import { registerSecret } from './secret-scan.ts';

export interface KubernetesApi {
  /** The harness's identity on it (never the administrator's). */
  kc: KubeConfig;
  server: string;
  /** Who installed k8s/security there: the cluster's operators, or this run on its own API server. */
  installedBy: string;
}
export type KubernetesApiAccess = KubernetesApi | { problem: string };

/** The embedded default's API server: started on first use; `stop` is a no-op when it never started. */
export function privateApiServer(config: Pick<HarnessConfig, 'keep'> & { widenBanditRole: boolean }, log: (line: string) => void): { get(): Promise<KubernetesApiAccess>; stop(): Promise<void> } {
  let started: Promise<{ access: KubernetesApiAccess; stop?: () => Promise<void> }> | undefined;
  const start = async (): Promise<{ access: KubernetesApiAccess; stop?: () => Promise<void> }> => {
    const { cachedBinary, missingTools } = await import('../cluster/kube-apiserver-build.ts');
    const binary = cachedBinary();
    if (!binary) return { access: { problem: 'the embedded default has no Kubernetes API server built on this machine: run `npm run cluster -- --build-only` (docs/guides/kubernetes-target.md)' } };
    if (missingTools().some((t) => t.startsWith('etcd'))) return { access: { problem: 'etcd is missing for the embedded default\'s Kubernetes API server: apt-get install -y etcd-server' } };
    const [{ startLocalCluster }, { KubeConfig: Kc }, { installSeldonCrds }, { installPlatformSecurity }, { HARNESS_GROUP }] = await Promise.all([
      import('../cluster/local-cluster.ts'),
      import('@kubernetes/client-node'),
      import('../cluster/crd-install.ts'),
      import('./access-matrix.ts'),
      import('../cluster/seldon-cluster.ts'),
    ]);
    const t0 = Date.now();
    const cluster = await startLocalCluster({ apiserverBin: binary, users: [{ name: 'uat-harness', groups: [HARNESS_GROUP] }] });
    registerSecret('the administrator token of the embedded API server', cluster.admin.token);
    for (const u of cluster.users) registerSecret(`the token of ${u.name} on the embedded API server`, u.token);
    try {
      const admin = new Kc();
      admin.loadFromString(cluster.kubeconfig());
      await installSeldonCrds(admin);
      const applied = await installPlatformSecurity(admin, { widenBanditRole: config.widenBanditRole });
      const kc = new Kc();
      kc.loadFromString(cluster.kubeconfig(cluster.users[0]));
      log(`Kubernetes API ${cluster.version} of the embedded default at ${cluster.server}: k8s/security installed (${applied.length} objects) in ${((Date.now() - t0) / 1000).toFixed(1)} s${config.widenBanditRole ? ' (fault: the bandit Role widened to a wildcard)' : ''}`);
      return {
        access: { kc, server: cluster.server, installedBy: `this run, on the embedded default's own kube-apiserver ${cluster.version} (k8s/security, ${applied.length} objects)` },
        stop: async () => {
          if (config.keep) return log(`UAT_KEEP set: the embedded API server stays at ${cluster.server} (${cluster.dir})`);
          await cluster.stop(); // its folder goes with it
        },
      };
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  };
  return {
    get: async () => {
      started ??= start().catch((error: Error) => ({ access: { problem: `the embedded default's Kubernetes API server did not start: ${error.message}` } }));
      return (await started).access;
    },
    stop: async () => {
      if (started) await (await started).stop?.();
    },
  };
}
