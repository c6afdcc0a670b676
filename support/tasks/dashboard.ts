/**
 * The live dashboard as a stakeholder sees it in Chromium: load time, figures and their source
 * badges, the window and model filter, auto-refresh, small and large screens, accessibility
 * (axe-core), the keyboard, and the security view against the run's evidence ledger. Every figure
 * read off the page is logged as a shown figure, so the sign-off counts their sources.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DASHBOARD_VIEWS, DashboardPage, type DashboardFigure, type DashboardView } from '../browser/dashboard-page.ts';
import { FIGURE_SOURCES } from '../evidence/figure.ts';
import { appendShownFigures, evidenceFile, type Criterion } from '../evidence/ledger.ts';
import type { UatWorld } from '../world.ts';
import { modelNames } from '../k8s/manifest-reader.ts';
import { openOrReuse, untilViewAgrees } from './live-metrics.ts';

export async function openDashboard(world: UatWorld, viewport = { width: 1280, height: 800 }): Promise<void> {
  world.ui.dashboard = await DashboardPage.open(await world.browser(), world.dashboardUrl, viewport);
  const name = `dashboard-${viewport.width}x${viewport.height}.png`;
  const png = await world.ui.dashboard.screenshot();
  await world.attach(png, { mediaType: 'image/png', fileName: name });
  // also under a stable name, for people who read the reports folder rather than Allure
  const dir = path.join(world.run.config.reportsDir, 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), png);
  // every view's figures, each opened by its tab (a view that cannot be opened fails the checks that read it)
  logShown(world, (await world.ui.dashboard.allFigures()).figures);
}

/** Views a check could not open, said in its measured value. */
const unreachableNote = (views: string[]): string => (views.length > 0 ? ` (views not opened by their tabs: ${views.join(', ')})` : '');

function logShown(world: UatWorld, figures: DashboardFigure[]): void {
  const observedAt = new Date().toISOString();
  appendShownFigures(
    world.run.config.reportsDir,
    figures.map((f) => ({ runId: world.target.uatRunId, shownIn: world.scenario.name, id: f.id, label: f.label, value: f.value, unit: f.unit, source: f.source ?? 'none', observedAt, note: f.note ?? undefined })),
  );
}

function page(world: UatWorld): DashboardPage {
  if (!world.ui.dashboard) throw new Error('the dashboard was not opened in this scenario');
  return world.ui.dashboard;
}

export async function checkLoadTime(world: UatWorld, thresholdMs: number): Promise<void> {
  const loadMs = page(world).loadMs;
  await world.check({
    id: 'dashboard-load-time',
    statement: 'the A/B dashboard loads quickly',
    threshold: `< ${thresholdMs} ms`,
    measured: loadMs,
    unit: 'ms',
    source: 'LIVE:browser',
    passed: loadMs < thresholdMs,
  });
}

export async function checkAccuracyShown(world: UatWorld, predictors: string[]): Promise<void> {
  // the page renders its figures when its first read of the API returns: wait for them (bounded), then judge what it shows
  const dashboard = page(world);
  let figures = await dashboard.figures();
  await dashboard.until('the accuracy figures to be rendered', 10_000, async () => {
    figures = await dashboard.figures();
    return predictors.every((p) => figures.some((f) => f.id === `accuracy:${p}` && f.value !== null));
  });
  const logged = await world.store.latestAccuracies(world.run.config.mlflowExperiment, world.target.uatRunId);
  for (const predictor of predictors) {
    const figure = figures.find((f) => f.id === `accuracy:${predictor}`);
    const expected = logged.find((l) => l.model === predictor)?.accuracy;
    const shown = figure?.value ?? null;
    await world.check({
      id: `dashboard-shows-accuracy-${predictor}`,
      statement: `the dashboard shows ${predictor}'s accuracy as logged in the MLflow store, labelled with that source`,
      threshold: `${expected ?? 'a logged accuracy'} from LIVE:mlflow-postgres`,
      measured: shown ?? 'not shown',
      unit: 'accuracy',
      source: 'LIVE:browser',
      passed: shown !== null && expected !== undefined && Math.abs(shown - expected) < 1e-12 && figure?.source === 'LIVE:mlflow-postgres',
      details: { text: figure?.text, badge: figure?.source, loggedAccuracy: expected },
    });
  }
}

