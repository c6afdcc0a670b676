/**
 * The dashboard's page faults still bite the page as it is: each one changes the HTML served, so a
 * change of the page's markup cannot silently turn a meta test's seeded defect into a no-op.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../support/config.ts';
import { pageWithFaults, type DashboardFault } from '../dashboard/faults.ts';

const PAGE_FAULTS: DashboardFault[] = ['dashboard-wide-page', 'dashboard-unlabelled-control', 'dashboard-ignore-space', 'dashboard-tabs-ignore-address', 'dashboard-skip-tab', 'dashboard-ignore-enter', 'dashboard-no-chart-library'];

test('every fault of the page changes the HTML the dashboard serves', () => {
  const html = fs.readFileSync(path.join(PROJECT_ROOT, 'dashboard', 'public', 'index.html'));
  for (const fault of PAGE_FAULTS) {
    const changed = pageWithFaults(html, new Set([fault])).toString('utf8');
    assert.notEqual(changed, html.toString('utf8'), `${fault} leaves the page as it is`);
  }
  const skipped = pageWithFaults(html, new Set(['dashboard-skip-tab'])).toString('utf8');
  assert.match(skipped, /<a href="#business" data-view="business" tabindex="-1">Business impact<\/a>/);
  assert.match(pageWithFaults(html, new Set(['dashboard-ignore-enter'])).toString('utf8'), /<a tabindex="0" data-view="business" onclick="location.hash = 'business'">Business impact<\/a>/);
});
