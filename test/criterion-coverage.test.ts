/**
 * Every acceptance criterion has been shown able to fail: each criterion id recorded by the code in
 * support/tasks/ is named by a meta test (test/meta-*.test.ts) that seeds the platform defect it
 * guards and asserts that exact criterion failed, or is listed in test/meta-coverage-gaps.ts with
 * the defect still to seed. A new criterion without either fails this test.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { criterionIds, type CriterionIdPattern } from '../support/evidence/criterion-ids.ts';
import { UNPROVEN_CRITERIA } from './meta-coverage-gaps.ts';
import { tempDir } from './helpers.ts';

/** String literals in the meta tests: the criterion ids (or id prefixes) they assert on. */
function metaTestLiterals(dir = path.join(PROJECT_ROOT, 'test')): string[] {
  const literals: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => /^meta-.*\.test\.ts$/.test(f))) {
    for (const m of fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/'([a-z0-9-]+)'/g)) literals.push(m[1]);
  }
  return literals;
}

/** A criterion is proven when a meta test names its id (or, for a template id, its prefix or an instance). */
function proven(criterion: CriterionIdPattern, literals: string[]): boolean {
  const prefix = criterion.source.split('${')[0];
  return literals.some((l) => criterion.pattern.test(l) || (criterion.source.includes('${') && l === prefix));
}

export function uncovered(ids: CriterionIdPattern[], literals: string[], gaps: Record<string, string>): string[] {
  return ids.filter((c) => !proven(c, literals) && !(c.source in gaps)).map((c) => `${c.source} (${c.file})`);
}

test('every criterion id is proven able to fail by a meta test, or listed as a known gap', () => {
  const ids = criterionIds();
  assert.ok(ids.length >= 30, `found ${ids.length} criterion ids`);
  const literals = metaTestLiterals();
  assert.deepEqual(uncovered(ids, literals, UNPROVEN_CRITERIA), [], 'criterion ids with no meta test: add one, seeding the defect the criterion guards');
  const sources = new Set(ids.map((c) => c.source));
  const stale = Object.keys(UNPROVEN_CRITERIA).filter((id) => !sources.has(id) || proven(ids.find((c) => c.source === id)!, literals));
  assert.deepEqual(stale, [], 'entries of test/meta-coverage-gaps.ts that are proven now or no longer exist: remove them');
});

test('a new criterion id without a meta test is caught', () => {
  const dir = tempDir('criteria');
  fs.writeFileSync(path.join(dir, 'new-task.ts'), "await world.check({ id: 'brand-new-criterion', passed: false });\nawait world.check({ id: `per-model-thing-${model}`, passed: true });\n");
  const ids = criterionIds(dir);
  assert.deepEqual(ids.map((c) => c.source), ['brand-new-criterion', 'per-model-thing-${...}']);
  assert.deepEqual(uncovered(ids, [], {}), ['brand-new-criterion (new-task.ts)', 'per-model-thing-${...} (new-task.ts)']);
  assert.deepEqual(uncovered(ids, ['brand-new-criterion', 'per-model-thing-'], {}), []);
  fs.rmSync(dir, { recursive: true, force: true });
});
