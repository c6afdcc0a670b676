/**
 * A load profile's scenario as the built-in engine runs it: an open model (arrival-rate executors:
 * iterations start on schedule, whatever the answers) or a closed one (VU executors: each virtual
 * user sends its next request when the last one is answered), split across worker threads. Ramps
 * are linear between stages, as k6's ramping executors are.
 */
import { durationMs, type ProfileScenario } from './profile.ts';

interface Stage {
  durationMs: number;
  target: number;
}

export interface WorkerPlan {
  model: 'open' | 'closed';
  /** How long iterations start (open) or VUs loop (closed). */
  durationMs: number;
  gracefulStopMs: number;
  /** Requests in flight at most: maxVUs (open) or the VUs (closed). */
  maxConcurrency: number;
  /** Open: iterations per ms at the start, then linear stages (target in iterations per ms). */
  startRate: number;
  rateStages: Stage[];
  /** Closed: active VUs at the start, then linear stages; a shared iteration budget (shared-iterations). */
  startVUs: number;
  vuStages: Stage[];
  iterations?: number;
}

const ms = (d: string): number => durationMs(d)!;
const stagesOf = (stages: { duration: string; target: number }[], scale: number): Stage[] => stages.map((s) => ({ durationMs: ms(s.duration), target: s.target * scale }));
const total = (stages: Stage[]): number => stages.reduce((sum, s) => sum + s.durationMs, 0);

/** This worker's share (1 of `workers`) of a scenario. */
export function workerPlan(s: ProfileScenario, workers: number, index: number): WorkerPlan {
  // integers (VUs, iterations) are dealt out: the first workers take the remainder
  const deal = (n: number): number => Math.floor(n / workers) + (index < n % workers ? 1 : 0);
  const base = { gracefulStopMs: ms(s.gracefulStop), startRate: 0, rateStages: [] as Stage[], startVUs: 0, vuStages: [] as Stage[] };
  switch (s.executor) {
    case 'constant-arrival-rate': {
      const perMs = s.rate / ms(s.timeUnit) / workers;
      return { ...base, model: 'open', durationMs: ms(s.duration), maxConcurrency: Math.max(1, deal(s.maxVUs ?? s.preAllocatedVUs)), startRate: perMs, rateStages: [{ durationMs: ms(s.duration), target: perMs }] };
    }
    case 'ramping-arrival-rate': {
      const scale = 1 / ms(s.timeUnit) / workers;
      const rateStages = stagesOf(s.stages, scale);
      return { ...base, model: 'open', durationMs: total(rateStages), maxConcurrency: Math.max(1, deal(s.maxVUs ?? s.preAllocatedVUs)), startRate: s.startRate * scale, rateStages };
    }
    case 'constant-vus':
      return { ...base, model: 'closed', durationMs: ms(s.duration), maxConcurrency: deal(s.vus), startVUs: deal(s.vus), vuStages: [{ durationMs: ms(s.duration), target: deal(s.vus) }] };
    case 'ramping-vus': {
      const vuStages = s.stages.map((st) => ({ durationMs: ms(st.duration), target: deal(st.target) }));
      return { ...base, model: 'closed', durationMs: total(vuStages), maxConcurrency: Math.max(deal(s.startVUs), ...vuStages.map((st) => st.target)), startVUs: deal(s.startVUs), vuStages };
    }
    case 'shared-iterations':
      return { ...base, model: 'closed', durationMs: ms(s.maxDuration), maxConcurrency: deal(s.vus), startVUs: deal(s.vus), vuStages: [{ durationMs: ms(s.maxDuration), target: deal(s.vus) }], iterations: deal(s.iterations) };
  }
}

/** The stage a time falls in, its start value and the time into it; past the end, the last value. */
function stageAt(start: number, stages: Stage[], t: number): { from: number; to: number; into: number; stage?: Stage } {
  let from = start;
  let elapsed = 0;
  for (const stage of stages) {
    if (t < elapsed + stage.durationMs) return { from, to: stage.target, into: t - elapsed, stage };
    elapsed += stage.durationMs;
    from = stage.target;
  }
  return { from, to: from, into: 0 };
}

/**
 * Iterations started by `t` ms: the integral of the (linearly ramping) rate, rounded up: an
 * iteration starts at the beginning of its interval, so a constant rate of r a second starts its
 * first at once and r·d by the end of d seconds.
 */
export function arrivalsBy(plan: Pick<WorkerPlan, 'startRate' | 'rateStages'>, t: number): number {
  let area = 0;
  let from = plan.startRate;
  let elapsed = 0;
  for (const stage of plan.rateStages) {
    const d = Math.min(stage.durationMs, Math.max(0, t - elapsed));
    // a linear ramp from `from` to the target over the stage: the trapezoid up to d
    area += from * d + ((stage.target - from) * d * d) / (2 * stage.durationMs);
    if (t < elapsed + stage.durationMs) return Math.ceil(area - 1e-9);
    elapsed += stage.durationMs;
    from = stage.target;
  }
  return Math.ceil(area - 1e-9);
}

/** VUs active at `t` ms (linear between stages, rounded to the nearest). */
export function activeVus(plan: Pick<WorkerPlan, 'startVUs' | 'vuStages'>, t: number): number {
  const { from, to, into, stage } = stageAt(plan.startVUs, plan.vuStages, t);
  return stage ? Math.round(from + ((to - from) * into) / stage.durationMs) : from;
}
