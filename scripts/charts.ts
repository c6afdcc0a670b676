/**
 * `npm run charts`: the A/B and business-impact views as publication charts (SVG and PNG) in
 * reports/charts/, from live data.
 *
 * With PROMETHEUS_URL and MLFLOW_DB_URL set, it reads those (a cluster's Prometheus and MLflow
 * store) as they are. Otherwise it starts the embedded default (PostgreSQL, training, stack,
 * Prometheus), sends a bounded seeded load through the A/B experiment so there is traffic to
 * chart, and reads that.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../support/config.ts';
import { MlflowStore } from '../support/clients/mlflow-store.ts';
import { featuresRequest } from '../support/clients/oip-client.ts';
import { renderCharts } from '../support/charts/render-charts.ts';
import { appendShownFigures } from '../support/evidence/ledger.ts';
import { runBuiltinLoad } from '../support/load/builtin-engine.ts';
import { loadProfile, withOverrides } from '../support/load/profile.ts';
import { startConfiguredTarget, type RunningTarget } from '../support/targets/target.ts';
import { marketSnapshots } from '../support/tasks/traffic.ts';
import { dashboardData, targetViewSources, viewSources, WINDOWS, type ViewSources } from '../support/views/dashboard-views.ts';
import { reportHarnessInputErrors } from '../support/harness-input.ts';

// bad input (the environment, a profile, a manifest) is named without a stack trace
reportHarnessInputErrors('charts');

const EXPERIMENT = 'financial-ab-test';
const { values } = parseArgs({
  options: {
    window: { type: 'string', default: '1m' },
    requests: { type: 'string', default: '800' },
    out: { type: 'string' },
  },
});
if (!WINDOWS.includes(values.window)) {
  console.error(`--window must be one of ${WINDOWS.join(', ')}, got '${values.window}'`);
  process.exit(2);
}
const requests = Number(values.requests);
if (!Number.isInteger(requests) || requests < 1 || requests > 20_000) {
  console.error(`--requests must be an integer from 1 to 20000, got '${values.requests}'`);
  process.exit(2);
}

const config = loadConfig();
const outDir = path.resolve(values.out ?? path.join(config.reportsDir, 'charts'));
let target: RunningTarget | undefined;
let sources: ViewSources;
let runId: string;
let external: MlflowStore | undefined;
try {
  if (config.prometheusUrl && config.mlflowDbUrl) {
    external = MlflowStore.connect(config.mlflowDbUrl);
    sources = viewSources({
      prometheusUrl: config.prometheusUrl,
      namespace: config.namespace,
      store: external,
      manifests: config.manifests,
      experiment: EXPERIMENT,
      mlflowExperiment: config.mlflowExperiment,
      seed: config.seed,
    });
    runId = `charts-${new Date().toISOString()}`;
    console.log(`reading PROMETHEUS_URL ${config.prometheusUrl} and the MLflow store at MLFLOW_DB_URL`);
  } else {
    target = await startConfiguredTarget(config, (line) => console.log(line));
    runId = target.uatRunId;
    const load = await runBuiltinLoad(withOverrides(loadProfile('burst-experiment'), { vus: 4, iterations: requests }), {
      url: `${target.inferenceUrl}/v2/models/${EXPERIMENT}/infer`,
      headers: { 'content-type': 'application/json', 'seldon-model': `${EXPERIMENT}.experiment` },
      bodies: [JSON.stringify(featuresRequest([marketSnapshots(config.seed)[0]]))],
    });
    console.log(`sent ${load.metrics.http_reqs.values.count} requests through ${EXPERIMENT} (built-in engine, 4 VUs)`);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // two scrapes at the 1 s interval
    sources = targetViewSources(target, config, EXPERIMENT);
  }
  const data = await dashboardData(sources, values.window);
  const charts = renderCharts(data, outDir);
  appendShownFigures(
    config.reportsDir,
    [...data.ab.figures, ...data.business.figures].map((f) => ({ runId, shownIn: 'npm run charts', id: f.id, label: f.label, value: f.value, unit: f.unit, source: f.source, observedAt: f.observedAt, note: f.note })),
  );
  for (const c of charts) console.log(`${c.title}\n  ${c.caption}\n  ${c.svg}\n  ${c.png}`);
  console.log(`figures by source: ${Object.entries(data.sources).map(([s, n]) => `${n} ${s}`).join(', ')}`);
  if (data.sources.SIMULATED) console.log('WARNING: some figures are SIMULATED because a live source was unreachable (see the notes in charts.json)');
} catch (error) {
  console.error(`charts failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await external?.close();
  await target?.stop();
}
