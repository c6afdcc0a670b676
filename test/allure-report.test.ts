/**
 * The Allure report (support/report/allure-html.ts): one file that opens from disk in Chromium with
 * the release in its title, and the categories that say why a test failed. Needs Java.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { launchChromium } from '../support/browser/chromium.ts';
import { generateAllureHtml } from '../support/report/allure-html.ts';
import { allureTests, linkCriteria } from '../support/report/allure-links.ts';
import type { Criterion } from '../support/evidence/ledger.ts';
import { tempDir } from './helpers.ts';

const NO_JAVA = spawnSync('java', ['-version']).status !== 0 ? 'Java is not installed (apt-get install -y default-jre-headless)' : false;

const result = (name: string, status: string, message?: string) => ({
  uuid: `${name.replace(/\W/g, '')}-uuid`,
  historyId: name,
  testCaseId: name,
  name,
  fullName: `features/x.feature#${name}`,
  status,
  stage: 'finished',
  statusDetails: message ? { message } : {},
  steps: [],
  attachments: [],
  parameters: [],
  labels: [{ name: 'epic', value: 'functional' }],
  links: [],
  start: 1_700_000_000_000,
  stop: 1_700_000_001_000,
});

const criterion: Criterion = {
  id: 'latency', statement: 'a burst stays fast', threshold: 'P95 <= 250 ms', measured: 900, unit: 'ms', source: 'LIVE:load-engine', passed: false,
  category: 'performance', feature: 'x', scenario: 'x', severity: 'critical', runId: 'run-1', recordedAt: '',
};

test('the single-file report opens from disk with the release in its title, a test by its link; failures are sorted into categories', { skip: NO_JAVA, timeout: 120_000 }, async () => {
  const reports = tempDir('allure');
  try {
    const results = path.join(reports, 'allure-results');
    fs.mkdirSync(results, { recursive: true });
    fs.writeFileSync(path.join(reports, 'run.json'), JSON.stringify({ runId: 'run-1', release: 'v9.9.9', target: 'local' }));
    const failures = {
      split: 'the split matches the weights: expected each share within 3 points, measured 12 points (source LIVE:oip, two one-sided tests, alpha 0.05)',
      latency: 'a burst stays fast: expected P95 <= 250 ms, measured 900 ms (source LIVE:load-engine)',
      store: 'the MLflow store is unavailable: PostgreSQL unreachable',
      shape: 'the dashboard shows the drift: expected each figure equal, measured 2 figures (source LIVE:browser)',
    };
    for (const [name, message] of Object.entries(failures)) fs.writeFileSync(path.join(results, `${name}-result.json`), JSON.stringify(result(name, 'failed', message)));
    fs.writeFileSync(path.join(results, 'crash-result.json'), JSON.stringify(result('crash', 'broken', 'TypeError: x is undefined')));
    fs.writeFileSync(path.join(results, 'fine-result.json'), JSON.stringify(result('fine', 'passed')));
    const html = generateAllureHtml(reports);
    assert.equal(html.ok, true, html.message);
    const categories = JSON.parse(fs.readFileSync(path.join(reports, 'allure-report', 'data', 'categories.json'), 'utf8')) as { children: { name: string; children: { name: string }[] }[] };
    const sorted = Object.fromEntries(categories.children.map((c) => [c.name, c.children.flatMap((g) => ('children' in g ? (g.children as { name: string }[]).map((t) => t.name) : [g.name])).sort()]));
    assert.deepEqual(sorted, {
      'Statistical criterion failed': ['split'],
      'SLO breached': ['latency'],
      'Data source unavailable': ['store'],
      'Acceptance criterion failed': ['shape'],
      'Harness error': ['crash'],
    });
    const browser = await launchChromium(process.env.CHROMIUM_PATH);
    try {
      const page = await browser.newPage();
      await page.goto(`file://${html.singleFile}`);
      await page.getByText('financial-mlops-uat v9.9.9 (local, run run-1)').waitFor({ timeout: 20_000 });
      assert.doesNotMatch(await page.locator('body').innerText(), /Failed to fetch/);
      // the sign-off's link to a criterion's test opens that test in the single file
      const [uid] = Object.values(linkCriteria([{ ...criterion, scenario: 'latency', recordedAt: new Date(1_700_000_000_500).toISOString() }], allureTests(reports)));
      assert.ok(uid, 'the latency test is found in the single file');
      await page.goto(`file://${html.singleFile}#testresult/${uid}`);
      await page.getByText('expected P95 <= 250 ms, measured 900 ms').first().waitFor({ timeout: 20_000 });
    } finally {
      await browser.close();
    }
  } finally {
    fs.rmSync(reports, { recursive: true, force: true });
  }
});
