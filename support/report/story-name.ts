const PROPER: Record<string, string> = { ab: 'A/B', mlflow: 'MLflow', roi: 'ROI', shap: 'SHAP', oip: 'OIP', seldon: 'Seldon', prometheus: 'Prometheus' };

/** A `@story:` tag as people read it in the Allure report: `mlflow-seldon-prometheus` becomes "MLflow Seldon Prometheus". */
export function storyName(slug: string): string {
  const words = slug.split('-').map((w) => PROPER[w] ?? w);
  return [words[0].charAt(0).toUpperCase() + words[0].slice(1), ...words.slice(1)].join(' ');
}
