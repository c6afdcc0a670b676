/**
 * k6 threshold expressions (support/load/thresholds.ts): the forms k6 scripts use, what k6 refuses,
 * each operator at its boundary, and the object form.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateThreshold, evaluateThresholds, parseThreshold, parseThresholds, type ParsedThreshold } from '../support/load/thresholds.ts';

const EXAMPLES: [string, string, Partial<ParsedThreshold>][] = [
  ['http_req_duration', 'p(95)<100', { aggregation: 'p(95)', operator: '<', value: 100 }],
  ['http_req_duration', 'p(90) < 400', { aggregation: 'p(90)', operator: '<', value: 400 }],
  ['http_req_duration', 'p(99.9) < 2000', { aggregation: 'p(99.9)', operator: '<', value: 2000 }],
  ['checks', 'rate>0.90', { aggregation: 'rate', operator: '>', value: 0.9 }],
  ['http_req_failed', 'rate<0.001', { aggregation: 'rate', operator: '<', value: 0.001 }],
  ['iterations', 'count>=10', { aggregation: 'count', operator: '>=', value: 10 }],
  ['http_req_duration{expected_response:true}', 'avg<200', { aggregation: 'avg', operator: '<', value: 200 }],
  ['group_duration', 'med<=5', { aggregation: 'med', operator: '<=', value: 5 }],
  ['vus', 'value>0', { aggregation: 'value', operator: '>', value: 0 }],
  ['http_reqs', 'rate == 3', { aggregation: 'rate', operator: '==', value: 3 }],
  ['http_reqs', 'count===3', { aggregation: 'count', operator: '===', value: 3 }],
  ['dropped_iterations', 'count != 0', { aggregation: 'count', operator: '!=', value: 0 }],
];

test('every example parses, the expression kept as written', () => {
  for (const [metric, expression, expected] of EXAMPLES) {
    const t = parseThreshold(metric, expression);
    assert.deepEqual(t, { metric, expression, abortOnFail: false, ...expected }, expression);
  }
});

test('spacing changes nothing but the expression', () => {
  const variants = ['p(95)<100', 'p(95) < 100', 'p(95)< 100', 'p(95) <100', '  p(95)   <   100  ', 'p(95)\t<\t100', 'p(95.0)<100'];
  const parsed = variants.map((v) => parseThreshold('http_req_duration', v));
  for (const [i, t] of parsed.entries()) {
    assert.equal(t.expression, variants[i]);
    assert.deepEqual({ ...t, expression: '' }, { ...parsed[0], expression: '' }, variants[i]);
  }
  assert.equal(parseThreshold('http_req_duration', 'p(99.90) < 1').aggregation, 'p(99.9)');
  assert.deepEqual({ ...parseThreshold('checks', 'rate >= 0.5'), expression: '' }, { ...parseThreshold('checks', 'rate>=0.5'), expression: '' });
});

test('a bad expression fails with the metric, the expression and the fault', () => {
  const cases: [string, string, RegExp][] = [
    ['http_req_duration', 'p95<100', /unknown aggregation 'p95'/],
    ['http_req_duration', 'p(95)<<100', /'<100' is not a number/],
    ['http_req_duration', 'p(101)<5', /percentile 101 is outside \[0, 100\]/],
    ['http_req_duration', 'p(-1)<5', /percentile -1 is outside/],
    ['http_req_duration', 'p(x)<5', /'x' in p\(x\) is not a number/],
    ['http_req_duration', 'p( 95)<5', /' 95' in p\( 95\) is not a number/],
    ['http_req_duration', 'median<5', /unknown aggregation 'median'/],
    ['checks', 'rate<', /no number after '<'/],
    ['checks', 'rate 0.5', /no comparison operator/],
    ['checks', 'rate=0.5', /no comparison operator/],
    ['checks', 'rate<0.5s', /'0.5s' is not a number/],
    ['checks', '<0.5', /unknown aggregation ''/],
  ];
  for (const [metric, expression, why] of cases) {
    assert.throws(() => parseThreshold(metric, expression), (error: Error) => {
      assert.ok(error.message.startsWith(`threshold '${expression}' of ${metric}: `), error.message);
      assert.match(error.message, why);
      return true;
    }, expression);
  }
});

test("an aggregation the metric's type lacks is refused when the type is known, accepted when it is not", () => {
  // k6 validates the aggregation against the metric's type (a trend has no count, a gauge only value);
  // the type comes from k6's built-in metrics or is given; a custom metric of unknown type takes any
  assert.throws(() => parseThreshold('http_req_duration', 'count<5'), /^Error: threshold 'count<5' of http_req_duration: count does not apply to a trend metric \(it takes avg, min, max, med, p\(N\)\)$/);
  assert.throws(() => parseThreshold('http_req_duration{status:200}', 'rate<5'), /rate does not apply to a trend metric/);
  assert.throws(() => parseThreshold('vus', 'max<5'), /max does not apply to a gauge metric \(it takes value\)/);
  assert.throws(() => parseThreshold('checks', 'count>5'), /count does not apply to a rate metric/);
  assert.throws(() => parseThreshold('http_reqs', 'p(95)<5'), /p\(N\) does not apply to a counter metric/);
  assert.throws(() => parseThreshold('latency', 'count<5', 'trend'), /count does not apply to a trend metric/);
  assert.equal(parseThreshold('latency', 'count<5').aggregation, 'count');
  assert.equal(parseThreshold('constructor', 'count<5').aggregation, 'count');
});

test('parseThresholds parses all of them and lists every invalid one in one error', () => {
  const all = parseThresholds({ http_req_duration: ['p(95)<100', { threshold: 'max<2000', abortOnFail: true }], checks: ['rate>0.9'] });
  assert.deepEqual(all.map((t) => `${t.metric} ${t.expression}`), ['http_req_duration p(95)<100', 'http_req_duration max<2000', 'checks rate>0.9']);
  assert.throws(
    () => parseThresholds({ http_req_duration: ['p(95)<100', 'p95<100', 'count<5'], checks: ['rate<'], errors: ['rate<0.1'] }),
    (error: Error) => {
      const lines = error.message.split('\n');
      assert.equal(lines[0], '3 invalid k6 thresholds:');
      assert.match(lines[1], /^ {2}- threshold 'p95<100' of http_req_duration: /);
      assert.match(lines[2], /^ {2}- threshold 'count<5' of http_req_duration: /);
      assert.match(lines[3], /^ {2}- threshold 'rate<' of checks: /);
      assert.equal(lines.length, 4);
      return true;
    },
  );
  assert.throws(() => parseThresholds({ latency: ['count<5'] }, { latency: 'trend' }), /^Error: 1 invalid k6 threshold:\n {2}- threshold 'count<5' of latency/);
});

test('the object form: abortOnFail and delayAbortEval as k6 durations', () => {
  const t = parseThreshold('http_req_duration', { threshold: 'p(99) < 10', abortOnFail: true, delayAbortEval: '10s' });
  assert.deepEqual(t, { metric: 'http_req_duration', expression: 'p(99) < 10', aggregation: 'p(99)', operator: '<', value: 10, abortOnFail: true, delayAbortEvalMs: 10_000 });
  const delay = (d: string | number): number | undefined => parseThreshold('checks', { threshold: 'rate>0.9', delayAbortEval: d }).delayAbortEvalMs;
  assert.equal(delay('500ms'), 500);
  assert.equal(delay('1m30s'), 90_000);
  assert.equal(delay('1.5s'), 1500);
  assert.equal(delay('1h'), 3_600_000);
  assert.equal(delay('1d2h'), 93_600_000);
  assert.equal(delay('250'), 250);
  assert.equal(delay(250), 250);
  assert.equal(delay('0'), 0);
  assert.equal(parseThreshold('checks', { threshold: 'rate>0.9' }).abortOnFail, false);
  assert.equal(parseThreshold('checks', { threshold: 'rate>0.9' }).delayAbortEvalMs, undefined);
  for (const bad of ['10 s', '10sec', 's', '-5s', '']) {
    assert.throws(() => delay(bad), new RegExp(`^Error: threshold 'rate>0.9' of checks: delayAbortEval '${bad}' is not a k6 duration`), bad);
  }
  assert.throws(() => parseThreshold('checks', { threshold: 'rate>>0.9', abortOnFail: true }), /threshold 'rate>>0.9' of checks: '>0.9' is not a number/);
  assert.throws(() => parseThreshold('checks', {} as { threshold: string }), /^Error: threshold \{\} of checks: the object form needs a 'threshold' string$/);
});

test('each operator at its boundary: the threshold holds when `observed <op> value` does', () => {
  const at = (expression: string, observed: number): boolean => evaluateThreshold(parseThreshold('http_req_duration', expression), { 'p(95)': observed }).ok;
  assert.equal(at('p(95)<100', 100), false);
  assert.equal(at('p(95)<100', 99.999), true);
  assert.equal(at('p(95)<=100', 100), true);
  assert.equal(at('p(95)<=100', 100.001), false);
  assert.equal(at('p(95)>100', 100), false);
  assert.equal(at('p(95)>100', 100.001), true);
  assert.equal(at('p(95)>=100', 100), true);
  assert.equal(at('p(95)>=100', 99.999), false);
  assert.equal(at('p(95)==100', 100), true);
  assert.equal(at('p(95)==100', 100.001), false);
  assert.equal(at('p(95)===100', 100), true);
  assert.equal(at('p(95)!=100', 100), false);
  assert.equal(at('p(95)!=100', 99), true);
  assert.deepEqual(evaluateThreshold(parseThreshold('checks', 'rate>0.90'), { rate: 0.9, passes: 9, fails: 1 }), { ok: false, observed: 0.9 });
  assert.deepEqual(evaluateThreshold(parseThreshold('iterations', 'count>=10'), { count: 10, rate: 1 }), { ok: true, observed: 10 });
  assert.deepEqual(evaluateThreshold(parseThreshold('vus', 'value>0'), { value: 0, min: 0, max: 3 }), { ok: false, observed: 0 });
});

test('a missing stat, a NaN stat or a missing metric fails the threshold', () => {
  const trend = { avg: 30, min: 1, med: 20, max: 90, 'p(90)': 40, 'p(95)': 50 };
  assert.deepEqual(evaluateThreshold(parseThreshold('http_req_duration', 'p(99.9)<2000'), trend), { ok: false, observed: null });
  assert.deepEqual(evaluateThreshold(parseThreshold('http_req_duration', 'p(95.0)<60'), trend), { ok: true, observed: 50 });
  const nan = evaluateThreshold(parseThreshold('http_req_duration', 'p(95)!=0'), { ...trend, 'p(95)': NaN });
  assert.equal(nan.ok, false);
  assert.ok(Number.isNaN(nan.observed));

  const results = evaluateThresholds(parseThresholds({ http_req_duration: ['p(95)<100', 'p(99)<100'], http_req_failed: ['rate<0.01'], 'http_req_duration{status:500}': ['max<1'] }), {
    http_req_duration: { values: trend },
    http_req_failed: { values: { rate: 0.02, passes: 2, fails: 98 } },
  });
  assert.deepEqual(results, [
    { metric: 'http_req_duration', expression: 'p(95)<100', ok: true, observed: 50 },
    { metric: 'http_req_duration', expression: 'p(99)<100', ok: false, observed: null, reason: 'http_req_duration has no p(99) (it has avg, min, med, max, p(90), p(95))' },
    { metric: 'http_req_failed', expression: 'rate<0.01', ok: false, observed: 0.02 },
    { metric: 'http_req_duration{status:500}', expression: 'max<1', ok: false, observed: null, reason: 'the summary has no metric http_req_duration{status:500}' },
  ]);
  const [empty] = evaluateThresholds(parseThresholds({ checks: ['rate>0.9'] }), { checks: { values: { rate: NaN, passes: 0, fails: 0 } } });
  assert.equal(empty.ok, false);
  assert.equal(empty.reason, 'checks rate is NaN (no samples)');
});
