/**
 * k6 thresholds (`options.thresholds`), parsed and evaluated as k6 does: each expression is
 * `<aggregation> <operator> <number>` with optional spaces around the operator, the aggregation one
 * of avg, min, max, med, p(N) (trends), count, rate (counters), rate (rates) or value (gauges), and
 * the operator one of <, <=, >, >=, ==, ===, !=. A threshold passes when `observed <op> number`
 * holds, the observed value being the metric's summary stat of that name (`p(N)` written as k6
 * writes it: `p(95)`, `p(99.9)`). Parse errors name the metric and the expression.
 */

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';

/** One threshold as written in k6 options: the expression, or the object form. */
export type ThresholdSpec = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string | number };

export interface ParsedThreshold {
  metric: string;
  /** As written: k6 keys the threshold by this exact string in its summary. */
  expression: string;
  /** The summary stat compared: avg, min, max, med, count, rate, value, or `p(N)` as k6 formats it. */
  aggregation: string;
  operator: Operator;
  value: number;
  abortOnFail: boolean;
  delayAbortEvalMs?: number;
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  observed: number | null;
  /** Why no value was observed, when none was. */
  reason?: string;
}

/** k6's built-in metrics (metrics/builtin.go): their type and what their values are. */
const K6_BUILTIN_METRICS: Record<string, { type: MetricType; contains: 'default' | 'time' | 'data' }> = {
  vus: { type: 'gauge', contains: 'default' },
  vus_max: { type: 'gauge', contains: 'default' },
  iterations: { type: 'counter', contains: 'default' },
  iteration_duration: { type: 'trend', contains: 'time' },
  dropped_iterations: { type: 'counter', contains: 'default' },
  checks: { type: 'rate', contains: 'default' },
  group_duration: { type: 'trend', contains: 'time' },
  http_reqs: { type: 'counter', contains: 'default' },
  http_req_failed: { type: 'rate', contains: 'default' },
  http_req_duration: { type: 'trend', contains: 'time' },
  http_req_blocked: { type: 'trend', contains: 'time' },
  http_req_connecting: { type: 'trend', contains: 'time' },
  http_req_tls_handshaking: { type: 'trend', contains: 'time' },
  http_req_sending: { type: 'trend', contains: 'time' },
  http_req_waiting: { type: 'trend', contains: 'time' },
  http_req_receiving: { type: 'trend', contains: 'time' },
  ws_sessions: { type: 'counter', contains: 'default' },
  ws_msgs_sent: { type: 'counter', contains: 'default' },
  ws_msgs_received: { type: 'counter', contains: 'default' },
  ws_ping: { type: 'trend', contains: 'time' },
  ws_session_duration: { type: 'trend', contains: 'time' },
  ws_connecting: { type: 'trend', contains: 'time' },
  grpc_req_duration: { type: 'trend', contains: 'time' },
  data_sent: { type: 'counter', contains: 'data' },
  data_received: { type: 'counter', contains: 'data' },
};

/** The k6 built-in metric a name refers to, tag filter aside (`http_req_duration{status:200}`), if it is one. */
export function k6BuiltinMetric(name: string): { type: MetricType; contains: 'default' | 'time' | 'data' } | undefined {
  const brace = name.indexOf('{');
  const base = (brace < 0 ? name : name.slice(0, brace)).trim();
  return Object.hasOwn(K6_BUILTIN_METRICS, base) ? K6_BUILTIN_METRICS[base] : undefined;
}

const ALLOWED: Record<MetricType, string[]> = {
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value'],
};

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const OPERATOR = /<=|>=|===|==|!=|<|>/;

/**
 * One threshold of a metric. The metric's type, given or known from k6's built-in metrics, limits
 * the aggregations as k6 does (a trend has no `count`); a custom metric of unknown type takes any.
 */
