/**
 * Apache ECharts options for the A/B and business-impact views. The same option objects are drawn
 * by the dashboard in the browser and rendered server-side to SVG and PNG by `npm run charts`:
 * every chart has a title, axis names with units, and a caption naming the sources of its data.
 * Options are plain JSON (no functions) so they travel to the browser unchanged.
 */
import type { Figure } from '../evidence/figure.ts';
import type { ServingView } from '../metrics/live-metrics.ts';
import { windowSeconds } from '../metrics/promql.ts';

export type ChartOption = Record<string, unknown>;

const PALETTE = ['#1f5fa8', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#0f766e'];

function caption(figures: Figure[]): string {
  const sources = [...new Set(figures.flatMap((f) => f.basis ?? [f.source]))];
  return `Source: ${sources.join(', ')}`;
}

function base(title: string, sourceCaption: string): ChartOption {
  return {
    color: PALETTE,
    useUTC: true,
    aria: { enabled: true },
    animation: false,
    title: { text: title, subtext: sourceCaption, left: 'center', textStyle: { fontSize: 15 }, subtextStyle: { color: '#374151' } },
    grid: { left: 64, right: 24, top: 72, bottom: 64, containLabel: true },
    tooltip: { trigger: 'axis' },
    textStyle: { fontFamily: 'DejaVu Sans, Arial, sans-serif' },
  };
}

export function abCharts(figures: Figure[], view: ServingView, models: string[], weights: Record<string, number>): Record<string, ChartOption> {
  // the experiment's candidates only: the weights say nothing about other models
  const candidates = models.filter((m) => m in weights);
  const shares = candidates.map((m) => figures.find((f) => f.id === `share:${m}`)!);
  const totalWeight = Object.values(weights).reduce((a, b) => a + b, 0) || 1;
  const accuracy = models.map((m) => figures.find((f) => f.id === `accuracy:${m}`)!);
  const rateSeries = models.filter((m) => view.rateSeries[m]);
  // the time axis spans the selected window, whatever data falls in it
  const end = new Date(view.observedAt).getTime();
  const timeAxis = { type: 'time', name: 'time (UTC)', nameLocation: 'middle', nameGap: 32, min: end - windowSeconds(view.window) * 1000, max: end, axisLabel: { hideOverlap: true } };
  const noData = (empty: boolean) =>
    empty ? { graphic: [{ type: 'text', left: 'center', top: 'middle', style: { text: `No samples in the last ${view.window} yet`, fontSize: 14, fill: '#374151' } }] } : {};
  return {
    split: {
      ...base('Traffic split: observed share vs experiment weight', `${caption(shares)}; counts every request a candidate answered, direct ones included`),
      legend: { bottom: 0, itemGap: 28 },
      xAxis: { type: 'category', data: candidates, name: 'experiment candidate', nameLocation: 'middle', nameGap: 40, axisLabel: { interval: 0 } },
      yAxis: { type: 'value', name: "share of the candidates' requests (%)", max: 100 },
      series: [
        { name: 'observed share (%)', type: 'bar', data: shares.map((f) => (f.value === null ? null : +(f.value * 100).toFixed(2))) },
        { name: 'experiment weight (%)', type: 'bar', data: candidates.map((m) => +((weights[m] / totalWeight) * 100).toFixed(2)) },
      ],
    },
    accuracy: {
      ...base('Held-out accuracy per model', caption(accuracy)),
      xAxis: { type: 'category', data: models, name: 'model', nameLocation: 'middle', nameGap: 40, axisLabel: { interval: 0, rotate: models.length > 2 ? 15 : 0 } },
      yAxis: { type: 'value', name: 'accuracy (%)', min: 0, max: 100 },
      series: [{ name: 'accuracy (%)', type: 'bar', data: accuracy.map((f) => (f.value === null ? null : +(f.value * 100).toFixed(2))), label: { show: true, position: 'top' } }],
    },
    requestRate: {
      ...base(`Request rate per model (window ${view.window})`, `Source: ${view.source}`),
      legend: { bottom: 0, itemGap: 28, type: 'scroll' },
      xAxis: timeAxis,
      yAxis: { type: 'value', name: 'requests per second' },
      ...noData(rateSeries.every((m) => view.rateSeries[m].length === 0)),
      series: rateSeries.map((m) => ({ name: m, type: 'line', showSymbol: false, data: view.rateSeries[m].map((p) => [p.time * 1000, +p.value.toFixed(4)]) })),
    },
    latency: {
      ...base(`P95 inference latency (window ${view.window})`, `Source: ${view.source}`),
      xAxis: timeAxis,
      yAxis: { type: 'value', name: 'P95 latency (ms)' },
      ...noData(view.p95Series.length === 0),
      series: [{ name: 'P95 latency (ms)', type: 'line', showSymbol: false, data: view.p95Series.map((p) => [p.time * 1000, +(p.value * 1000).toFixed(3)]) }],
    },
  };
}

export function businessCharts(figures: Figure[], window: string): Record<string, ChartOption> {
  const ids = ['extra-value', 'extra-cost', 'net-benefit'];
  const shown = ids.map((id) => figures.find((f) => f.id === id)!);
  const unit = figures.find((f) => f.id === 'assumption:value-per-correct')?.unit ?? '';
  return {
    impact: {
      ...base(`Business impact of the challenger (window ${window})`, `${caption(figures)}\nAssumptions: fixtures/roi-assumptions.yaml`),
      grid: { left: 64, right: 24, top: 88, bottom: 64, containLabel: true },
      xAxis: { type: 'category', data: ['extra value', 'extra serving cost', 'net benefit'], name: 'component', nameLocation: 'middle', nameGap: 32 },
      yAxis: { type: 'value', name: `amount (${unit})` },
      series: [{ name: unit, type: 'bar', data: shown.map((f) => (f.value === null ? null : +f.value.toFixed(4))), label: { show: true, position: 'top' } }],
      tooltip: { trigger: 'item' },
    },
  };
}

/** The leading features of the latest explanations: mean |SHAP| per feature, as a horizontal bar chart. */
export function explanationChart(figures: Figure[], note: string): ChartOption {
  const features = figures.map((f) => f.id.replace('explanation-mean-abs-shap-', ''));
  return {
    ...base('Leading features of the latest explanations', figures.length > 0 ? `${caption(figures)}; mean |SHAP| for an up day ${note}` : note),
    grid: { left: 140, right: 32, top: 72, bottom: 48, containLabel: true },
    xAxis: { type: 'value', name: 'mean |SHAP| (probability)', nameLocation: 'middle', nameGap: 32 },
    yAxis: { type: 'category', data: [...features].reverse(), name: 'feature' },
    series: [{ name: 'mean |SHAP|', type: 'bar', data: figures.map((f) => (f.value === null ? null : +f.value.toPrecision(4))).reverse() }],
    ...(figures.length === 0 ? { graphic: [{ type: 'text', left: 'center', top: 'middle', style: { text: 'No explanation to show', fontSize: 14, fill: '#374151' } }] } : {}),
  };
}

/**
 * The p-values of the latest windows as −log10(p) (higher: stronger evidence of drift): per detector,
 * the five features with the smallest p-value in any of the windows.
 */
export function driftChart(windows: { detector: string; offset: number; at: number; pValues: Record<string, number> }[], note: string): ChartOption {
  const series: ChartOption[] = [];
  // a p-value of 0 (no permutation reached the score) is drawn at 16, the floor of float64 p-values here
  const height = (p: number): number => +(-Math.log10(Math.max(1e-16, p))).toFixed(3);
  for (const detector of [...new Set(windows.map((w) => w.detector))]) {
    const mine = windows.filter((w) => w.detector === detector).sort((a, b) => a.offset - b.offset);
    const lowest = new Map<string, number>();
    for (const w of mine) for (const [f, p] of Object.entries(w.pValues)) lowest.set(f, Math.min(p, lowest.get(f) ?? 1));
    const features = [...lowest.entries()].sort((a, b) => a[1] - b[1]).slice(0, 5).map(([f]) => f);
    for (const f of features) series.push({ name: `${detector}: ${f}`, type: 'line', showSymbol: true, data: mine.map((w) => [new Date(w.at).toISOString(), height(w.pValues[f])]) });
  }
  return {
    ...base('Drift evidence of the latest windows', windows.length > 0 ? `Source: LIVE:drift-monitor; ${note}` : note),
    legend: { bottom: 0, type: 'scroll' },
    grid: { left: 64, right: 24, top: 80, bottom: 72, containLabel: true },
    xAxis: { type: 'time', name: 'window checked at (UTC)', nameLocation: 'middle', nameGap: 32, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: '−log10(p-value)', nameLocation: 'middle', nameGap: 40, min: 0 },
    series,
    ...(windows.length === 0 ? { graphic: [{ type: 'text', left: 'center', top: 'middle', style: { text: 'No window checked yet', fontSize: 14, fill: '#374151' } }] } : {}),
  };
}

/** The sign-off's charts: scenarios per category (from the Cucumber results) and the business case over its period. */
export function signoffCharts(
  categories: Record<string, { passed: number; failed: number; skipped: number }>,
  businessCase: { revenueIncrease: number; cost: number; currency: string; periodDays: number; sources: { measured: string; assumptions: string } } | null,
): Record<string, ChartOption> {
  const names = Object.keys(categories);
  const charts: Record<string, ChartOption> = {
    scenarios: {
      ...base('Scenarios per category', 'Source: the Cucumber results of this run'),
      color: ['#15803d', '#b91c1c', '#6b7280'],
      legend: { bottom: 0, data: ['passed', 'failed', 'skipped'] },
      grid: { left: 64, right: 24, top: 72, bottom: 72, containLabel: true },
      xAxis: { type: 'category', data: names, name: 'category', nameLocation: 'middle', nameGap: 32, axisLabel: { interval: 0 } },
      yAxis: { type: 'value', name: 'scenarios', minInterval: 1 },
      series: (['passed', 'failed', 'skipped'] as const).map((status) => ({
        name: status,
        type: 'bar',
        stack: 'scenarios',
        // a zero draws no bar and no label
        data: names.map((c) => ({ value: categories[c][status], label: { show: categories[c][status] > 0 } })),
        label: { position: 'inside', formatter: '{c}' },
      })),
    },
  };
  if (businessCase) {
    const { revenueIncrease, cost, currency, periodDays, sources } = businessCase;
    charts.businessCase = {
      ...base(`Business case over ${periodDays} days`, `Source: ${sources.measured}\nAssumptions: ${sources.assumptions}`),
      grid: { left: 64, right: 24, top: 100, bottom: 64, containLabel: true },
      xAxis: { type: 'category', data: ['revenue increase', 'cost', 'net benefit'], name: 'component', nameLocation: 'middle', nameGap: 32 },
      yAxis: { type: 'value', name: `amount (${currency})` },
      series: [
        {
          name: currency,
          type: 'bar',
          data: [revenueIncrease, cost, revenueIncrease - cost].map((v) => ({ value: Math.round(v), label: { formatter: Math.round(v).toLocaleString('en-US') } })),
          label: { show: true, position: 'top' },
        },
      ],
      tooltip: { trigger: 'item' },
    };
  }
  return charts;
}