export async function checkEveryFigureHasSource(world: UatWorld): Promise<void> {
  const { figures, unreachable } = await page(world).allFigures();
  const unlabelled = figures.filter((f) => !f.source || !FIGURE_SOURCES.includes(f.source));
  await world.check({
    id: 'dashboard-figures-name-source',
    statement: 'every figure on every view of the dashboard names its data source',
    threshold: '0 figures without a source badge, every view opened',
    measured: unreachable.length > 0 ? `${unlabelled.length}${unreachableNote(unreachable)}` : unlabelled.length,
    unit: 'figures',
    source: 'LIVE:browser',
    passed: figures.length > 0 && unlabelled.length === 0 && unreachable.length === 0,
    details: { figures: figures.map((f) => ({ id: f.id, source: f.source })), unreachable },
  });
}

export async function checkNoFigureSimulated(world: UatWorld): Promise<void> {
  const { figures, unreachable } = await page(world).allFigures();
  const simulated = figures.filter((f) => f.source === 'SIMULATED');
  await world.check({
    id: 'dashboard-no-simulated-figure',
    statement: 'no figure on any view of the dashboard is simulated while every live source is up',
    threshold: '0 figures labelled SIMULATED, every view opened',
    measured: unreachable.length > 0 ? `${simulated.length}${unreachableNote(unreachable)}` : simulated.length,
    unit: 'figures',
    source: 'LIVE:browser',
    passed: figures.length > 0 && simulated.length === 0 && unreachable.length === 0,
    details: { simulated: simulated.map((f) => ({ id: f.id, note: f.note })), unreachable },
  });
}

export async function chooseWindowAndModels(world: UatWorld, window: string, models: string[]): Promise<void> {
  const dashboard = page(world);
  await dashboard.selectWindow(window);
  await dashboard.showOnlyModels(models);
  await world.attach(await dashboard.screenshot(), { mediaType: 'image/png', fileName: `dashboard-${window}-${models.join('+')}.png` });
}

export async function checkChartsFollowSelection(world: UatWorld, models: string[], window: string): Promise<void> {
  const dashboard = page(world);
  const charts: Record<string, unknown> = {};
  const wrong: string[] = [];
  for (const name of ['split', 'accuracy', 'requestRate', 'latency']) {
    const state = await dashboard.chart(name);
    charts[name] = state;
    if (state.window !== window) wrong.push(`${name} charts window ${state.window}`);
    const shown = name === 'latency' ? [] : (state.categories ?? state.series);
    const extra = shown.filter((m) => !models.includes(m));
    if (extra.length > 0) wrong.push(`${name} still charts ${extra.join(', ')}`);
  }
  // the accuracy chart has a bar per model shown: exactly the selection (the split chart has the experiment's candidates among it)
  const accuracy = await dashboard.chart('accuracy');
  if (JSON.stringify(accuracy.categories) !== JSON.stringify(models)) wrong.push(`accuracy charts ${JSON.stringify(accuracy.categories)}`);
  await world.check({
    id: 'dashboard-filter-changes-charts',
    statement: `after choosing the last ${window} and ${models.join(', ')}, the charts show only that selection`,
    threshold: '0 charts that ignore the selection',
    measured: wrong.length,
    unit: 'charts',
    source: 'LIVE:browser',
    passed: wrong.length === 0,
    details: { charts, problems: wrong },
  });
}

export async function checkFiguresFollowSelection(world: UatWorld, models: string[]): Promise<void> {
  const { figures, unreachable } = await page(world).allFigures();
  const perModel = figures.filter((f) => f.id.includes(':') && !f.id.startsWith('assumption:') && !f.id.startsWith('window-requests:'));
  const others = perModel.filter((f) => !models.includes(f.id.split(':')[1]));
  await world.check({
    id: 'dashboard-filter-changes-figures',
    statement: `the per-model figures shown are only those of ${models.join(', ')}`,
    threshold: '0 figures of other models',
    measured: unreachable.length > 0 ? `${others.length}${unreachableNote(unreachable)}` : others.length,
    unit: 'figures',
    source: 'LIVE:browser',
    passed: perModel.length > 0 && others.length === 0 && unreachable.length === 0,
    details: { shown: perModel.map((f) => f.id), others: others.map((f) => f.id), unreachable },
  });
}

