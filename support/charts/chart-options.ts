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

/** Lines a caption takes when wrapped at the width of a published chart (about 130 characters a line). */
const captionLines = (text: string): number => text.split('\n').reduce((n, part) => n + Math.max(1, Math.ceil(part.length / 130)), 0);

/**
 * Title, caption (wrapped, never over the plot: the plot starts below it), palette, fonts. The
 * dashboard shows the caption under the chart instead (dashboard/public/dashboard.js).
 */
function base(title: string, sourceCaption: string): ChartOption {
  return {
    color: PALETTE,
    useUTC: true,
    aria: { enabled: true },
    animation: false,
    title: { text: title, subtext: sourceCaption, left: 'center', textStyle: { fontSize: 15, lineHeight: 21, width: 900, overflow: 'break' }, subtextStyle: { color: '#374151', width: 900, overflow: 'break', lineHeight: 16 } },
    grid: { left: 64, right: 24, top: 56 + 16 * captionLines(sourceCaption), bottom: 64, containLabel: true },
    tooltip: { trigger: 'axis' },
    textStyle: { fontFamily: 'DejaVu Sans, Arial, sans-serif' },
  };
}

/** A value axis named along its side (never cut off at the chart's edge, whatever the labels' width). */
function valueAxis(name: string, extra: ChartOption = {}, gap = 48): ChartOption {
  return { type: 'value', name, nameLocation: 'middle', nameRotate: 90, nameGap: gap, ...extra };
}

/**
 * A legend that names every series: plain (it wraps, it is never paginated), under the plot, with
 * room made for its rows. `perRow` is how many names fit a row.
 */
function legendBelow(option: ChartOption, names: number, perRow: number, axisNameRoom = 40): ChartOption {
  const rows = Math.max(1, Math.ceil(names / perRow));
  return {
    ...option,
    legend: { type: 'plain', bottom: 0, left: 'center', width: '92%', itemGap: 24, itemHeight: 10, textStyle: { fontSize: 12 } },
    grid: { ...(option.grid as ChartOption), bottom: axisNameRoom + 12 + 28 * rows },
  };
}

/** A figure's value in a chart: percentages to one decimal, everything else to `digits`. */
const round = (value: number | null, digits: number): number | null => (value === null ? null : +value.toFixed(digits));

export function abCharts(figures: Figure[], view: ServingView, models: string[], weights: Record<string, number>): Record<string, ChartOption> {
  // the experiment's candidates only: the weights say nothing about other models
  const candidates = models.filter((m) => m in weights);
  const shares = candidates.map((m) => figures.find((f) => f.id === `share:${m}`)!);
  const totalWeight = Object.values(weights).reduce((a, b) => a + b, 0) || 1;
  const accuracy = models.map((m) => figures.find((f) => f.id === `accuracy:${m}`)!);
  // the models that answered in the window: one line each (a model that answered nothing draws no line, its figure says 0)
  const rateSeries = models.filter((m) => view.rateSeries[m]?.some((p) => p.value > 0));
  const idle = models.filter((m) => !rateSeries.includes(m));
  // the time axis spans the data present (from the first sample to now), the window when there is none
  const end = new Date(view.observedAt).getTime();
  const times = [...rateSeries.flatMap((m) => view.rateSeries[m]), ...view.p95Series].map((p) => p.time * 1000);
  const start = times.length > 0 ? Math.min(...times) : end - windowSeconds(view.window) * 1000;
  const timeAxis = { type: 'time', name: 'time (UTC)', nameLocation: 'middle', nameGap: 32, min: start, max: end, axisLabel: { hideOverlap: true } };
  const noData = (empty: boolean) =>
    empty ? { graphic: [{ type: 'text', left: 'center', top: 'middle', style: { text: `No samples in the last ${view.window} yet`, fontSize: 14, fill: '#374151' } }] } : {};
  const splitCaption = `${caption(shares)}; counts every request a candidate answered, direct ones included`;
  const accuracyCaption = caption(accuracy);
  const rateCaption = `Source: ${view.source}${idle.length > 0 ? `; no request in the window, so no line: ${idle.join(', ')}` : ''}`;
  return {
    split: legendBelow({
      ...base("Traffic split: observed share of the candidates' requests vs experiment weight", splitCaption),
      xAxis: { type: 'category', data: candidates, name: 'experiment candidate', nameLocation: 'middle', nameGap: 32, axisLabel: { interval: 0 } },
      yAxis: valueAxis('share of requests (%)', { max: 100 }),
      series: [
        { name: 'observed share (%)', type: 'bar', data: shares.map((f) => round(f.value === null ? null : f.value * 100, 1)), label: { show: true, position: 'top' } },
        { name: 'experiment weight (%)', type: 'bar', data: candidates.map((m) => round((weights[m] / totalWeight) * 100, 1)), label: { show: true, position: 'top' } },
      ],
    }, 2, 2),
    // horizontal bars: every model's name readable however many there are, in the filter's order from the top
    accuracy: {
      ...base('Held-out accuracy per model', accuracyCaption),
      grid: { ...(base('', accuracyCaption).grid as ChartOption), left: 24, right: 48, bottom: 48 },
      yAxis: { type: 'category', data: models, inverse: true, axisLabel: { interval: 0 } },
      xAxis: { type: 'value', name: 'accuracy (%)', nameLocation: 'middle', nameGap: 28, min: 0, max: 100 },
      series: [{ name: 'accuracy (%)', type: 'bar', data: accuracy.map((f) => round(f.value === null ? null : f.value * 100, 1)), label: { show: true, position: 'right', formatter: '{c} %' } }],
    },
    requestRate: legendBelow({
      ...base(`Request rate per model (window ${view.window})`, rateCaption),
      xAxis: timeAxis,
      yAxis: valueAxis('requests per second'),
      ...noData(rateSeries.length === 0),
      series: rateSeries.map((m) => ({ name: m, type: 'line', showSymbol: view.rateSeries[m].length < 10, data: view.rateSeries[m].map((p) => [p.time * 1000, +p.value.toFixed(2)]) })),
    }, rateSeries.length, 3),
    latency: legendBelow({
      ...base(`P95 inference latency (window ${view.window})`, `Source: ${view.source}`),
      xAxis: timeAxis,
      yAxis: valueAxis('P95 latency (ms)'),
      ...noData(view.p95Series.length === 0),
      // a few samples are drawn as points too: one sample alone is no line
      series: [{ name: 'P95 latency (ms), every model', type: 'line', showSymbol: view.p95Series.length < 10, data: view.p95Series.map((p) => [p.time * 1000, +(p.value * 1000).toFixed(2)]) }],
    }, 1, 3),
  };
}

