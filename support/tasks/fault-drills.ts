/**
 * Fault drills: a part of the run killed with SIGKILL (as a crash or the OOM killer would) while
 * the run goes on, and what must follow: the target names the death, the part comes back on the
 * same address, and nothing the run measured before is lost. Each recovery time is a measured figure
 * in the sign-off. The parts are those the harness runs on both targets (the dashboard, and the
 * MLflow database when the harness started it).
 */
import type { Figure } from '../evidence/figure.ts';
import type { DrillPart } from '../targets/target.ts';
import type { UatWorld } from '../world.ts';

export interface DrillState {
  part: DrillPart;
  pid?: number;
  killedAt: number;
  /** ms from the kill until the target named the death, and the cause it gave. */
  reported?: { afterMs: number; cause: string };
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

async function dashboardFigures(url: string): Promise<Figure[] | undefined> {
  const res = await fetch(`${url}/api/dashboard?window=5m`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const data = (await res.json()) as { ab: { figures: Figure[] }; business: { figures: Figure[] } };
  return [...data.ab.figures, ...data.business.figures];
}

/** Poll `probe` every 100 ms until it gives a value or `deadlineMs` has passed from `since`. */
async function within<T>(since: number, deadlineMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<{ value: T; afterMs: number } | undefined> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, afterMs: Date.now() - since };
    if (Date.now() - since > deadlineMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
    measured: `${reported ? `reported after ${seconds(reported.afterMs)} s` : `not reported within ${reportS} s`}; ${serving ? `live figures after ${seconds(serving.afterMs)} s` : restartError ? `did not start again: ${restartError}` : `no live figures within ${serveS} s`}`,
    unit: '',
    source: 'LIVE:dashboard-api',
    passed: namesHow && serving !== undefined,
    details: { pid: drill.pid, reportedAfterS: reported && seconds(reported.afterMs), cause: reported?.value, recoveredAfterS: serving && seconds(serving.afterMs), restartError, url: target.dashboardUrl },
  });
}
