/**
 * The A/B dashboard as a stakeholder sees it in Chromium.
 */
import { DashboardPage } from '../browser/dashboard-page.ts';
import { FIGURE_SOURCES } from '../evidence/figure.ts';
import type { UatWorld } from '../world.ts';

export async function openDashboard(world: UatWorld): Promise<void> {
  world.dashboard = await DashboardPage.open(await world.browser(), world.target.dashboardUrl);
  await world.attach(await world.dashboard.screenshot(), { mediaType: 'image/png', fileName: 'ab-dashboard.png' });
}

function page(world: UatWorld): DashboardPage {
  if (!world.dashboard) throw new Error('the dashboard was not opened in this scenario');
  return world.dashboard;
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
  const figures = await page(world).figures();
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
  const figures = await page(world).figures();
  const unlabelled = figures.filter((f) => !f.source || !FIGURE_SOURCES.includes(f.source));
  await world.check({
    id: 'dashboard-figures-name-source',
    statement: 'every figure on the dashboard names its data source',
    threshold: '0 figures without a source badge',
    measured: unlabelled.length,
    unit: 'figures',
    source: 'LIVE:browser',
    passed: figures.length > 0 && unlabelled.length === 0,
    details: { figures: figures.map((f) => ({ id: f.id, source: f.source })) },
  });
}
