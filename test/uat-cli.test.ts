/**
 * `npm run uat` refuses what it cannot run before anything starts: an unknown profile (listing the
 * profiles cucumber.js defines), an unknown option, a feature file that does not exist. Exit code 2,
 * the usage, and no report written: the previous run's results stay as they were.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { tempDir } from './helpers.ts';

test('an unknown profile, option or feature file is refused with exit code 2 before anything starts, and the earlier results are left alone', () => {
  const reports = tempDir('uat-cli');
  const earlier = path.join(reports, 'signoff', 'signoff.md');
  fs.mkdirSync(path.dirname(earlier), { recursive: true });
  fs.writeFileSync(earlier, 'the previous run');
  for (const [args, message] of [
    [['--profile', 'nonsense'], /unknown profile 'nonsense': the profiles are ci, default, functional, integration, performance, security, soak, usability/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['features/no-such.feature:12'], /no feature file 'features\/no-such\.feature:12'/],
  ] as const) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'uat.ts'), ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, UAT_REPORTS_DIR: reports }, timeout: 60_000 });
    assert.equal(run.status, 2, run.stderr + run.stdout);
    assert.match(run.stderr, message);
    assert.match(run.stderr, /usage: npm run uat/);
    assert.doesNotMatch(run.stdout, /Verdict/);
  }
  assert.deepEqual(fs.readdirSync(reports), ['signoff']);
  assert.equal(fs.readFileSync(earlier, 'utf8'), 'the previous run');
  fs.rmSync(reports, { recursive: true, force: true });
});