export async function checkAutoRefresh(world: UatWorld, seconds: number): Promise<void> {
  const dashboard = page(world);
  const before = await dashboard.generatedAt();
  const started = performance.now();
  let refreshedAfterMs: number | null = null;
  try {
    await dashboard.waitForRefresh(before, seconds * 1000);
    refreshedAfterMs = performance.now() - started;
  } catch {
    // not refreshed within the bound: recorded below
  }
  await world.check({
    id: 'dashboard-auto-refresh',
    statement: 'the dashboard refreshes its figures without any action',
    threshold: `<= ${seconds} s`,
    measured: refreshedAfterMs === null ? `no refresh within ${seconds} s` : refreshedAfterMs / 1000,
    unit: 's',
    source: 'LIVE:browser',
    passed: refreshedAfterMs !== null && refreshedAfterMs <= seconds * 1000,
  });
}

export async function checkNoHorizontalScroll(world: UatWorld): Promise<void> {
  const { overflow, unreachable } = await page(world).horizontalOverflow();
  await world.check({
    id: 'dashboard-no-horizontal-scroll',
    statement: 'every view of the dashboard fits the screen width',
    threshold: '0 px of horizontal scrolling, every view opened',
    measured: unreachable.length > 0 ? `${overflow}${unreachableNote(unreachable)}` : overflow,
    unit: 'px',
    source: 'LIVE:browser',
    passed: overflow === 0 && unreachable.length === 0,
  });
}

export async function checkChartsDrawn(world: UatWorld, expected: number): Promise<void> {
  const { charts: drawn, unreachable } = await page(world).allDrawnCharts();
  await world.check({
    id: 'dashboard-charts-drawn',
    statement: 'every chart of the dashboard is drawn, each on its view',
    threshold: `${expected} charts`,
    measured: unreachable.length > 0 ? `${drawn.length}${unreachableNote(unreachable)}` : drawn.length,
    unit: 'charts',
    source: 'LIVE:browser',
    passed: drawn.length === expected && unreachable.length === 0,
    details: { drawn, unreachable },
  });
}

export async function checkAccessibility(world: UatWorld): Promise<void> {
  const { violations, unreachable } = await page(world).axeViolations();
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  await world.attach(JSON.stringify(violations, null, 2), { mediaType: 'application/json', fileName: 'axe-violations.json' });
  await world.check({
    id: 'dashboard-accessibility',
    statement: 'an axe-core scan of every view of the dashboard finds no serious or critical accessibility violation',
    threshold: '0 serious or critical violations, every view opened',
    measured: unreachable.length > 0 ? `${blocking.length}${unreachableNote(unreachable)}` : blocking.length,
    unit: 'violations',
    source: 'LIVE:browser',
    passed: blocking.length === 0 && unreachable.length === 0,
    details: { blocking, all: violations.map((v) => `${v.id} (${v.impact})`), unreachable },
  });
}

export async function checkKeyboardOrder(world: UatWorld, expected: string[]): Promise<void> {
  // enough presses to pass every control once: the listed ones, one filter per served model, and a few more
  const stops = await page(world).tabStops(expected.length + modelNames(world.run.config.manifests).length + 8);
  let position = -1;
  const missing: string[] = [];
  for (const name of expected) {
    const at = stops.indexOf(name, position + 1);
    if (at === -1) missing.push(name);
    else position = at;
  }
  await world.check({
    id: 'dashboard-keyboard-order',
    statement: 'the keyboard reaches every main control of the dashboard, in reading order',
    threshold: '0 controls missed or out of order',
    measured: missing.length,
    unit: 'controls',
    source: 'LIVE:browser',
    passed: missing.length === 0,
    details: { tabStops: stops, missing },
  });
}

export async function checkKeyboardOpensView(world: UatWorld, link: string, view: string): Promise<void> {
  const dashboard = page(world);
  const reached = await dashboard.activateByKeyboard(link, 'Enter');
  const known = (DASHBOARD_VIEWS as readonly string[]).includes(view);
  const shown = reached && known && (await dashboard.viewShown(view as DashboardView));
  const hash = await dashboard.locationHash();
  await world.check({
    id: `dashboard-keyboard-opens-${view}`,
    statement: `Enter on "${link}" takes the keyboard user to that view, at its own address`,
    threshold: `#${view}, the view on screen`,
    measured: !reached ? `"${link}" not reachable by Tab` : `${hash || '(no change)'}, ${shown ? 'the view on screen' : 'the view not on screen'}`,
    unit: '',
    source: 'LIVE:browser',
    passed: reached && hash === `#${view}` && shown,
    details: known ? undefined : { problem: `the dashboard has no view ${view} (its views: ${DASHBOARD_VIEWS.join(', ')})` },
  });
}

