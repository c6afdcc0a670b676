/**
 * Deliberate defects of the dashboard, for the harness's meta tests only (never set in normal
 * runs): each breaks one thing a usability criterion guards, so the meta test can show that the
 * criterion turns red.
 */
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
] as const;
export type DashboardFault = (typeof DASHBOARD_FAULTS)[number];

export const SLOW_PAGE_MS = 5500;

/** The data with the faults applied. */
export function withFaults(data: DashboardData, faults: ReadonlySet<DashboardFault>): DashboardData {
  if (!faults.has('dashboard-swap-accuracy') && !faults.has('dashboard-simulated') && !faults.has('dashboard-no-source')) return data;
  const [a, b] = data.experiment.candidates.map((c) => `accuracy:${c.name}`);
  const value = (id: string) => data.ab.figures.find((f) => f.id === id)?.value ?? null;
  const figures = data.ab.figures.map((f) => {
    if (faults.has('dashboard-swap-accuracy') && f.id === a) return { ...f, value: value(b) };
    if (faults.has('dashboard-swap-accuracy') && f.id === b) return { ...f, value: value(a) };
    if (faults.has('dashboard-simulated') && /^(requests|share|rate):/.test(f.id)) return { ...f, source: 'SIMULATED' as const };
    if (faults.has('dashboard-no-source') && /^(requests|share|rate):/.test(f.id)) return { ...f, source: undefined as never };
    return f;
  });
  return { ...data, ab: { ...data.ab, figures } };
}

/** The page's HTML with the faults that change it applied. */
export function pageWithFaults(html: Buffer, faults: ReadonlySet<DashboardFault>): Buffer {
  const extra = [
    faults.has('dashboard-wide-page') ? '<div style="width:3000px;height:4px;background:#ccc"></div>' : '',
    faults.has('dashboard-unlabelled-control') ? '<input type="text">' : '',
  ].join('');
  return extra ? Buffer.from(html.toString('utf8').replace(/(<body[^>]*>)/, `$1${extra}`)) : html;
}
