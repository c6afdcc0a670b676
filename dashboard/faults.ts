/**
 * Deliberate defects of the dashboard, for the harness's meta tests only (never set in normal
 * runs): each breaks one thing a usability criterion guards, so the meta test can show that the
 * criterion turns red.
 */
import type { LiveMetrics } from '../support/metrics/live-metrics.ts';
import type { DashboardData } from '../support/views/dashboard-views.ts';

export const DASHBOARD_FAULTS = [
  'dashboard-slow-page', // the page is served 5.5 s late
  'dashboard-frozen-data', // the JSON API answers its first result forever (nothing refreshes)
  'dashboard-swap-accuracy', // the two candidates' accuracies are swapped
  'dashboard-simulated', // the serving figures claim the SIMULATED source
  'dashboard-no-source', // the serving figures come without their source
  'dashboard-ignore-filter', // the JSON API ignores the model filter
  'dashboard-wide-page', // the page carries a banner wider than any screen
  'dashboard-unlabelled-control', // the page carries a text field without a label (an axe-core violation)
  'dashboard-no-chart-library', // the chart library's asset answers 404, so no chart is drawn
  'dashboard-skip-tab', // the "Business impact" link is taken out of the tab order
  'dashboard-ignore-enter', // the "Business impact" link has no href: it follows clicks but ignores Enter
  'dashboard-ignore-space', // a page-wide key handler swallows Space on the model checkboxes
  'dashboard-figures-ignore-filter', // the charts follow the model filter, the figures show every model
  'dashboard-miscount', // every request count shown is one more than its source counted
  'dashboard-keeps-prometheus-label', // the fallback figures keep the LIVE:prometheus label and drop the cause
  'dashboard-dies-without-prometheus', // the process exits right after it served its first fallback figures
  'dashboard-sticky-fallback', // once fallen back, it never asks Prometheus again
  'dashboard-router-swaps-regimes', // the routing view shows the aggressive regime's count under conservative, and the reverse
  'dashboard-bandit-swaps-weights', // the bandit view shows the first predictor's weight under the second, and the reverse
  'dashboard-explanations-undercount', // the explanation view shows one explained instance fewer than the audit trail holds
  'dashboard-drift-undercount', // the drift view shows one drifting window fewer than the detector reported
  'dashboard-tabs-ignore-address', // the views do not follow the address: a tab's link changes the fragment, the view on screen stays
  'dashboard-caches-mlflow', // while the MLflow store is unreachable the accuracies it last read are shown, still labelled LIVE
  'dashboard-no-db-reconnect', // once the MLflow store was lost, never read again: the accuracies stay unavailable after it is back
  'dashboard-stale-lock', // a lock file taken at start and removed only on a clean stop: after a crash it does not start again
  'dashboard-logs-database-url', // the MLflow store's connection URL, password included, printed to its log at start
  'dashboard-security-unchecked-passed', // the security view shows a check the run has not recorded yet as passed, without saying it was not checked
] as const;
export type DashboardFault = (typeof DASHBOARD_FAULTS)[number];

export const SLOW_PAGE_MS = 5500;

const DATA_FAULTS: readonly DashboardFault[] = ['dashboard-caches-mlflow', 'dashboard-no-db-reconnect', 'dashboard-swap-accuracy', 'dashboard-simulated', 'dashboard-no-source', 'dashboard-miscount', 'dashboard-keeps-prometheus-label', 'dashboard-router-swaps-regimes', 'dashboard-bandit-swaps-weights', 'dashboard-explanations-undercount', 'dashboard-drift-undercount', 'dashboard-security-unchecked-passed'];

/** The routing view with the aggressive and conservative counts swapped. */
function swapRegimes(router: DashboardData['router']): DashboardData['router'] {
  if (!('figures' in router)) return router;
  const value = (id: string) => router.figures.find((f) => f.id === id)?.value ?? null;
  const swap: Record<string, string> = { 'router-requests-aggressive': 'router-requests-conservative', 'router-requests-conservative': 'router-requests-aggressive' };
  return { ...router, figures: router.figures.map((f) => (f.id in swap ? { ...f, value: value(swap[f.id]) } : f)) };
}

