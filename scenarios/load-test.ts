/// <reference types="k6" />
/**
 * The k6 script of every load profile in scenarios/: k6 runs it as it is (k6 v0.57+ runs TypeScript),
 * locally or distributed by the k6 operator (a TestRun whose script comes from a ConfigMap). What
 * to run comes from the environment, which support/load/k6-runner.ts sets:
 *
 *   K6_OPTIONS   the profile as k6 options: {"scenarios": {...}, "thresholds": {...}}
 *   TARGET_URL   the OIP v2 infer endpoint
 *   SELDON_MODEL the seldon-model header (for example financial-ab-test.experiment)
 *   PAYLOADS     a JSON file holding the payload set (an array of OIP request bodies)
 *   SUMMARY_FILE where handleSummary writes the end-of-test summary (JSON)
 *   SUMMARY_STDOUT 1: also print the summary to standard output between marker lines (a k6
 *                operator runner, whose pod log the harness reads)
 *
 * Each iteration sends the next payload and checks the answer is 200 with OIP outputs, as the
 * built-in engine does.
 */
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';

const payloads: string[] = (JSON.parse(open(__ENV.PAYLOADS)) as unknown[]).map((p) => JSON.stringify(p));

export const options = JSON.parse(__ENV.K6_OPTIONS);

export default function (): void {
  const body = payloads[exec.scenario.iterationInTest % payloads.length];
  const res = http.post(__ENV.TARGET_URL, body, { headers: { 'content-type': 'application/json', 'seldon-model': __ENV.SELDON_MODEL } });
  check(res, { 'answered with OIP outputs': (r) => r.status === 200 && String(r.body).includes('"outputs"') });
}

// the same markers as support/load/k6-operator.ts
const SUMMARY_BEGIN = '----- k6 end-of-test summary (JSON) -----';
const SUMMARY_END = '----- end of k6 summary -----';

export function handleSummary(data: Record<string, unknown>): Record<string, string> {
  const json = JSON.stringify(data);
  // a runner of the k6 operator: its pod's log is where the harness reads the summary, between these lines
  if (__ENV.SUMMARY_STDOUT === '1') return { [__ENV.SUMMARY_FILE]: json, stdout: `\n${SUMMARY_BEGIN}\n${json}\n${SUMMARY_END}\n` };
  return { [__ENV.SUMMARY_FILE]: json };
}

