import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { latestRun, newRunFolder, pointLatest, resolveRunFolder } from '../support/report/run-folders.ts';
import { tempDir } from './helpers.ts';

test('each run gets its own folder named by time and run id; latest points at the newest; commands resolve latest or the folder given', () => {
  const root = tempDir('runs');
  try {
    assert.equal(latestRun(root), undefined);
    assert.equal(resolveRunFolder(root), root, 'no run yet: results written to the root directly');
    const first = newRunFolder(root, '11111111-2222-3333-4444-555555555555', new Date('2026-11-28T10:00:00.123Z'));
    assert.equal(path.relative(root, first), path.join('runs', '2026-11-28T10-00-00Z-11111111'));
    pointLatest(root, first);
    fs.writeFileSync(path.join(first, 'run.json'), 'first');
    const second = newRunFolder(root, 'aaaaaaaa-2222-3333-4444-555555555555', new Date('2026-11-28T10:00:00.500Z'));
    assert.notEqual(second, first, 'two runs in the same second still get two folders');
    pointLatest(root, second);
    assert.equal(latestRun(root), fs.realpathSync(second));
    assert.equal(fs.readlinkSync(path.join(root, 'latest')), path.join('runs', '2026-11-28T10-00-00Z-aaaaaaaa'), 'a relative link: the reports folder can move');
    assert.equal(fs.readFileSync(path.join(first, 'run.json'), 'utf8'), 'first', 'the earlier run is untouched');
    assert.equal(resolveRunFolder(root), fs.realpathSync(second));
    assert.throws(() => resolveRunFolder(root, first), /is not a run folder \(it holds none of cucumber-messages.ndjson/, 'a folder no run wrote is refused');
    fs.writeFileSync(path.join(first, 'cucumber-messages.ndjson'), '');
    assert.equal(resolveRunFolder(root, first), first);
    assert.throws(() => resolveRunFolder(root, path.join(root, 'runs', 'nope')), /no run folder .*nope; the newest runs: .*aaaaaaaa/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('npm run signoff and npm run report refuse a missing run folder or an unknown option with exit 2, the reason and the usage, no stack trace', () => {
  const root = tempDir('runs-cli');
  try {
    for (const [script, args, reason] of [
      ['scripts/signoff.ts', ['--run', path.join(root, 'missing')], /no run folder .*missing; no run under/],
      ['scripts/report.ts', ['--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', env: { ...process.env, UAT_REPORTS_DIR: root } });
      assert.equal(run.status, 2, `${script} ${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, reason);
      assert.match(run.stderr, /^usage: npm run (signoff|report)/m);
      assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
      assert.deepEqual(fs.readdirSync(root), [], 'nothing written');
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
