/**
 * Page object of the live dashboard: opening it (timed until the first figures are drawn), its
 * views (one tab each, chosen by the address's fragment), reading the figures and source badges a
 * view shows, changing the window and the model filter, keyboard navigation, and an axe-core
 * accessibility scan. Waits are Playwright's web-first assertions (`expect` of @playwright/test),
 * which retry until the page agrees or the time is up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { expect } from '@playwright/test';
import type { Browser, Page } from 'playwright-core';

/** The dashboard's views, in the order of its navigation: each a tab with its own address (`#<view>`). */
export const DASHBOARD_VIEWS = ['ab', 'business', 'bandit', 'router', 'drift', 'explanations', 'security'] as const;
export type DashboardView = (typeof DASHBOARD_VIEWS)[number];

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
    await expect(page.locator('body'), 'the dashboard draws its first figures').toHaveAttribute('data-generated-at', /\S/, { timeout: 15_000 });
    const loadMs = performance.now() - started;
    return new DashboardPage(page, loadMs);
  }

  /** The view on screen (null on a page that marks none). */
  async currentView(): Promise<DashboardView | null> {
    return (await this.page.getAttribute('body', 'data-view')) as DashboardView | null;
  }

  /** Open a view by its tab (its link in the views' navigation), as a stakeholder clicks it; resolves once it is on screen. */
  async showView(view: DashboardView, timeoutMs = 5000): Promise<void> {
    const tab = this.page.locator(`#views a[data-view="${view}"]`);
    await tab.click({ timeout: timeoutMs });
    await expect(tab, `the ${view} tab is marked current`).toHaveAttribute('aria-current', 'page', { timeout: timeoutMs });
    await expect(this.page.locator(`section#${view}`), `the ${view} view is on screen`).toBeVisible({ timeout: timeoutMs });
  }

  /** Whether a view is on screen within `timeoutMs` (false when it is not). */
  async viewShown(view: DashboardView, timeoutMs = 2000): Promise<boolean> {
    return expect(this.page.locator(`section#${view}`)).toBeVisible({ timeout: timeoutMs }).then(() => true, () => false);
  }

  /**
   * `read` on each view in turn, opened by its tab, then back to the view that was on screen;
   * the views whose tab did not bring them on screen are named, not read.
   */
  async eachView<T>(read: (view: DashboardView | null) => Promise<T>): Promise<{ read: T[]; unreachable: DashboardView[] }> {
    const was = await this.currentView();
    const results: T[] = [];
    const unreachable: DashboardView[] = [];
    // a page that marks no view on screen is read as it stands too
    if (!was) results.push(await read(null));
    const tabs = await this.page.locator('#views').count();
    for (const view of DASHBOARD_VIEWS) {
      // 5 s for a tab to bring its view: a loaded machine's page takes seconds to render one
      const shown = tabs > 0 && (await this.showView(view, 5000).then(() => true, () => false));
      if (shown) results.push(await read(view));
      else unreachable.push(view);
    }
    if (was) await this.showView(was, 2000).catch(() => undefined);
    return { read: results, unreachable };
  }

  /** The figures of every view, and the views that could not be opened. */
  async allFigures(): Promise<{ figures: DashboardFigure[]; unreachable: DashboardView[] }> {
    const { read, unreachable } = await this.eachView(() => this.figures());
    return { figures: read.flat(), unreachable };
  }

  /**
   * Read the page until `probe` says it agrees (web-first: `expect.poll` retries, every `intervalMs`);
   * false when it never did within `timeoutMs`.
   */
  async until(condition: string, timeoutMs: number, probe: () => Promise<boolean>, intervalMs = 250): Promise<boolean> {
    // one read always counts, however long it takes (a refresh that waits for a dead server); then retries while time is left
    const started = Date.now();
    if (await probe().catch(() => false)) return true;
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) return false;
    return expect.poll(probe, { message: condition, timeout: left, intervals: [intervalMs] }).toBe(true).then(() => true, () => false);
  }

  /** The figures of the view on screen. */
  async figures(): Promise<DashboardFigure[]> {
    return this.page.$$eval('[data-figure]', (nodes) =>
      nodes.filter((node) => node.checkVisibility()).map((node) => {
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

  /** Wait until the page has drawn figures other than those generated at `after` (each refresh is later). */
  async waitForRefresh(after: string, timeoutMs = 15_000): Promise<void> {
    await expect(this.page.locator('body'), 'the dashboard refreshes its figures').not.toHaveAttribute('data-generated-at', after, { timeout: timeoutMs });
  }

  /** Wait until the figures drawn were read for a selection without `model` (after a filter change). */
  async waitForModelDropped(model: string, timeoutMs = 15_000): Promise<void> {
    const listed = new RegExp(`(^|,)${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(,|$)`);
    await expect(this.page.locator('body'), `the figures are read without ${model}`).not.toHaveAttribute('data-models', listed, { timeout: timeoutMs });
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

  /** What a chart draws, read on its view (opened first when another is on screen). */
  async chart(name: string): Promise<ChartState> {
    const node = this.page.locator(`#chart-${name}`);
    const view = (await node.evaluate((n) => n.closest('section[id]')?.id)) as DashboardView;
    if ((await this.currentView()) !== view) await this.showView(view);
    await expect(node, `chart ${name} is drawn`).toHaveAttribute('data-charted', /\S/, { timeout: 5000 });
    return JSON.parse((await node.getAttribute('data-charted'))!) as ChartState;
  }

  /** Charts drawn on the view on screen (ECharts containers with an SVG inside). */
  async drawnCharts(): Promise<string[]> {
    return this.page.$$eval('[data-chart]', (nodes) => nodes.filter((n) => n.checkVisibility() && n.querySelector('svg')).map((n) => n.getAttribute('data-chart') ?? ''));
  }

  /** Charts drawn on every view, and the views that could not be opened. */
  async allDrawnCharts(): Promise<{ charts: string[]; unreachable: DashboardView[] }> {
    const { read, unreachable } = await this.eachView(() => this.drawnCharts());
    return { charts: read.flat(), unreachable };
  }

  /** Pixels the widest view is wider than the viewport (0 = no horizontal scrolling on any view it could open). */
  async horizontalOverflow(): Promise<{ overflow: number; unreachable: DashboardView[] }> {
    const { read, unreachable } = await this.eachView(() => this.page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)));
    return { overflow: Math.max(0, ...read), unreachable };
  }

  /** axe-core's violations on every view it could open (each rule once, with the nodes of every view). */
  async axeViolations(): Promise<{ violations: AxeViolation[]; unreachable: DashboardView[] }> {
    await this.page.addScriptTag({ content: AXE_SOURCE() });
    const perView = await this.eachView(() =>
      this.page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[] }> } }).axe;
        const result = await axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
      }),
    );
    const merged = new Map<string, AxeViolation>();
    for (const v of perView.read.flat()) {
      const seen = merged.get(v.id);
      merged.set(v.id, seen ? { ...seen, nodes: seen.nodes + v.nodes } : v);
    }
    return { violations: [...merged.values()], unreachable: perView.unreachable };
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
