/**
 * A k6 end-of-test summary, in either shape k6 writes, read into one form. The handleSummary(data)
 * object keeps each metric's type, contains, values and `{expr: {ok}}` thresholds as they are. The
 * legacy `--summary-export` file flattens each metric to its values: the type is inferred from the
 * keys (avg/med/p(N): trend, passes/fails: rate, count/rate: counter, value with min/max: gauge), a
 * rate's `rate` is recomputed as passes / (passes + fails) rather than taken from its `value`, and
 * its thresholds `{expr: crossed}` become `{expr: {ok: !crossed}}`.
 */
import { k6BuiltinMetric } from './thresholds.ts';

export interface NormalizedMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains: 'default' | 'time' | 'data';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface K6Summary {
  shape: 'handleSummary' | 'summary-export';
  /** From handleSummary's `state` (k6 0.31+); the legacy export has none. */
  testRunDurationMs: number | null;
  metrics: Record<string, NormalizedMetric>;
}

const TYPES = ['counter', 'gauge', 'rate', 'trend'] as const;
const CONTAINS = ['default', 'time', 'data'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read a parsed summary JSON; `origin` (a file name) heads every error. */
export function parseK6Summary(json: unknown, origin: string): K6Summary {
  const fail = (why: string): never => {
    throw new Error(`${origin}: ${why}`);
  };
  if (!isObject(json) || !isObject(json.metrics)) {
    const found = isObject(json) ? `top-level keys: ${Object.keys(json).join(', ') || '(none)'}` : `a JSON ${Array.isArray(json) ? 'array' : json === null ? 'null' : typeof json}`;
    return fail(`not a k6 end-of-test summary (neither handleSummary data nor --summary-export: no 'metrics' object; found ${found})`);
  }
  const entries = Object.entries(json.metrics);
  const typed = entries.filter(([, m]) => isObject(m) && 'type' in m && 'values' in m);
  const handleSummary = entries.length > 0 ? typed.length === entries.length : 'options' in json || 'state' in json;
  if (typed.length > 0 && !handleSummary) {
    fail(`metrics ${typed.map(([n]) => n).join(', ')} have type and values but ${entries.filter((e) => !typed.includes(e)).map(([n]) => n).join(', ')} do not: neither summary shape`);
  }

  const metrics: Record<string, NormalizedMetric> = {};
  for (const [name, raw] of entries) {
    if (!isObject(raw)) return fail(`metric ${name} is not an object`);
    metrics[name] = handleSummary ? fromHandleSummary(name, raw, fail) : fromSummaryExport(name, raw, fail);
  }
  const state = json.state;
  const duration = isObject(state) && typeof state.testRunDurationMs === 'number' ? state.testRunDurationMs : null;
  return { shape: handleSummary ? 'handleSummary' : 'summary-export', testRunDurationMs: duration, metrics };
}

/** The thresholds k6 recorded as crossed, in the summary's order. */
export function failedThresholds(summary: K6Summary): { metric: string; expression: string }[] {
  return Object.entries(summary.metrics).flatMap(([metric, m]) =>
    Object.entries(m.thresholds ?? {}).filter(([, t]) => !t.ok).map(([expression]) => ({ metric, expression })));
}

type Fail = (why: string) => never;

function numbers(name: string, raw: Record<string, unknown>, fail: Fail): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    // JSON.stringify writes NaN (a stat of no samples) as null
    if (v === null) values[k] = NaN;
    else if (typeof v === 'number') values[k] = v;
    else fail(`metric ${name}: value ${k} is ${JSON.stringify(v)}, not a number`);
  }
  return values;
}

function fromHandleSummary(name: string, raw: Record<string, unknown>, fail: Fail): NormalizedMetric {
  const type = TYPES.find((t) => t === raw.type) ?? fail(`metric ${name}: type ${JSON.stringify(raw.type)} is not one of ${TYPES.join(', ')}`);
  const contains = raw.contains === undefined ? containsOf(name, type) : CONTAINS.find((c) => c === raw.contains) ?? fail(`metric ${name}: contains ${JSON.stringify(raw.contains)} is not one of ${CONTAINS.join(', ')}`);
  if (!isObject(raw.values)) return fail(`metric ${name}: values is not an object`);
  const metric: NormalizedMetric = { type, contains, values: numbers(name, raw.values, fail) };
  if (raw.thresholds !== undefined) {
    if (!isObject(raw.thresholds)) return fail(`metric ${name}: thresholds is not an object`);
    metric.thresholds = Object.fromEntries(Object.entries(raw.thresholds).map(([expr, t]) =>
      [expr, { ok: isObject(t) && typeof t.ok === 'boolean' ? t.ok : fail(`metric ${name}: threshold '${expr}' has no boolean ok`) }]));
  }
  return metric;
}

function fromSummaryExport(name: string, raw: Record<string, unknown>, fail: Fail): NormalizedMetric {
  const { thresholds, ...rest } = raw;
  const values = numbers(name, rest, fail);
  const has = (k: string): boolean => k in values;
  let type: NormalizedMetric['type'];
  if (has('avg') || has('med') || Object.keys(values).some((k) => /^p\(.*\)$/.test(k))) type = 'trend';
  else if (has('passes') || has('fails')) type = 'rate';
  else if (has('count') || has('rate')) type = 'counter';
  else if (has('value') && (has('min') || has('max'))) type = 'gauge';
  else return fail(`metric ${name}: cannot tell its type from its keys (${Object.keys(values).join(', ') || 'none'})`);

  const metric: NormalizedMetric = { type, contains: containsOf(name, type), values };
  if (type === 'rate') {
    const passes = values.passes ?? 0;
    const fails = values.fails ?? 0;
    // the export's `value` is not reliable (0 beside 126 passes and 0 fails): recompute from the counts
    metric.values = { rate: passes + fails === 0 ? NaN : passes / (passes + fails), passes, fails };
  }
  if (thresholds !== undefined) {
    if (!isObject(thresholds)) return fail(`metric ${name}: thresholds is not an object`);
    metric.thresholds = Object.fromEntries(Object.entries(thresholds).map(([expr, crossed]) =>
      [expr, { ok: typeof crossed === 'boolean' ? !crossed : fail(`metric ${name}: threshold '${expr}' is ${JSON.stringify(crossed)}, not true (crossed) or false`) }]));
  }
  return metric;
}

/** k6's own time and data metrics; anything else (custom Trends included) is 'default'. */
function containsOf(name: string, type: NormalizedMetric['type']): NormalizedMetric['contains'] {
  const builtin = k6BuiltinMetric(name);
  return builtin && builtin.type === type ? builtin.contains : 'default';
}
