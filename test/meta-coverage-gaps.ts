/**
 * Criterion ids whose meta test (a seeded platform defect that must turn exactly that criterion
 * red) does not exist yet. test/criterion-coverage.test.ts fails on any criterion id that is neither
 * proven by a meta test nor listed here, and on any entry here that is proven or gone, so this list
 * only shrinks. Each entry names the defect its meta test is to seed.
 */
export const UNPROVEN_CRITERIA: Record<string, string> = {
  'dashboard-charts-drawn': 'a dashboard whose charts fail to render',
  'dashboard-filter-changes-figures': 'a window filter the figures ignore',
  'dashboard-keyboard-order': 'a control out of the tab order',
  'dashboard-keyboard-toggles-model': 'a model checkbox that ignores Space',
  'dashboard-keyboard-opens-${...}': 'a view link that ignores Enter',
  'dashboard-matches-promql': 'a dashboard that shows other counts than PromQL returns',
  'dashboard-falls-back-when-prometheus-stops': 'a dashboard that keeps the Prometheus label when Prometheus is down',
  'fallback-matches-stack-counters': 'a fallback that miscounts the stack counters',
  'nothing-crashes-when-prometheus-stops': 'a dashboard that dies when Prometheus stops',
  'dashboard-returns-to-prometheus': 'a dashboard that stays on the fallback after Prometheus returns',
  'counted-models-have-mlflow-runs': 'a served model without a training run in the MLflow store',
  'doctor-names-unreachable-database': 'a doctor that reports an unreachable database as OK',
};