/** The bandit view with the first two predictors' weights swapped. */
function swapWeights(bandit: DashboardData['bandit']): DashboardData['bandit'] {
  if (!('figures' in bandit)) return bandit;
  const weights = bandit.figures.filter((f) => f.id.startsWith('bandit-weight-'));
  if (weights.length < 2) return bandit;
  const [a, b] = weights;
  return { ...bandit, figures: bandit.figures.map((f) => (f.id === a.id ? { ...f, value: b.value } : f.id === b.id ? { ...f, value: a.value } : f)) };
}

/** What the MLflow faults keep between reads (the dashboard is one process). */
const mlflowMemory: { last?: DashboardData['ab']['figures']; lost?: string } = {};

/** The accuracy figures as a dashboard that caches its last read, or that never reconnects, would show them. */
function mlflowFaults(figures: DashboardData['ab']['figures'], faults: ReadonlySet<DashboardFault>): DashboardData['ab']['figures'] {
  const accuracy = figures.filter((f) => f.id.startsWith('accuracy:'));
  const unreachable = accuracy.find((f) => f.source === 'UNAVAILABLE' && /unreachable/.test(f.note ?? ''));
  if (faults.has('dashboard-no-db-reconnect')) {
    mlflowMemory.lost ??= unreachable?.note;
    if (mlflowMemory.lost) return figures.map((f) => (f.id.startsWith('accuracy:') ? { ...f, value: null, source: 'UNAVAILABLE' as const, note: mlflowMemory.lost } : f));
  }
  if (faults.has('dashboard-caches-mlflow')) {
    if (!unreachable) mlflowMemory.last = accuracy.filter((f) => f.source === 'LIVE:mlflow-postgres');
    else if (unreachable && mlflowMemory.last) return figures.map((f) => mlflowMemory.last!.find((c) => c.id === f.id) ?? f);
  }
  return figures;
}

/** The data with the faults applied. */
export function withFaults(data: DashboardData, faults: ReadonlySet<DashboardFault>): DashboardData {
  if (!DATA_FAULTS.some((f) => faults.has(f))) return data;
  if (faults.has('dashboard-caches-mlflow') || faults.has('dashboard-no-db-reconnect')) data = { ...data, ab: { ...data.ab, figures: mlflowFaults(data.ab.figures, faults) } };
  if (faults.has('dashboard-router-swaps-regimes')) data = { ...data, router: swapRegimes(data.router) };
  if (faults.has('dashboard-bandit-swaps-weights')) data = { ...data, bandit: swapWeights(data.bandit) };
  if (faults.has('dashboard-drift-undercount') && 'figures' in data.drift) {
    data = { ...data, drift: { ...data.drift, figures: data.drift.figures.map((f) => (f.id.startsWith('drift-windows-drifting-') && f.value ? { ...f, value: f.value - 1 } : f)) } };
  }
  if (faults.has('dashboard-explanations-undercount') && 'figures' in data.explanations) {
    data = { ...data, explanations: { ...data.explanations, figures: data.explanations.figures.map((f) => (f.id === 'explanations-audited' && f.value !== null ? { ...f, value: f.value - 1 } : f)) } };
  }
  if (faults.has('dashboard-security-unchecked-passed') && 'figures' in data.security) {
    // the verdict read as `criterion?.passed !== false`: no record counts as a pass
    data = { ...data, security: { ...data.security, figures: data.security.figures.map((f) => (f.status === 'not checked' ? { ...f, status: 'passed' as const, note: undefined } : f)) } };
  }
  const [a, b] = data.experiment.candidates.map((c) => `accuracy:${c.name}`);
  const value = (id: string) => data.ab.figures.find((f) => f.id === id)?.value ?? null;
  const figures = data.ab.figures.map((original) => {
    let f = original;
    if (faults.has('dashboard-miscount') && f.id.startsWith('requests:') && f.value !== null) f = { ...f, value: f.value + 1 };
    if (faults.has('dashboard-keeps-prometheus-label') && f.source === 'LIVE:stack-metrics') f = { ...f, source: 'LIVE:prometheus', note: undefined };
    if (faults.has('dashboard-swap-accuracy') && f.id === a) return { ...f, value: value(b) };
    if (faults.has('dashboard-swap-accuracy') && f.id === b) return { ...f, value: value(a) };
    if (faults.has('dashboard-simulated') && /^(requests|share|rate):/.test(f.id)) return { ...f, source: 'SIMULATED' as const };
    if (faults.has('dashboard-no-source') && /^(requests|share|rate):/.test(f.id)) return { ...f, source: undefined as never };
    return f;
  });
  const servingNote = faults.has('dashboard-keeps-prometheus-label') ? undefined : data.ab.servingNote;
  return { ...data, ab: { ...data.ab, figures, servingNote } };
}