export async function checkKeyboardTogglesModel(world: UatWorld, model: string): Promise<void> {
  const dashboard = page(world);
  const reached = await dashboard.activateByKeyboard(model, 'Space');
  // the page marks the selection its figures were read for; a page that ignores Space never drops it
  if (reached) await dashboard.waitForModelDropped(model).catch(() => undefined);
  // every model shown has a bar in the accuracy chart
  const accuracy = await dashboard.chart('accuracy');
  const removed = reached && !(accuracy.categories ?? []).includes(model);
  await world.check({
    id: 'dashboard-keyboard-toggles-model',
    statement: `Space on the "${model}" filter removes it from the charts`,
    threshold: `${model} not charted`,
    measured: !reached ? `"${model}" not reachable by Tab` : removed ? 'not charted' : `still charted: ${JSON.stringify(accuracy.categories)}`,
    unit: '',
    source: 'LIVE:browser',
    passed: removed,
  });
}

/**
 * What the security view must show for each security criterion, worked out here from the ledger's
 * record (not by the view's code): the figure's id and its value (null: no value to show).
 */
const SECURITY_FIGURES: { criterion: string; figure: string; value: (c: Criterion) => number }[] = [
  { criterion: 'access-matrix-as-declared', figure: 'security-access-matrix', value: (c) => Number(detail(c, 'lines')) - Number(c.measured) },
  { criterion: 'identity-tokens-refused-where-denied', figure: 'security-tokens-refused', value: (c) => Number(detail(c, 'deniedAnswered403') ?? NaN) },
  { criterion: 'manifests-follow-security-policy', figure: 'security-policy-violations', value: (c) => Number(c.measured) },
  {
    criterion: 'database-authenticates-with-scram',
    figure: 'security-database-authentication',
    // each method asked for other than SCRAM-SHA-256 (or none: trust), and password_encryption other than scram-sha-256
    value: (c) => {
      const asked = detail(c, 'asked');
      const encryption = detail(c, 'passwordEncryption');
      if (!Array.isArray(asked) || typeof encryption !== 'string') return NaN;
      return (asked.length === 0 ? 1 : asked.filter((a) => !/^SASL .*\bSCRAM-SHA-256\b/.test(String(a))).length) + (encryption === 'scram-sha-256' ? 0 : 1);
    },
  },
  { criterion: 'no-credential-in-run-output', figure: 'security-credential-hits', value: (c) => Number(c.measured) },
  { criterion: 'no-credential-in-run-output-at-end', figure: 'security-credential-hits-at-end', value: (c) => Number(c.measured) },
  { criterion: 'dashboard-recovers-after-kill', figure: 'security-dashboard-recovery', value: (c) => Number(detail(c, 'recoveredAfterS') ?? NaN) },
  { criterion: 'mlflow-recovers-after-kill', figure: 'security-mlflow-recovery', value: (c) => Number(detail(c, 'storeRecoveredAfterS') ?? NaN) },
];

const detail = (c: Criterion, key: string): unknown => (c.details ?? {})[key];

/** The latest record of each criterion id in the ledger now, and its lines that are not criteria. */
function latestCriteria(file: string): { latest: Map<string, Criterion>; skipped: number } {
  const latest = new Map<string, Criterion>();
  let skipped = 0;
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    let c: Criterion;
    try {
      c = JSON.parse(line) as Criterion;
    } catch {
      skipped++;
      continue;
    }
    if (typeof c?.id !== 'string' || typeof c.recordedAt !== 'string') {
      skipped++;
      continue;
    }
    const seen = latest.get(c.id);
    if (!seen || Date.parse(c.recordedAt) >= Date.parse(seen.recordedAt)) latest.set(c.id, c);
  }
  return { latest, skipped };
}

/** What a security figure card shows besides its value and badge: the check's verdict and when it was recorded. */
interface SecurityCard {
  id: string;
  status: string | null;
  observedAt: string | null;
}

/**
 * The security view, opened by its tab and read until it agrees with the run's evidence ledger read
 * at the same moment (bounded): one figure per security criterion; for a criterion the ledger holds,
 * the value worked out from its latest record, labelled with the criterion's own source, observed
 * when it was recorded, with its verdict (passed or failed); for one the run has not recorded yet,
 * no value, UNAVAILABLE, "not checked yet in this run" and no verdict. In a run whose security
 * scenarios have not run (or not yet), that is what every figure must say.
 */
