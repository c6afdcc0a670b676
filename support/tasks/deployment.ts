/**
 * Deployments: the stack under test is up when every Model and Experiment of its manifests reports
 * `Ready=True` in its status conditions, read from the same API shape on both targets; a folder
 * deployed on its own is checked resource by resource.
 */
import { readManifests } from '../k8s/manifest-reader.ts';
import type { SeldonKind } from '../clients/resource-status-client.ts';
import type { UatWorld } from '../world.ts';

/** Helper waits stay below the step timeout. */
const READY_DEADLINE_MS = 15_000;

export async function ensureStackDeployed(world: UatWorld): Promise<void> {
  const status = world.status;
  const resources = readManifests(world.run.config.manifests).filter((r) => r.kind === 'Model' || r.kind === 'Experiment');
  await Promise.all(resources.map((r) => status.waitFor(r.kind as SeldonKind, r.name, 'Ready', 'True', READY_DEADLINE_MS)));
}
