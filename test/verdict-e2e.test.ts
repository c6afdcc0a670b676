/**
 * The verdict rule end to end: a run whose only failure is a normal-severity criterion is NO-GO
 * through `npm run uat` and `npm run signoff`; the same results with a valid waiver are GO WITH
 * WAIVERS (exit 0), with an expired waiver NO-GO again. Printed verdict, documents and exit code agree.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { tempDir, TEST_TRAINING_CACHE } from './helpers.ts';

const FAILING_NORMAL = `@functional
Feature: A deliberately failing criterion of normal severity

  Background:
    Given the A/B testing stack is deployed

  @severity:normal
  Scenario: An answer expected from a predictor that was not asked
    When 5 market snapshots are sent to the "enhanced-predictor" predictor
    Then every answer comes from "ensemble-predictor"
`;

const run = (script: string, env: Record<string, string>, args: string[] = []) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', script), ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
};

test('a failed normal criterion is NO-GO; waived it is GO WITH WAIVERS; an expired waiver is NO-GO (npm run uat, npm run signoff)', { timeout: 300_000 }, () => {
  const dir = tempDir('verdict');
  const feature = path.join(dir, 'failing-normal.feature');
  fs.writeFileSync(feature, FAILING_NORMAL);
  const waivers = path.join(dir, 'waivers.yaml');
  const env = { UAT_REPORTS_DIR: path.join(dir, 'reports'), UAT_WAIVERS_FILE: waivers, UAT_TRAINING_CACHE: TEST_TRAINING_CACHE };
  try {
    // one short scenario of each category besides the failing one: every category ran, so the failed criterion is the only reason
    const quick = '^(A request naming a predictor other than the experiment baseline reaches that predictor: enhanced-predictor|A burst of .* stays fast|The platform metrics count every request sent|The dashboard refreshes itself|A malformed request is refused cleanly: a tensor of the wrong shape|An answer expected from a predictor that was not asked)$';
    const uat = run('uat.ts', env, ['--profile', 'ci', '--name', quick, '--no-html', feature]);
    assert.equal(uat.status, 1, uat.output);
    assert.match(uat.output, /Verdict: NO-GO/);
    assert.match(uat.output, /normal criterion failed: every answer to a request naming ensemble-predictor comes from ensemble-predictor \(answers-come-from-ensemble-predictor;/);
    const signoffFile = path.join(dir, 'reports', 'latest', 'signoff', 'signoff.json');
    const first = JSON.parse(fs.readFileSync(signoffFile, 'utf8'));
    assert.equal(first.verdict, 'NO-GO');
    // Every other reason would hide the point of this test.
    assert.deepEqual(first.reasons.filter((r: string) => !/ensemble-predictor/.test(r)), [], first.reasons.join('\n'));

    const again = run('signoff.ts', env);
    assert.equal(again.status, 1, again.output);
    assert.match(again.output, /Verdict: NO-GO/);

    fs.writeFileSync(waivers, 'waivers:\n  - criterion: answers-come-from-ensemble-predictor\n    reason: the test asks the wrong predictor on purpose\n    owner: release.manager\n    expires: 2099-12-31\n');
    const waived = run('signoff.ts', env);
    assert.equal(waived.status, 0, waived.output);
    assert.match(waived.output, /Verdict: GO WITH WAIVERS/);
    assert.match(waived.output, /waived: answers-come-from-ensemble-predictor \(normal\) by release.manager until 2099-12-31/);
    const md = fs.readFileSync(path.join(dir, 'reports', 'latest', 'signoff', 'signoff.md'), 'utf8');
    assert.match(md, /\*\*Verdict: GO WITH WAIVERS\*\* for all categories \(profile ci; only scenarios named by --name [^\n]*\): not a release verdict: only the scenarios picked by --name ran; on the embedded Seldon-compatible stand-in, not a cluster\.\n[\s\S]*## Waived failures \(1\)/);
    assert.equal(JSON.parse(fs.readFileSync(signoffFile, 'utf8')).verdict, 'GO WITH WAIVERS');

    fs.writeFileSync(waivers, 'waivers:\n  - criterion: answers-come-from-ensemble-predictor\n    reason: the test asks the wrong predictor on purpose\n    owner: release.manager\n    expires: 2020-01-31\n');
    const expired = run('signoff.ts', env);
    assert.equal(expired.status, 1, expired.output);
    assert.match(expired.output, /Verdict: NO-GO[\s\S]*expired on 2020-01-31/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
