/**
 * The kubeconfig and namespace the `kubernetes` target and its doctor checks use: KUBECONFIG (one
 * file, or a colon-separated list), ~/.kube/config or the in-cluster service account, the context
 * UAT_KUBE_CONTEXT when set; the namespace UAT_NAMESPACE, else the context's, else `default`.
 */
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { HarnessConfig } from '../config.ts';

export function loadKubeConfig(config: Pick<HarnessConfig, 'kubeContext' | 'kubeconfig'>): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig && !config.kubeconfig.includes(path.delimiter)) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault(); // KUBECONFIG's list, ~/.kube/config, or in-cluster
  if (config.kubeContext) kc.setCurrentContext(config.kubeContext);
  return kc;
}

export function targetNamespace(config: Pick<HarnessConfig, 'namespace'>, kc: KubeConfig): string {
  return config.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}
