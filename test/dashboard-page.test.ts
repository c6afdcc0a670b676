/**
 * The usability probes can fail: on a page with known barriers, the axe-core scan reports them,
 * the overflow probe measures the extra width, and the keyboard probe does not find what is absent.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { DashboardPage } from '../support/browser/dashboard-page.ts';
import { launchChromium } from '../support/browser/chromium.ts';

const BAD_PAGE = `<html><body data-generated-at="2026-01-01T00:00:00Z">
<img src="chart.png"><input type="text" id="window">
<div style="width:2000px">wide</div><button>Refresh now</button></body></html>`;

let browser: Browser;
let server: http.Server;
let url = '';
before(async () => {
  server = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(BAD_PAGE));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  server.close();
});

test('the probes report the barriers of a bad page', async () => {
  const page = await DashboardPage.open(browser, url, { width: 390, height: 844 });
  try {
    const { violations, unreachable } = await page.axeViolations();
    assert.deepEqual(unreachable, ['ab', 'business', 'bandit', 'router', 'drift', 'explanations', 'security'], 'a page without the views names every one it could not open');
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    for (const id of ['image-alt', 'label', 'html-has-lang', 'document-title']) assert.ok(serious.includes(id), `${id} not reported: ${serious}`);
    assert.ok((await page.horizontalOverflow()).overflow >= 2000 - 390);
    assert.deepEqual(await page.tabStops(2), ['', 'Refresh now'], 'an unlabelled field has no name');
    assert.equal(await page.activateByKeyboard('Business impact', 'Enter', 5), false);
  } finally {
    await page.close();
  }
});
