/**
 * The labelled stand-in for serving figures when neither Prometheus nor the stack's /metrics
 * answers: a seeded simulation of traffic split by the experiment's weights. Every value it makes
 * is labelled `SIMULATED`; a sign-off that rests on one is never GO.
 */
import seedrandom from 'seedrandom';
import { windowSeconds, type Window } from './promql.ts';
import type { ServingView } from './live-metrics.ts';

const SIMULATED_RATE_PER_SECOND = 10;

export function simulatedServing(window: Window, weights: Record<string, number>, models: string[], seed: number): Omit<ServingView, 'note'> {
  const random = seedrandom(`simulated-serving-${seed}`);
  const now = Date.now() / 1000;
  const seconds = windowSeconds(window);
  const names = Object.keys(weights).filter((m) => models.length === 0 || models.includes(m));
  const totalWeight = Object.values(weights).reduce((a, b) => a + b, 0) || 1;
  const requestRate: Record<string, number> = {};
  const rateSeries: ServingView['rateSeries'] = {};
  const step = Math.max(1, Math.round(seconds / 60));
  for (const name of names) {
    requestRate[name] = (SIMULATED_RATE_PER_SECOND * weights[name]) / totalWeight;
    rateSeries[name] = [];
    for (let t = now - seconds; t <= now; t += step) rateSeries[name].push({ time: t, value: requestRate[name] * (0.8 + 0.4 * random()) });
  }
  const p95Series = (rateSeries[names[0]] ?? []).map((p) => ({ time: p.time, value: 0.008 + 0.004 * random() }));
  return {
    source: 'SIMULATED',
    observedAt: new Date().toISOString(),
    window,
    requestsTotal: Object.fromEntries(names.map((n) => [n, Math.round(requestRate[n] * seconds)])),
    requestRate,
    errorRatio: 0,
    p95Seconds: 0.01,
    rateSeries,
    p95Series,
  };
}