export function parseThreshold(metric: string, spec: ThresholdSpec, type?: MetricType): ParsedThreshold {
  const expression = typeof spec === 'string' ? spec : spec?.threshold;
  const fail = (why: string): never => {
    throw new Error(`threshold ${typeof expression === 'string' ? `'${expression}'` : JSON.stringify(spec)} of ${metric}: ${why}`);
  };
  if (typeof expression !== 'string') return fail("the object form needs a 'threshold' string");

  const op = OPERATOR.exec(expression);
  if (!op) return fail('no comparison operator (one of <, <=, >, >=, ==, ===, !=)');
  const left = expression.slice(0, op.index).trim();
  const right = expression.slice(op.index + op[0].length).trim();

  let aggregation = left;
  const percentile = /^p\((.*)\)$/.exec(left);
  if (percentile) {
    if (!NUMBER.test(percentile[1])) fail(`'${percentile[1]}' in ${left} is not a number`);
    const p = Number(percentile[1]);
    if (p < 0 || p > 100) fail(`percentile ${p} is outside [0, 100]`);
    aggregation = `p(${p})`;
  } else if (!['avg', 'min', 'max', 'med', 'count', 'rate', 'value'].includes(left)) {
    fail(`unknown aggregation '${left}' (expected avg, min, max, med, p(N), count, rate or value)`);
  }
  const metricType = type ?? k6BuiltinMetric(metric)?.type;
  if (metricType && !ALLOWED[metricType].includes(percentile ? 'p(N)' : left)) {
    fail(`${percentile ? 'p(N)' : left} does not apply to a ${metricType} metric (it takes ${ALLOWED[metricType].join(', ')})`);
  }

  if (right === '') fail(`no number after '${op[0]}'`);
  if (!NUMBER.test(right)) fail(`'${right}' is not a number`);

  const parsed: ParsedThreshold = { metric, expression, aggregation, operator: op[0] as Operator, value: Number(right), abortOnFail: false };
  if (typeof spec === 'object') {
    if (spec.abortOnFail !== undefined && typeof spec.abortOnFail !== 'boolean') fail('abortOnFail must be true or false');
    parsed.abortOnFail = spec.abortOnFail ?? false;
    if (spec.delayAbortEval !== undefined) {
      const ms = typeof spec.delayAbortEval === 'number' ? spec.delayAbortEval : durationMs(spec.delayAbortEval);
      if (ms === undefined || !(ms >= 0)) fail(`delayAbortEval '${spec.delayAbortEval}' is not a k6 duration such as '10s', '500ms' or '1m30s'`);
      parsed.delayAbortEvalMs = ms;
    }
  }
  return parsed;
}

/** Every threshold of k6 `options.thresholds`; one error lists every invalid one. */
export function parseThresholds(thresholds: Record<string, readonly ThresholdSpec[]>, types: Record<string, MetricType> = {}): ParsedThreshold[] {
  const parsed: ParsedThreshold[] = [];
  const errors: string[] = [];
  for (const [metric, specs] of Object.entries(thresholds)) {
    for (const spec of specs) {
      try {
        parsed.push(parseThreshold(metric, spec, types[metric]));
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
  }
  if (errors.length > 0) throw new Error(`${errors.length} invalid k6 threshold${errors.length === 1 ? '' : 's'}:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  return parsed;
}

/** A threshold against a metric's summary values: no such stat, or NaN, fails. */
export function evaluateThreshold(t: ParsedThreshold, values: Record<string, number>): { ok: boolean; observed: number | null } {
  const observed = Object.hasOwn(values, t.aggregation) && typeof values[t.aggregation] === 'number' ? values[t.aggregation] : null;
  if (observed === null || Number.isNaN(observed)) return { ok: false, observed };
  return { ok: compare(observed, t.operator, t.value), observed };
}

/** Each threshold against the summary's metrics; a metric the summary lacks fails its thresholds. */
export function evaluateThresholds(parsed: readonly ParsedThreshold[], metrics: Record<string, { values: Record<string, number> }>): ThresholdResult[] {
  return parsed.map((t): ThresholdResult => {
    const m = Object.hasOwn(metrics, t.metric) ? metrics[t.metric] : undefined;
    const head = { metric: t.metric, expression: t.expression };
    if (!m) return { ...head, ok: false, observed: null, reason: `the summary has no metric ${t.metric}` };
    const { ok, observed } = evaluateThreshold(t, m.values);
    if (observed === null) return { ...head, ok, observed, reason: `${t.metric} has no ${t.aggregation} (it has ${Object.keys(m.values).join(', ')})` };
    return Number.isNaN(observed) ? { ...head, ok, observed, reason: `${t.metric} ${t.aggregation} is NaN (no samples)` } : { ...head, ok, observed };
  });
}

function compare(observed: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '<': return observed < value;
    case '<=': return observed <= value;
    case '>': return observed > value;
    case '>=': return observed >= value;
    case '==':
    case '===': return observed === value;
    case '!=': return observed !== value;
  }
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A k6 duration in ms: a bare number is ms; else Go's `1h2m3.5s` form, optionally after whole days (`2d12h`). */
function durationMs(text: string): number | undefined {
  if (text === '') return undefined;
  if (NUMBER.test(text)) return Number(text);
  const days = /^(\d+)d(.*)$/.exec(text);
  const rest = days ? days[2] : text;
  let ms = days ? Number(days[1]) * 86_400_000 : 0;
  if (rest !== '') {
    const parts = [...rest.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== rest) return undefined;
    ms += parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit], 0);
  }
  return Math.round(ms * 1e6) / 1e6;
}