export function businessCharts(figures: Figure[], window: string): Record<string, ChartOption> {
  const ids = ['extra-value', 'extra-cost', 'net-benefit'];
  const shown = ids.map((id) => figures.find((f) => f.id === id)!);
  const unit = figures.find((f) => f.id === 'assumption:value-per-correct')?.unit ?? '';
  return {
    impact: {
      ...base(`Business impact of the challenger (window ${window})`, `${caption(figures)}\nAssumptions: fixtures/roi-assumptions.yaml`),
      xAxis: { type: 'category', data: ['extra value', 'extra serving cost', 'net benefit'], name: 'component', nameLocation: 'middle', nameGap: 32 },
      yAxis: valueAxis(`amount (${unit})`, {}, 56),
      series: [{ name: unit, type: 'bar', data: shown.map((f) => round(f.value, 2)), label: { show: true, position: 'top' } }],
      tooltip: { trigger: 'item' },
    },
  };
}

/** The leading features of the latest explanations: mean |SHAP| per feature, as a horizontal bar chart. */
export function explanationChart(figures: Figure[], note: string): ChartOption {
  const features = figures.map((f) => f.id.replace('explanation-mean-abs-shap-', ''));
  return {
    ...base('Leading features of the latest explanations', figures.length > 0 ? `${caption(figures)}; mean |SHAP| for an up day ${note}` : note),
    xAxis: { type: 'value', name: 'mean |SHAP| (probability)', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'category', data: features, name: 'feature', inverse: true },
    series: [{ name: 'mean |SHAP|', type: 'bar', data: figures.map((f) => round(f.value, 4)), label: { show: true, position: 'right' } }],
    ...(figures.length === 0 ? { graphic: [{ type: 'text', left: 'center', top: 'middle', style: { text: 'No explanation to show', fontSize: 14, fill: '#374151' } }] } : {}),
  };
}

/**
 * The p-values of the latest windows as −log10(p) (higher: stronger evidence of drift): per detector,
 * the five features with the smallest p-value in any of the windows.
 */
