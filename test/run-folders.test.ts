import assert from 'node:assert/strict';
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
    assert.equal(resolveRunFolder(root, first), first);
    assert.throws(() => resolveRunFolder(root, path.join(root, 'runs', 'nope')), /no run folder .*nope/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
