/**
 * The k6 engine (support/load/k6-runner.ts, support/load/engine.ts) without k6 itself: a stand-in
 * `k6` on PATH that does what k6 does at the end of a run (handleSummary writes the summary to the
 * file the script names, the exit code says whether thresholds held). The real k6 is never shipped
 * or built here; this proves the wrapper reads the summary whatever the exit code, maps the codes,
 * and hands k6 the profile, the endpoint and the payloads.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runLoad } from '../support/load/engine.ts';
import { k6Binary } from '../support/load/k6-runner.ts';
import { loadProfile, withOverrides } from '../support/load/profile.ts';
import { tempDir } from './helpers.ts';

const SUMMARY = {
  root_group: { name: '', path: '', id: 'x', groups: [], checks: [] },
  options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], summaryTimeUnit: '', noColor: true },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 15012.5 },
  metrics: {
    http_reqs: { type: 'counter', contains: 'default', values: { count: 3000, rate: 199.8 } },
    http_req_duration: { type: 'trend', contains: 'time', values: { avg: 40, min: 2, med: 30, max: 400, 'p(90)': 90, 'p(95)': 120 }, thresholds: { 'p(95)<100': { ok: false } } },
    http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 3000 }, thresholds: { 'rate<0.001': { ok: true } } },
  },
};

/** A `k6` that records how it was called and ends as told (FAKE_K6_EXIT), writing the summary unless told not to. */
function fakeK6(dir: string): string {
  const bin = path.join(dir, 'k6');
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(SUMMARY));
  fs.writeFileSync(bin, `#!/bin/sh
if [ "$1" = version ]; then echo "k6 v1.2.0 (fake)"; exit 0; fi
printf '%s\\n' "$*" > "${dir}/args"
printf '%s' "$K6_OPTIONS" > "${dir}/options"
cp "$PAYLOADS" "${dir}/payloads"
printf '%s' "$TARGET_URL $SELDON_MODEL" > "${dir}/target"
[ -z "$FAKE_K6_NO_SUMMARY" ] && cp "${dir}/summary.json" "$SUMMARY_FILE"
echo "level=error msg=\\"something k6 said\\"" >&2
exit \${FAKE_K6_EXIT:-0}
`, { mode: 0o755 });
  return bin;
}

const endpoint = { url: 'http://127.0.0.1:9/v2/models/financial-ab-test/infer', headers: { 'content-type': 'application/json', 'seldon-model': 'financial-ab-test.experiment' }, bodies: ['{"inputs":[1]}', '{"inputs":[2]}'] };

test('k6 on PATH runs the profile; a crossed threshold (exit 99) still gives its summary, read as k6 wrote it', async () => {
  const dir = tempDir('k6');
  try {
    const bin = fakeK6(dir);
    assert.equal(k6Binary({ K6_BIN: bin }), bin);
    assert.equal(k6Binary({ K6_BIN: path.join(dir, 'absent') }), undefined);
    const profile = withOverrides(loadProfile('sustained-experiment'), { rate: 200, duration: '15s' });
    const summary = await runLoad(profile, endpoint, { ...process.env, K6_BIN: bin, FAKE_K6_EXIT: '99' });
    assert.equal(summary.engine, 'k6');
    assert.equal(summary.metrics.http_req_duration.values['p(95)'], 120);
    assert.equal(summary.metrics.http_reqs.values.count, 3000);
    assert.deepEqual(summary.failedThresholds, ['http_req_duration: p(95)<100']);
    assert.equal(summary.state.testRunDurationMs, 15012.5);
    // what k6 was given: the script, the profile as options, the endpoint and the payload set
    assert.match(fs.readFileSync(path.join(dir, 'args'), 'utf8'), /^run --quiet --no-color .*scenarios\/load-test\.ts$/m);
    const options = JSON.parse(fs.readFileSync(path.join(dir, 'options'), 'utf8'));
    assert.deepEqual(options.scenarios['sustained_experiment'], { ...profile.scenario });
    assert.deepEqual(options.thresholds.http_req_duration, ['p(95)<100']);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'payloads'), 'utf8')), [{ inputs: [1] }, { inputs: [2] }]);
    assert.equal(fs.readFileSync(path.join(dir, 'target'), 'utf8'), `${endpoint.url} financial-ab-test.experiment`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("any other k6 exit code is an error with the code's meaning and k6's own message; k6 forced but absent says how to install it", async () => {
  const dir = tempDir('k6');
  try {
    const bin = fakeK6(dir);
    const profile = loadProfile('burst-experiment');
    await assert.rejects(runLoad(profile, endpoint, { ...process.env, K6_BIN: bin, FAKE_K6_EXIT: '107', FAKE_K6_NO_SUMMARY: '1' }), /k6 exited with code 107 \(script exception\) and wrote no summary: .*something k6 said/);
    await assert.rejects(runLoad(profile, endpoint, { ...process.env, K6_BIN: path.join(dir, 'absent'), UAT_LOAD_ENGINE: 'k6' }), /k6 is not installed: install it from Grafana/);
    await assert.rejects(runLoad(profile, endpoint, { ...process.env, UAT_LOAD_ENGINE: 'jmeter' }), /UAT_LOAD_ENGINE: must be auto, k6, builtin, k6-operator, not 'jmeter'/);
    await assert.rejects(runLoad(profile, endpoint, { ...process.env, UAT_LOAD_ENGINE: 'k6-operator' }), /k6-operator runs the load in a Kubernetes cluster: it needs UAT_TARGET=kubernetes/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a profile with a bad field is refused naming the file and the field; an override the executor does not take names both', () => {
  const dir = tempDir('profiles');
  try {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'description: x\nscenario:\n  executor: constant-arrival-rate\n  rate: 10\n  duration: 10 seconds\n  preAllocatedVUs: 2\n');
    assert.throws(() => loadProfile('bad', dir), /bad\.yaml: field scenario\.duration: must be a k6 duration/);
    fs.writeFileSync(path.join(dir, 'odd.yaml'), 'description: x\nscenario:\n  executor: constant-vus\n  vus: 2\n  duration: 1s\n  rate: 5\n');
    assert.throws(() => loadProfile('odd', dir), /odd\.yaml: field rate: /);
    assert.throws(() => loadProfile('absent', dir), /no load profile 'absent' .*\(the profiles: bad, odd\)/);
    assert.throws(() => withOverrides(loadProfile('burst-experiment'), { rate: 5 }), /load profile burst-experiment: its shared-iterations scenario has no 'rate' to set/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