/** The figures of every model in place of the selected ones' (the charts keep the selection). */
export function figuresOfAll(selected: DashboardData, all: DashboardData): DashboardData {
  return { ...selected, ab: { ...selected.ab, figures: all.ab.figures } };
}

/** The live metrics with `dashboard-sticky-fallback`: after the first fallback view, Prometheus is never asked again. */
export function stickyFallback(live: LiveMetrics): Pick<LiveMetrics, 'view'> {
  let fellBackBecause: string | undefined;
  return {
    view: async (window, models) => {
      if (fellBackBecause !== undefined) return { ...(await live.view(window, models, { skipPrometheus: true })), note: fellBackBecause };
      const view = await live.view(window, models);
      if (view.source === 'LIVE:stack-metrics') fellBackBecause = view.note ?? '';
      return view;
    },
  };
}

/** With `dashboard-dies-without-prometheus`: whether this answer carried fallback figures, after which the process exits. */
export function diesAfter(data: DashboardData, faults: ReadonlySet<DashboardFault>): boolean {
  return faults.has('dashboard-dies-without-prometheus') && data.ab.figures.some((f) => f.source === 'LIVE:stack-metrics');
}

// stops the page's own fragment handler: the tabs change the address, the view on screen stays
const IGNORE_ADDRESS = `<script>window.addEventListener('hashchange', (e) => e.stopImmediatePropagation(), true);</script>`;

// swallows Space on the model checkboxes before the browser toggles them
const SWALLOW_SPACE = `<script>for (const type of ['keydown', 'keyup', 'keypress']) document.addEventListener(type, (e) => { if (e.key === ' ' && e.target.closest('#model-filter')) e.preventDefault(); }, true);</script>`;

/** The page's HTML with the faults that change it applied. */
export function pageWithFaults(html: Buffer, faults: ReadonlySet<DashboardFault>): Buffer {
  const extra = [
    faults.has('dashboard-wide-page') ? '<div style="width:3000px;height:4px;background:#ccc"></div>' : '',
    faults.has('dashboard-unlabelled-control') ? '<input type="text">' : '',
    faults.has('dashboard-ignore-space') ? SWALLOW_SPACE : '',
    faults.has('dashboard-tabs-ignore-address') ? IGNORE_ADDRESS : '',
  ].join('');
  let text = html.toString('utf8');
  const business = '<a href="#business" data-view="business">';
  if (faults.has('dashboard-skip-tab')) text = text.replace(business, '<a href="#business" data-view="business" tabindex="-1">');
  if (faults.has('dashboard-ignore-enter')) text = text.replace(business, `<a tabindex="0" data-view="business" onclick="location.hash = 'business'">`);
  if (faults.has('dashboard-no-chart-library')) text = text.replace('/assets/echarts.min.js', '/assets/echarts-missing.js');
  if (!extra && text === html.toString('utf8')) return html;
  return Buffer.from(extra ? text.replace(/(<body[^>]*>)/, `$1${extra}`) : text);
}
