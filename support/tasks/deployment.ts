/**
 * The stack under test is up and serves every Model of the manifests.
 */
import { readManifests } from '../k8s/manifest-reader.ts';
import type { UatWorld } from '../world.ts';

export async function ensureStackDeployed(world: UatWorld): Promise<void> {
  const oip = world.oip;
  if (!(await oip.isReady())) throw new Error(`the stack at ${oip.baseUrl} is not ready`);
  const models = readManifests(world.run.config.manifests).filter((r) => r.kind === 'Model');
  for (const model of models) {
    const ready = await oip.get(`/v2/models/${model.name}/ready`);
    if (ready.status !== 200) throw new Error(`Model ${model.name} (${model.file}) is not ready: HTTP ${ready.status} ${JSON.stringify(ready.body)}`);
  }
}
