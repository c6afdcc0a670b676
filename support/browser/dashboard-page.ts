/**
 * Page object of the live dashboard: opening it (timed until the first figures are drawn), reading
 * its figures and source badges, changing the window and the model filter, keyboard navigation,
 * and an axe-core accessibility scan.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';

export interface DashboardFigure {
  id: string;
  label: string;
  text: string;
  value: number | null;
  unit: string;
  source: string | null;
  note: string | null;
}

export interface ChartState {
  window: string;
  categories: string[] | null;
  series: string[];
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = (): string => fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export class DashboardPage {
  readonly pageErrors: string[] = [];

  private constructor(readonly page: Page, readonly loadMs: number) {
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
  }

  static async open(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<DashboardPage> {
    const page = await browser.newPage({ viewport });
    // a Playwright trace of the whole visit, kept only when the scenario fails (trace())
    await page.context().tracing.start({ screenshots: true, snapshots: true });
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
          unit: node.getAttribute('data-unit') ?? '',
          source: node.querySelector('.source-badge')?.getAttribute('data-source') ?? null,
          note: node.querySelector('.note')?.textContent?.trim() ?? null,
        };
      }),
    );
  }

  /** When the figures on screen were generated (changes on every refresh). */
  async generatedAt(): Promise<string> {
    return (await this.page.getAttribute('body', 'data-generated-at')) ?? '';
  }

  /** Wait until the page has drawn figures newer than `after`. */
  async waitForRefresh(after: string, timeoutMs = 15_000): Promise<void> {
    await this.page.waitForFunction((previous) => (document.body.dataset.generatedAt ?? '') > previous, after, { timeout: timeoutMs });
  }

  /** Wait until the figures drawn were read for a selection without `model` (after a filter change). */
  async waitForModelDropped(model: string, timeoutMs = 15_000): Promise<void> {
    await this.page.waitForFunction((m) => !(document.body.dataset.models ?? '').split(',').includes(m), model, { timeout: timeoutMs });
  }

  async refreshNow(timeoutMs?: number): Promise<void> {
    const before = await this.generatedAt();
    await this.page.click('#refresh-now');
    await this.waitForRefresh(before, timeoutMs);
  }

  async selectWindow(window: string): Promise<void> {
    const before = await this.generatedAt();
    await this.page.selectOption('#window', window);
    await this.waitForRefresh(before);
  }

  /** Leave only `models` ticked in the model filter. */
  async showOnlyModels(models: string[]): Promise<void> {
    const boxes = await this.page.$$('#model-filter input[type=checkbox]');
    for (const box of boxes) {
      const want = models.includes((await box.getAttribute('value')) ?? '');
      if ((await box.isChecked()) !== want) {
        const before = await this.generatedAt();
        await box.setChecked(want);
        await this.waitForRefresh(before);
      }
    }
  }

  async chart(name: string): Promise<ChartState> {
    const raw = await this.page.getAttribute(`#chart-${name}`, 'data-charted');
    if (!raw) throw new Error(`chart ${name} has not been drawn`);
    return JSON.parse(raw) as ChartState;
  }

  /** Charts drawn on the page (ECharts containers with an SVG inside). */
  async drawnCharts(): Promise<string[]> {
    return this.page.$$eval('[data-chart]', (nodes) => nodes.filter((n) => n.querySelector('svg')).map((n) => n.getAttribute('data-chart') ?? ''));
  }

  /** Pixels the page is wider than the viewport (0 = no horizontal scrolling). */
  async horizontalOverflow(): Promise<number> {
    return this.page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
  }

  async axeViolations(): Promise<AxeViolation[]> {
    await this.page.addScriptTag({ content: AXE_SOURCE() });
    return this.page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[] }> } }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
    });
  }

  private async startFromTop(): Promise<void> {
    await this.page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
  }

  /** The accessible text of the focused element: its label, aria-label or text. */
  private focusedName(): Promise<string> {
    return this.page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return '(body)';
      const label = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null;
      return (label ?? el.getAttribute('aria-label') ?? el.textContent ?? el.id).trim();
    });
  }

  /** Press Tab `count` times from the top of the page; the accessible name of each element focused. */
  async tabStops(count: number): Promise<string[]> {
    await this.startFromTop();
    const stops: string[] = [];
    for (let i = 0; i < count; i++) {
      await this.page.keyboard.press('Tab');
      stops.push(await this.focusedName());
    }
    return stops;
  }

  /** Reach the element named `name` with Tab from the top and press `key` on it; false if Tab never reaches it. */
  async activateByKeyboard(name: string, key: 'Enter' | 'Space', maxTabs = 40): Promise<boolean> {
    await this.startFromTop();
    for (let i = 0; i < maxTabs; i++) {
      await this.page.keyboard.press('Tab');
      if ((await this.focusedName()) === name) {
        await this.page.keyboard.press(key);
        return true;
      }
    }
    return false;
  }

  /** The URL fragment (the view a navigation link went to). */
  async locationHash(): Promise<string> {
    return this.page.evaluate(() => location.hash);
  }

  async setViewport(width: number, height: number): Promise<void> {
    await this.page.setViewportSize({ width, height });
    await this.page.waitForTimeout(300); // let the charts resize
  }

  async screenshot(): Promise<Buffer> {
    return this.page.screenshot({ fullPage: true });
  }

  /** The Playwright trace of the visit so far (open it with `npx playwright-core show-trace <file>`); tracing stops. */
  async trace(): Promise<Buffer | undefined> {
    const file = path.join(os.tmpdir(), `uat-trace-${process.pid}-${Date.now()}.zip`);
    try {
      await this.page.context().tracing.stop({ path: file });
      return fs.readFileSync(file);
    } catch {
      return undefined;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.page.context().tracing.stop().catch(() => undefined);
    await this.page.close();
  }
}
