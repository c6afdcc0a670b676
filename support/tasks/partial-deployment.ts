/**
 * A deployment with broken resources: each resource's readiness and reason as its status
 * conditions say, the schema-invalid object refused at apply, the ready resources serving and the
 * others not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { featuresRequest, OipClient } from '../clients/oip-client.ts';
import { describeCondition, ResourceStatusClient, type SeldonKind } from '../clients/resource-status-client.ts';
import type { UatWorld } from '../world.ts';
import { marketSnapshots } from './traffic.ts';

/** Named deployments the features can apply. */
const DEPLOYMENTS_DIR = path.join(PROJECT_ROOT, 'fixtures', 'deployments');
const KINDS: SeldonKind[] = ['Model', 'Experiment', 'Pipeline'];
/** Deadline for a deployment's resources to report a Ready condition at all. */
const SETTLE_DEADLINE_MS = 15_000;

export async function applyDeployment(world: UatWorld, name: string): Promise<void> {
  const folder = path.join(DEPLOYMENTS_DIR, name);
  if (!fs.existsSync(folder)) {
    throw new Error(`no deployment named '${name}' (known: ${fs.readdirSync(DEPLOYMENTS_DIR).join(', ')})`);
  }
  world.deployment.stack = await world.target.deploy(folder);
}

function deployed(world: UatWorld) {
  if (!world.deployment.stack) throw new Error('no deployment was applied in this scenario');
  return world.deployment.stack;
}

/** Readiness as each resource of the deployed folder reports it in its `Ready` condition. */
async function readiness(world: UatWorld): Promise<{ kind: SeldonKind; name: string; ready: string; reason: string; detail: string }[]> {
  const { status, objects } = deployed(world);
  const out: { kind: SeldonKind; name: string; ready: string; reason: string; detail: string }[] = [];
  for (const kind of KINDS) {
    // the folder's own objects: on a cluster the namespace also holds the main stack's
    for (const object of (await status.list(kind)).filter((o) => objects.some((d) => d.kind === kind && d.name === o.metadata.name))) {
      const ready = ResourceStatusClient.condition(object, 'Ready');
      out.push({ kind, name: object.metadata.name, ready: ready?.status ?? 'not reported', reason: ready?.reason ?? '', detail: describeCondition(ready) });
    }
  }
  return out;
}

export async function checkReadiness(world: UatWorld, expected: { kind: string; name: string; ready: string; reason: string }[]): Promise<void> {
  const { status } = deployed(world);
  // Wait until each listed resource reports Ready with the expected status (bounded), then compare.
  await Promise.all(
    expected.map((e) => status.waitFor(e.kind as SeldonKind, e.name, 'Ready', e.ready as 'True' | 'False', SETTLE_DEADLINE_MS).catch(() => undefined)),
  );
  const seen = await readiness(world);
  const mismatches = expected.flatMap((e) => {
    const found = seen.find((s) => s.kind === e.kind && s.name === e.name);
    if (!found) return [`${e.kind}/${e.name}: not deployed`];
    const reasonOk = e.reason.trim() === '' || found.reason === e.reason.trim();
    return found.ready === e.ready && reasonOk ? [] : [`${e.kind}/${e.name}: expected Ready=${e.ready}${e.reason ? ` (${e.reason})` : ''}, got ${found.detail}`];
  });
  await world.check({
    id: 'partial-deployment-readiness',
    statement: "each resource reports its readiness, and a not-ready one the platform's reason, in its status conditions",
    threshold: expected.map((e) => `${e.kind}/${e.name} Ready=${e.ready}${e.reason ? ` (${e.reason})` : ''}`).join('; '),
    measured: mismatches.length === 0 ? 'as expected' : mismatches.join('; '),
    unit: '',
    source: 'LIVE:resource-status',
    passed: mismatches.length === 0,
    details: { resources: seen },
  });
}

export async function checkRefused(world: UatWorld, object: string, field: string): Promise<void> {
  const [kind, name] = object.split('/');
  const { refused, status } = deployed(world);
  const refusal = refused.find((r) => r.kind === kind && r.name === name);
  const exists = (await status.get(kind as SeldonKind, name)) !== undefined;
  await world.check({
    id: 'schema-invalid-object-refused',
    statement: 'a schema-invalid object is refused when applied, naming the field at fault, and does not exist afterwards',
    threshold: `${object} refused naming '${field}', and absent`,
    measured: refusal ? `refused: ${refusal.message}${exists ? '; but it exists' : ''}` : exists ? 'accepted' : 'not refused, and absent',
    unit: '',
    source: 'LIVE:apply',
    passed: refusal !== undefined && refusal.message.includes(field) && !exists,
  });
}

/** The `seldon-model` a resource is addressed by. */
const address = (kind: string, name: string): string | undefined =>
  kind === 'Model' ? name : kind === 'Experiment' ? `${name}.experiment` : kind === 'Pipeline' ? `${name}.pipeline` : undefined;

async function answers(world: UatWorld, ready: boolean): Promise<{ target: string; status: number }[]> {
  const oip = new OipClient(deployed(world).inferenceUrl);
  const snapshot = marketSnapshots(world.target.seed)[0];
  const out: { target: string; status: number }[] = [];
  for (const r of (await readiness(world)).filter((x) => (x.ready === 'True') === ready)) {
    const target = address(r.kind, r.name);
    if (target) out.push({ target, status: (await oip.infer(target, featuresRequest([snapshot]))).status });
  }
  return out;
}

export async function checkReadyServe(world: UatWorld): Promise<void> {
  const results = await answers(world, true);
  const failing = results.filter((r) => r.status !== 200);
  await world.check({
    id: 'ready-resources-serve',
    statement: 'every resource reported ready answers a prediction while others in the deployment are broken',
    threshold: 'HTTP 200 from each ready Model and Experiment',
    measured: `${results.length - failing.length} of ${results.length} answered${failing.length ? `; ${failing.map((f) => `${f.target}: HTTP ${f.status}`).join(', ')}` : ''}`,
    unit: '',
    source: 'LIVE:oip',
    passed: results.length > 0 && failing.length === 0,
    details: { results },
  });
}

export async function checkNotReadyNotServed(world: UatWorld): Promise<void> {
  const results = await answers(world, false);
  const served = results.filter((r) => r.status === 200);
  await world.check({
    id: 'not-ready-resources-not-served',
    statement: 'no resource reported not ready answers a prediction (its route does not exist)',
    threshold: 'no HTTP 200 from a resource that is not ready',
    measured: `${served.length} of ${results.length} answered${served.length ? `: ${served.map((s) => s.target).join(', ')}` : ''}`,
    unit: '',
    source: 'LIVE:oip',
    passed: results.length > 0 && served.length === 0,
    details: { results },
  });
}