export async function checkDashboardSecurity(world: UatWorld, seconds: number): Promise<void> {
  const ledger = evidenceFile(world.run.config.reportsDir);
  let cards: SecurityCard[] = [];
  let held = { latest: new Map<string, Criterion>(), skipped: 0 };
  let summary = '';
  // the seconds count from the page being open (a browser's start on a loaded machine is not the view's delay)
  await openOrReuse(world);
  const { after, last } = await untilViewAgrees(world, 'security', "the dashboard's security view to show the evidence ledger's security results", Date.now(), seconds, 'dashboard-security.png', async (dashboard) => {
    const figures = await dashboard.figures();
    [cards, summary] = await Promise.all([
      dashboard.page.$$eval('#security [data-figure]', (nodes) =>
        nodes.map((n) => ({ id: n.getAttribute('data-figure') ?? '', status: n.querySelector('.check-status')?.getAttribute('data-status') ?? null, observedAt: n.getAttribute('data-observed-at') })),
      ),
      dashboard.page.locator('#security-summary').innerText(),
    ]);
    held = latestCriteria(ledger);
    const problems: string[] = [];
    if (summary.trim() === '') problems.push('no summary sentence');
    const expectedIds = SECURITY_FIGURES.map((e) => e.figure);
    const extra = figures.filter((f) => !expectedIds.includes(f.id)).map((f) => f.id);
    if (extra.length > 0) problems.push(`figures of no security criterion: ${extra.join(', ')}`);
    for (const e of SECURITY_FIGURES) {
      const f = figures.find((g) => g.id === e.figure);
      const card = cards.find((k) => k.id === e.figure);
      if (!f || !card) {
        problems.push(`${e.figure} not shown`);
        continue;
      }
      const c = held.latest.get(e.criterion);
      if (!c) {
        if (f.value !== null || f.source !== 'UNAVAILABLE' || f.note !== 'not checked yet in this run' || card.status !== 'not checked') {
          problems.push(`${e.figure} shows ${f.value} ${f.source} "${f.note ?? ''}" ${card.status ?? 'no verdict'}, the ledger holds no ${e.criterion}: UNAVAILABLE "not checked yet in this run", not checked`);
        }
        continue;
      }
      const computed = e.value(c);
      const want = Number.isFinite(computed) ? computed : null;
      const wantSource = want === null ? 'UNAVAILABLE' : c.source;
      const wantStatus = c.passed ? 'passed' : 'failed';
      const near = f.value === want || (f.value !== null && want !== null && Math.abs(f.value - want) <= 1e-9 * Math.max(1, Math.abs(want)));
      if (!near) problems.push(`${e.figure} shows ${f.value}, the ledger's ${e.criterion} gives ${want}`);
      if (f.source !== wantSource) problems.push(`${e.figure} labelled ${f.source}, the ledger's ${e.criterion} was measured from ${c.source}`);
      if (card.status !== wantStatus) problems.push(`${e.figure} shown as ${card.status ?? 'no verdict'}, the ledger's ${e.criterion} ${wantStatus}`);
      if (card.observedAt !== new Date(c.recordedAt).toISOString()) problems.push(`${e.figure} observed at ${card.observedAt}, the ledger's ${e.criterion} recorded at ${c.recordedAt}`);
    }
    return { figures, problems };
  });
  logShown(world, last.figures);
  const checked = SECURITY_FIGURES.filter((e) => held.latest.has(e.criterion)).map((e) => e.criterion);
  await world.check({
    id: 'dashboard-shows-security',
    statement: "the dashboard's security view shows one figure per security check, each as the latest record of the run's evidence ledger gives it (value, the criterion's own source, when it was recorded, passed or failed), or UNAVAILABLE \"not checked yet in this run\" when the run has not recorded it",
    threshold: `0 of ${SECURITY_FIGURES.length} figures differing from the ledger, within ${seconds} s`,
    measured: last.problems.length,
    unit: `figures differing (${checked.length} of ${SECURITY_FIGURES.length} checks recorded in this run)`,
    source: 'LIVE:browser',
    test: 'the security view read in Chromium against the evidence ledger read at the same moment',
    passed: after !== null && last.problems.length === 0,
    details: {
      ledger,
      recorded: checked,
      notChecked: SECURITY_FIGURES.filter((e) => !held.latest.has(e.criterion)).map((e) => e.criterion),
      ledgerLinesSkipped: held.skipped,
      summary,
      problems: last.problems,
      figures: last.figures.map((f) => ({ id: f.id, value: f.value, source: f.source, note: f.note, status: cards.find((k) => k.id === f.id)?.status })),
    },
  });
}
