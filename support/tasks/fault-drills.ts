/**
 * Fault drills: a part of the run killed with SIGKILL (as a crash or the OOM killer would) while
 * the run goes on, and what must follow: the target names the death, the part comes back on the
 * same address, and nothing the run measured before is lost. Each recovery time is a measured figure
 * in the sign-off. The parts are those the harness runs on both targets (the dashboard, and the
 * MLflow database when the harness started it).
 */
import type { Figure } from '../evidence/figure.ts';
import type { DrillPart } from '../targets/target.ts';
import { waitFor, WaitTimeoutError } from '../wait.ts';
import type { UatWorld } from '../world.ts';

export interface DrillState {
  part: DrillPart;
  pid?: number;
  killedAt: number;
  /** ms from the kill until the target named the death, and the cause it gave. */
  reported?: { afterMs: number; cause: string };
  restartedAt?: number;
}

const seconds_ = (ms: number): number => Math.round(ms) / 1000;

async function dashboardFigures(url: string): Promise<Figure[] | undefined> {
  const res = await fetch(`${url}/api/dashboard?window=5m`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const data = (await res.json()) as { ab: { figures: Figure[] }; business: { figures: Figure[] } };
  return [...data.ab.figures, ...data.business.figures];
}

/** Poll `probe` (support/wait.ts) until it gives a value or `deadlineMs` has passed from `since`; the value and when, or undefined. */
async function within<T>(since: number, deadlineMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<{ value: T; afterMs: number } | undefined> {
  const value = await waitFor('a drill condition', deadlineMs - (Date.now() - since), async () => probe()).catch((error: Error) => {
    if (error instanceof WaitTimeoutError) return undefined;
    throw error;
  });
  return value === undefined ? undefined : { value, afterMs: Date.now() - since };
}

export async function killPart(world: UatWorld, part: DrillPart): Promise<void> {
  const killedAt = Date.now();
  const { pid } = await world.target.killPart(part);
  world.security.drill = { part, pid, killedAt };
}

function requireDrill(world: UatWorld, part: DrillPart): DrillState {
  const drill = world.security.drill;
  if (drill?.part !== part) throw new Error(`the ${part} was not killed in this scenario`);
  return drill;
}

/**
 * The dashboard killed: the target names its death (how it died) within `reportS`; started again on
 * the same address, it serves the page's figures from live sources within `serveS` of the kill.
 */
export async function checkDashboardRecovers(world: UatWorld, reportS: number, serveS: number): Promise<void> {
  const drill = requireDrill(world, 'dashboard');
  const target = world.target;
  const reported = await within(drill.killedAt, reportS * 1000, () => {
    try {
      target.requireRunning('dashboard');
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  });
  drill.reported = reported && { afterMs: reported.afterMs, cause: reported.value };
  let restartError: string | undefined;
  await target.restartPart('dashboard').catch((error: Error) => (restartError = error.message.split('\n')[0]));
  const serving = restartError === undefined ? await within(drill.killedAt, serveS * 1000, async () => ((await dashboardFigures(target.dashboardUrl))?.some((f) => f.source.startsWith('LIVE:')) ? true : undefined)) : undefined;
  const namesHow = reported !== undefined && /killed by SIGKILL/.test(reported.value);
  await world.check({
    id: 'dashboard-recovers-after-kill',
    statement: `a dashboard killed with SIGKILL is reported down by the target within ${reportS} s, naming how it died, and, started again on the same address, serves live figures within ${serveS} s of the kill`,
    threshold: `reported within ${reportS} s naming the signal; live figures within ${serveS} s`,
    measured: `${reported ? `reported after ${seconds_(reported.afterMs)} s` : `not reported within ${reportS} s`}; ${serving ? `live figures after ${seconds_(serving.afterMs)} s` : restartError ? `did not start again: ${restartError}` : `no live figures within ${serveS} s`}`,
    unit: '',
    source: 'LIVE:dashboard-api',
    passed: namesHow && serving !== undefined,
    details: { pid: drill.pid, reportedAfterS: reported && seconds_(reported.afterMs), cause: reported?.value, recoveredAfterS: serving && seconds_(serving.afterMs), restartError, url: target.dashboardUrl },
  });
}

/** What the MLflow store held before the drill: every run of the experiment, and the accuracies the dashboard shows. */
export interface StoreSnapshot {
  runs: string[];
  accuracies: Record<string, number>;
}

async function storeSnapshot(world: UatWorld): Promise<StoreSnapshot> {
  const experiment = await world.store.experimentByName(world.run.config.mlflowExperiment);
  if (!experiment) throw new Error(`no MLflow experiment ${world.run.config.mlflowExperiment} in the store`);
  const runs = (await world.store.runs(experiment.experimentId, 10_000)).map((r) => r.runUuid).sort();
  const accuracies = Object.fromEntries((await world.store.latestAccuracies(world.run.config.mlflowExperiment)).map((a) => [a.model, a.accuracy]));
  return { runs, accuracies };
}

/** The store's runs and accuracies before the drill, and the dashboard showing those accuracies live (as a user sees it before the outage). */
export async function recordStoreBefore(world: UatWorld): Promise<void> {
  const before = await storeSnapshot(world);
  if (before.runs.length === 0) throw new Error(`the MLflow experiment ${world.run.config.mlflowExperiment} holds no run`);
  const shown = await within(Date.now(), 10_000, async () => {
    const figures = await accuracyFigures(world.dashboardUrl, before.accuracies);
    return figures && figures.length === Object.keys(before.accuracies).length && figures.every((f) => f.source === 'LIVE:mlflow-postgres' && f.value === before.accuracies[f.id.slice('accuracy:'.length)]) ? figures : undefined;
  });
  if (!shown) throw new Error(`the dashboard does not show the store's accuracies live before the drill: ${JSON.stringify((await accuracyFigures(world.dashboardUrl, before.accuracies))?.map((f) => `${f.id} ${f.value} ${f.source}`))}`);
  world.security.storeBefore = before;
}

/** The dashboard's accuracy figures (`accuracy:<model>`) of the models the store logged an accuracy for, as its API gives them. */
async function accuracyFigures(url: string, logged: Record<string, number>): Promise<Figure[] | undefined> {
  return (await dashboardFigures(url))?.filter((f) => f.id.startsWith('accuracy:') && f.id.slice('accuracy:'.length) in logged);
}

/**
 * The MLflow database down: the harness's reads fail (not hang) naming the failure, and the
 * dashboard shows the accuracies as UNAVAILABLE naming the store, each within `seconds` of the kill.
 */
export async function checkStoreOutageLabelled(world: UatWorld, seconds: number): Promise<void> {
  const drill = requireDrill(world, 'database');
  const store = world.store;
  const readFails = await within(drill.killedAt, seconds * 1000, async () => {
    const started = Date.now();
    const error = await store.ping().then(() => undefined, (e: Error) => e.message);
    return error === undefined ? undefined : { error, tookMs: Date.now() - started };
  });
  const logged = world.security.storeBefore?.accuracies ?? {};
  const labelled = await within(drill.killedAt, seconds * 1000, async () => {
    const figures = await accuracyFigures(world.dashboardUrl, logged);
    return figures && figures.length > 0 && figures.every((f) => f.source === 'UNAVAILABLE' && /MLflow store unreachable/.test(f.note ?? '')) ? figures : undefined;
  });
  await world.check({
    id: 'mlflow-outage-labelled-unavailable',
    statement: `with the MLflow database killed, the harness's reads of the store fail with the cause instead of hanging, and the dashboard shows every accuracy as UNAVAILABLE naming the store, each within ${seconds} s`,
    threshold: `both within ${seconds} s`,
    measured: `${readFails ? `reads failed after ${seconds_(readFails.afterMs)} s (a read took ${seconds_(readFails.value.tookMs)} s to fail)` : `reads still answered after ${seconds} s`}; ${labelled ? `dashboard UNAVAILABLE after ${seconds_(labelled.afterMs)} s` : `dashboard not labelled unavailable within ${seconds} s`}`,
    unit: '',
    source: 'LIVE:dashboard-api',
    passed: readFails !== undefined && labelled !== undefined,
    details: { readError: readFails?.value.error, figures: labelled?.value.map((f) => `${f.id}: ${f.source} (${f.note ?? ''})`) },
  });
}

export async function restartPart(world: UatWorld, part: DrillPart): Promise<void> {
  const drill = requireDrill(world, part);
  drill.restartedAt = Date.now();
  await world.target.restartPart(part);
}

/**
 * The MLflow database back: the harness's store (the same pool, not a new one) reads every run it
 * held before the kill, and the dashboard shows the same accuracies from LIVE:mlflow-postgres
 * again, within `seconds` of the restart.
 */
export async function checkStoreRecovers(world: UatWorld, seconds: number): Promise<void> {
  const drill = requireDrill(world, 'database');
  const before = world.security.storeBefore;
  if (!before || drill.restartedAt === undefined) throw new Error('the store was not read before the kill, or the database was not started again');
  const reads = await within(drill.restartedAt, seconds * 1000, () => storeSnapshot(world).catch(() => undefined));
  const shown = await within(drill.restartedAt, seconds * 1000, async () => {
    const figures = await accuracyFigures(world.dashboardUrl, before.accuracies);
    return figures && figures.length > 0 && figures.every((f) => f.source === 'LIVE:mlflow-postgres') ? figures : undefined;
  });
  const lost = reads ? before.runs.filter((r) => !reads.value.runs.includes(r)) : before.runs;
  const changed = shown ? shown.value.filter((f) => f.value !== before.accuracies[f.id.slice('accuracy:'.length)]).map((f) => f.id) : [];
  await world.check({
    id: 'mlflow-recovers-after-kill',
    statement: `once the MLflow database is back, the harness reads every run logged before the kill through the store it already had, and the dashboard shows the same accuracies from LIVE:mlflow-postgres again, within ${seconds} s of the restart`,
    threshold: `0 runs lost; both within ${seconds} s`,
    measured: `${reads ? `store read again after ${seconds_(reads.afterMs)} s, ${lost.length} of ${before.runs.length} runs lost` : `store not read within ${seconds} s`}; ${shown ? `dashboard live after ${seconds_(shown.afterMs)} s${changed.length > 0 ? `, ${changed.length} accuracies changed` : ''}` : `dashboard not live within ${seconds} s`}`,
    unit: '',
    source: 'LIVE:mlflow-postgres',
    passed: reads !== undefined && lost.length === 0 && shown !== undefined && changed.length === 0,
    details: { downS: seconds_(drill.restartedAt - drill.killedAt), storeRecoveredAfterS: reads && seconds_(reads.afterMs), dashboardRecoveredAfterS: shown && seconds_(shown.afterMs), runsBefore: before.runs.length, lost, changed },
  });
}