export function driftChart(windows: { detector: string; offset: number; at: number; pValues: Record<string, number>; threshold?: number }[], note: string): ChartOption {
  const series: ChartOption[] = [];
  // a p-value of 0 (no permutation reached the score) is drawn at 16, the floor of float64 p-values here
  const height = (p: number): number => +(-Math.log10(Math.max(1e-16, p))).toFixed(2);
  const times = windows.map((w) => w.at);
  for (const detector of [...new Set(windows.map((w) => w.detector))]) {
    const mine = windows.filter((w) => w.detector === detector).sort((a, b) => a.offset - b.offset);
    const lowest = new Map<string, number>();
    for (const w of mine) for (const [f, p] of Object.entries(w.pValues)) lowest.set(f, Math.min(p, lowest.get(f) ?? 1));
    const features = [...lowest.entries()].sort((a, b) => a[1] - b[1]).slice(0, 5).map(([f]) => f);
    for (const f of features) series.push({ name: `${detector}: ${f}`, type: 'line', showSymbol: true, data: mine.map((w) => [w.at, height(w.pValues[f])]) });
    // the detector's own threshold (after its correction), as the detector reported it: above the line is drift
    const threshold = mine.at(-1)?.threshold;
    if (threshold !== undefined) {
      series.push({
        name: `${detector}: drift threshold (p < ${+threshold.toPrecision(3)})`,
        type: 'line',
        showSymbol: false,
        lineStyle: { type: 'dashed', width: 1.5 },
        data: [[Math.min(...times), height(threshold)], [Math.max(...times), height(threshold)]],
      });
    }
  }
  const option: ChartOption = {
    ...base('Drift evidence of the latest windows', windows.length > 0 ? `Source: LIVE:drift-monitor; ${note}` : note),
    // the windows present, first to last
    xAxis: { type: 'time', name: 'window checked at (UTC)', nameLocation: 'middle', nameGap: 32, axisLabel: { hideOverlap: true }, ...(times.length > 0 ? { min: Math.min(...times), max: Math.max(...times) } : {}) },
    yAxis: valueAxis('−log10(p-value)', { min: 0 }, 40),
    series,
    ...(windows.length === 0 ? { graphic: [{ type: 'text', left: 'center', top: 'middle', style: { text: 'No window checked yet', fontSize: 14, fill: '#374151' } }] } : {}),
  };
  return series.length > 0 ? legendBelow(option, series.length, 2) : option;
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
      yAxis: valueAxis('scenarios', { minInterval: 1 }, 40),
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
      xAxis: { type: 'category', data: ['revenue increase', 'cost', 'net benefit'], name: 'component', nameLocation: 'middle', nameGap: 32 },
      yAxis: valueAxis(`amount (${currency})`, {}, 72),
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

/** A load run's latency over time: P95 per second, and requests per second on a second axis; the P95 threshold when the profile has one. */
export function latencyTimelineChart(summary: { profile: string; engine: string; timeline: { second: number; requests: number; failed: number; p95Ms: number | null }[]; metrics: Record<string, { thresholds?: Record<string, { ok: boolean }> }> }): ChartOption {
  const p95Threshold = Object.keys(summary.metrics.http_req_duration?.thresholds ?? {}).map((e) => /^\s*p\(95\)\s*<=?\s*([\d.]+)\s*$/.exec(e)?.[1]).find(Boolean);
  const seconds = summary.timeline.map((t) => t.second);
  const series: ChartOption[] = [
    { name: 'P95 latency (ms)', type: 'line', showSymbol: seconds.length < 30, data: summary.timeline.map((t) => [t.second, t.p95Ms === null ? null : +t.p95Ms.toFixed(2)]) },
    { name: 'requests started per second', type: 'bar', yAxisIndex: 1, barMaxWidth: 12, itemStyle: { opacity: 0.35 }, data: summary.timeline.map((t) => [t.second, t.requests]) },
    { name: 'failed per second', type: 'bar', yAxisIndex: 1, barMaxWidth: 12, stack: 'failed', data: summary.timeline.map((t) => [t.second, t.failed]) },
  ];
  if (p95Threshold !== undefined && seconds.length > 0) {
    series.push({ name: `P95 threshold (${p95Threshold} ms)`, type: 'line', showSymbol: false, lineStyle: { type: 'dashed' }, data: [[Math.min(...seconds), Number(p95Threshold)], [Math.max(...seconds), Number(p95Threshold)]] });
  }
  const option = base(`Latency over time: ${summary.profile}`, `Source: LIVE:load-engine (${summary.engine})`);
  return legendBelow({
    ...option,
    // room on the right for the second axis and its name
    grid: { ...(option.grid as ChartOption), right: 72 },
    xAxis: { type: 'value', name: 'seconds since the start', nameLocation: 'middle', nameGap: 28, min: 0, max: Math.max(0, ...seconds) },
    yAxis: [valueAxis('P95 latency (ms)', { min: 0 }), { ...valueAxis('requests per second', { min: 0, splitLine: { show: false } }), nameRotate: -90 }],
    series,
  }, series.length, 2);
}

/** A load run's latency histogram: requests per latency bucket. */
export function latencyHistogramChart(summary: { profile: string; engine: string; latencyBuckets: { upToMs: number; requests: number }[] }): ChartOption {
  const labels = summary.latencyBuckets.map((b, i) => `${i === 0 ? 0 : +summary.latencyBuckets[i - 1].upToMs.toFixed(2)}–${+b.upToMs.toFixed(2)}`);
  return {
    ...base(`Latency histogram: ${summary.profile}`, `Source: LIVE:load-engine (${summary.engine}); the last bucket holds everything above the 99.9th percentile`),
    xAxis: { type: 'category', data: labels, name: 'latency (ms)', nameLocation: 'middle', nameGap: 40, axisLabel: { rotate: 30, fontSize: 10 } },
    yAxis: valueAxis('requests', { minInterval: 1 }),
    series: [{ name: 'requests', type: 'bar', data: summary.latencyBuckets.map((b) => b.requests) }],
    tooltip: { trigger: 'item' },
  };
}
