/**
 * Links from the sign-off to the Allure test behind each criterion. Allure gives each test of a
 * report a uid of its own when it generates the report (two generations, two uids), so the links
 * are read from the single-file report the run folder holds (`allure-report.html`, the one that
 * opens from disk) and point into it: `allure-report.html#testresult/<uid>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Criterion } from '../evidence/ledger.ts';

export const SINGLE_FILE_REPORT = 'allure-report.html';

export interface AllureTest {
  uid: string;
  name: string;
  start?: number;
  stop?: number;
}

/** The tests of the run folder's single-file report (none when it was not built). */
export function allureTests(runDir: string): AllureTest[] {
  const file = path.join(runDir, SINGLE_FILE_REPORT);
  if (!fs.existsSync(file)) return [];
  const html = fs.readFileSync(file, 'utf8');
  // the single file embeds each data file as d('<path>', '<base64 of its JSON>')
  const embedded = /d\('data\/test-cases\/[^']+\.json','([A-Za-z0-9+/=]+)'\)/g;
  const tests: AllureTest[] = [];
  for (const [, base64] of html.matchAll(embedded)) {
    try {
      const t = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as { uid: string; name: string; time?: { start?: number; stop?: number } };
      tests.push({ uid: t.uid, name: t.name, start: t.time?.start, stop: t.time?.stop });
    } catch {
      // a data file that is not a test case's JSON: not a test to link
    }
  }
  return tests;
}

/** A criterion's key in the sign-off's links. */
export const criterionKey = (c: Pick<Criterion, 'id' | 'recordedAt'>): string => `${c.id}@${c.recordedAt}`;

/**
 * Each criterion's test: the test of its scenario that was running when it was recorded (a
 * scenario outline's rows, or retries, share a name), else the only test of that name.
 */
export function linkCriteria(criteria: Criterion[], tests: AllureTest[]): Record<string, string> {
  const links: Record<string, string> = {};
  for (const c of criteria) {
    const named = tests.filter((t) => t.name === c.scenario);
    const at = Date.parse(c.recordedAt);
    const running = named.filter((t) => t.start !== undefined && t.stop !== undefined && t.start <= at && at <= t.stop);
    const test = running.length === 1 ? running[0] : named.length === 1 ? named[0] : undefined;
    if (test) links[criterionKey(c)] = test.uid;
  }
  return links;
}
