/**
 * `npm run demo:explain -- [--method shap|counterfactual] [--days 10] [--seed 42]`: explanations live
 * on the embedded default. It starts the target and takes `--days` held-out days.
 *
 * - `shap`: each day is explained by enhanced-explainer through the explanation gateway (so each
 *   explanation is on the audit trail), one request at a time; a table of the days (the probability
 *   the predictor serves, expected value + sum of SHAP values, the three leading features, the time
 *   the explanation took) is redrawn as they come in. At the end the mean |SHAP| per feature over
 *   the days is charted in reports/charts/explanation-shap.svg and .png, and the audit rows counted.
 * - `counterfactual`: the days are sent to enhanced-counterfactual; a table of each day's call, the
 *   smallest change that flips it and the probability after it; the changed features are charted in
 *   reports/charts/explanation-counterfactual.svg and .png.
 *
 * Every figure is measured in the run (LIVE:oip, LIVE:audit-postgres).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../support/config.ts';
import type { RunningTarget } from '../support/targets/target.ts';

const EXPLAINER = 'enhanced-explainer';
const COUNTERFACTUAL = 'enhanced-counterfactual';
const MODEL = 'enhanced-predictor';
const MAX_DAYS = 100;

function usage(message: string): never {
  console.error(`demo:explain: ${message}\nusage: npm run demo:explain -- [--method shap|counterfactual] [--days 1..${MAX_DAYS}] [--seed N]`);
  process.exit(2);
}

const { values } = parseArgs({ options: { method: { type: 'string', default: 'shap' }, days: { type: 'string', default: '10' }, seed: { type: 'string' } } });
const method = values.method!;
if (method !== 'shap' && method !== 'counterfactual') usage(`--method must be shap or counterfactual, got '${method}'`);
const days = Number(values.days);
if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) usage(`--days must be a whole number from 1 to ${MAX_DAYS}, got '${values.days}'`);
let config;
try {
  config = loadConfig(values.seed === undefined ? process.env : { ...process.env, UAT_SEED: values.seed });
} catch (error) {
  usage(error instanceof ConfigError ? error.message : String(error));
}

// the rest is loaded once the arguments are known good: a refusal answers at once
const [{ default: Table }, { writeChart }, { OipClient, featuresRequest }, { startConfiguredTarget }, { explainRow }, { servedProbabilities }, { DEFAULT_TRAINING, marketDataFor }, { FEATURE_NAMES }] = await Promise.all([
  import('cli-table3'), import('../support/charts/render-charts.ts'), import('../support/clients/oip-client.ts'), import('../support/targets/target.ts'),
  import('../support/tasks/explain.ts'), import('../support/clients/served-predictions.ts'), import('../fixtures/train-predictors.ts'), import('../fixtures/market-data.ts'),
]);

const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
let drawn = 0;
const redraw = (text: string): void => {
  if (process.stdout.isTTY && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
  process.stdout.write(text);
  drawn = process.stdout.isTTY ? text.split('\n').length - 1 : 0;
};
const barChart = (title: string, subtext: string, axis: string, entries: [string, number][]) => ({
  title: { text: title, subtext, left: 'center' },
  grid: { left: 160, right: 40, top: 90, bottom: 60 },
  xAxis: { type: 'value', name: axis, nameLocation: 'middle', nameGap: 32 },
  yAxis: { type: 'category', data: entries.map(([k]) => k).reverse() },
  series: [{ type: 'bar', label: { show: true, position: 'right' }, data: entries.map(([, v]) => v).reverse() }],
});

let target: RunningTarget | undefined;
let exitCode = 0;
try {
  const rows = marketDataFor({ seed: config.seed, ...DEFAULT_TRAINING }).heldOut.slice(0, days).map((d) => d.features);
  target = await startConfiguredTarget(config, (line) => console.log(line));
  const oip = new OipClient(target.inferenceUrl);
  if (method === 'shap') {
    if (!('audit' in target.explanations)) throw new Error(`the explanation gateway is not running: ${target.explanations.problem}`);
    const gateway = new OipClient(target.explanations.url);
    const before = await target.explanations.audit.count();
    const served = await servedProbabilities(oip, MODEL, rows);
    console.log(`\n${EXPLAINER} (KernelSHAP of ${MODEL}'s P(up)): ${days} held-out days (seed ${config.seed}), one request each through the explanation gateway\n`);
    const table = new Table({ head: ['day', `P(up) served`, 'expected + sum(SHAP)', 'leading features (SHAP)', 'ms'], ...style });
    const sums = new Map<string, number>();
    for (const [day, row] of rows.entries()) {
      const { explanation, latencyMs } = await explainRow(gateway, EXPLAINER, row, 'npm run demo:explain');
      const shap = explanation.data.shap_values[1][0];
      const total = explanation.data.expected_value[1] + shap.reduce((a, b) => a + b, 0);
      shap.forEach((v, j) => sums.set(FEATURE_NAMES[j], (sums.get(FEATURE_NAMES[j]) ?? 0) + Math.abs(v)));
      const leading = shap.map((v, j) => [FEATURE_NAMES[j], v] as const).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 3);
      table.push([day, served[day].toFixed(4), total.toFixed(4), leading.map(([f, v]) => `${f} ${v >= 0 ? '+' : ''}${v.toFixed(4)}`).join(', '), latencyMs.toFixed(0)]);
      redraw(`${table.toString()}\n${day + 1} of ${days} days explained; sources LIVE:oip\n`);
    }
    const audited = (await target.explanations.audit.count()) - before;
    console.log(`audit trail: ${audited} rows written for these ${days} explanations (LIVE:audit-postgres)`);
    const mean = [...sums.entries()].map(([f, s]) => [f, +(s / days).toPrecision(4)] as [string, number]).sort((a, b) => b[1] - a[1]).slice(0, 10);
    const chart = writeChart(barChart(`Leading features of ${days} explanations`, `source: LIVE:oip (${EXPLAINER}), run ${target.uatRunId}, seed ${config.seed}; mean |SHAP| for an up day`, 'mean |SHAP| (probability)', mean), path.join(config.reportsDir, 'charts'), 'explanation-shap');
    console.log(`\nchart: ${path.relative(process.cwd(), chart)} (and .png)`);
    if (audited !== days) exitCode = 1;
  } else {
    console.log(`\n${COUNTERFACTUAL}: the smallest change to at most 3 mutable features that flips ${MODEL}'s call, for ${days} held-out days (seed ${config.seed})\n`);
    const answer = await oip.infer(COUNTERFACTUAL, featuresRequest(rows));
    if (answer.status !== 200) throw new Error(`${COUNTERFACTUAL} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    const outputs = (answer.body as { outputs: { name: string; data: unknown[] }[] }).outputs;
    const output = (name: string): unknown[] => outputs.find((o) => o.name === name)?.data ?? [];
    const [found, original, after, changed] = [output('found') as boolean[], output('original_probability') as number[], output('counterfactual_probability') as number[], (output('changed_features') as string[]).map((c) => JSON.parse(c) as { feature: string; from: number; to: number }[])];
    const table = new Table({ head: ['day', 'P(up) before', 'change that flips the call', 'P(up) after'], ...style });
    const counts = new Map<string, number>();
    rows.forEach((_, day) => {
      for (const c of changed[day] ?? []) counts.set(c.feature, (counts.get(c.feature) ?? 0) + 1);
      table.push([day, Number(original[day]).toFixed(4), found[day] ? changed[day].map((c) => `${c.feature} ${c.from.toPrecision(4)} -> ${c.to.toPrecision(4)}`).join(', ') : 'none found', found[day] ? Number(after[day]).toFixed(6) : '-']);
    });
    redraw(`${table.toString()}\n${found.filter(Boolean).length} of ${days} days have a counterfactual; source LIVE:oip\n`);
    const chart = writeChart(barChart(`Features changed by ${days} counterfactuals`, `source: LIVE:oip (${COUNTERFACTUAL}), run ${target.uatRunId}, seed ${config.seed}`, 'counterfactuals changing the feature', [...counts.entries()].sort((a, b) => b[1] - a[1])), path.join(config.reportsDir, 'charts'), 'explanation-counterfactual');
    console.log(`\nchart: ${path.relative(process.cwd(), chart)} (and .png)`);
  }
} catch (error) {
  console.error(`demo:explain: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await target?.stop();
}
process.exit(exitCode);
