/**
 * Install the Seldon CRDs (generated from the project's schema, support/k8s/seldon-crds.ts) on an
 * API server that has none, and wait until each is Established.
 */
import { ApiextensionsV1Api, ApiException, loadYaml, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { seldonCrds } from '../k8s/seldon-crds.ts';
import { waitFor } from '../wait.ts';

export async function installSeldonCrds(kc: KubeConfig, deadlineMs = 30_000): Promise<string[]> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const crd of seldonCrds()) {
    // through the client's own model (its serializer writes only the fields it knows by their TypeScript names)
    const body = loadYaml<V1CustomResourceDefinition>(JSON.stringify(crd));
    try {
      await api.createCustomResourceDefinition({ body });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
      const current = await api.readCustomResourceDefinition({ name: crd.metadata.name });
      await api.replaceCustomResourceDefinition({ name: crd.metadata.name, body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } } });
    }
    names.push(crd.metadata.name);
  }
  for (const name of names) {
    await waitFor(`the CRD ${name} to be Established`, deadlineMs, async () => {
      const crd = await api.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    }, 200);
  }
  return names;
}
