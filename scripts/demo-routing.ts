/**
 * `npm run demo:routing -- [--market-conditions volatile|bull|bear|sideways|all] [--days 600] [--seed 42]`:
 * the contextual router live on the embedded default. It starts the target, takes `--days` market
 * days of the chosen regime(s) from an independent evaluation history of the seeded generator
 * (never trained on), sends each through the Pipeline contextual-financial-router with its market
 * context (20-day volatility and trend), and asks the baseline predictor alone for the same days.
 * A table of the days, the routed and the baseline accuracy per market regime, and the requests
 * and accuracy per answering predictor, is redrawn as the answers come in; at the end the routed
 * against the baseline accuracy per regime is charted in reports/charts/routing-accuracy.svg and
 * .png, with the ratio and its 95 % interval (paired delta method). Every figure is measured in
 * the run (LIVE:oip).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluationDays, REGIMES, type MarketRow, type Regime } from '../fixtures/market-data.ts';
import { ConfigError, loadConfig } from '../support/config.ts';
import type { RunningTarget } from '../support/targets/target.ts';

const PIPELINE = 'contextual-financial-router';
const BASELINE = 'baseline-predictor';
const MAX_DAYS = 6000;

function usage(message: string): never {
  console.error(`demo:routing: ${message}\nusage: npm run demo:routing -- [--market-conditions volatile|bull|bear|sideways|all] [--days 50..${MAX_DAYS}] [--seed N]`);
  process.exit(2);
}

const { values } = parseArgs({ options: { 'market-conditions': { type: 'string', default: 'all' }, days: { type: 'string', default: '600' }, seed: { type: 'string' } } });
const conditions = values['market-conditions']!;
if (conditions !== 'all' && !(REGIMES as readonly string[]).includes(conditions)) usage(`--market-conditions must be one of ${REGIMES.join(', ')} or all, got '${conditions}'`);
const days = Number(values.days);
if (!Number.isInteger(days) || days < 50 || days > MAX_DAYS) usage(`--days must be a whole number from 50 to ${MAX_DAYS}, got '${values.days}'`);
let config;
try {
  config = loadConfig(values.seed === undefined ? process.env : { ...process.env, UAT_SEED: values.seed });
} catch (error) {
  usage(error instanceof ConfigError ? error.message : String(error));
}

const pct = (x: number): string => (x * 100).toFixed(1);

// the rest is loaded once the arguments are known good: a refusal answers at once
const [{ default: Table }, { writeChart }, { OipClient }, { servedPredictions }, { pairedRatioBound }, { startConfiguredTarget }, { routeDays, answeredBy }] = await Promise.all([
  import('cli-table3'), import('../support/charts/render-charts.ts'), import('../support/clients/oip-client.ts'), import('../support/clients/served-predictions.ts'),
  import('../support/stats/ratio-bound.ts'), import('../support/targets/target.ts'), import('../support/tasks/router.ts'),
]);

let target: RunningTarget | undefined;
let exitCode = 0;
try {
  const chosen: MarketRow[] = evaluationDays(config.seed, days, conditions === 'all' ? undefined : (conditions as Regime));
  target = await startConfiguredTarget(config, (line) => console.log(line));
  const oip = new OipClient(target.inferenceUrl);
  console.log(`\n${PIPELINE}: ${days} ${conditions === 'all' ? '' : `${conditions} `}days of the evaluation history (seed ${config.seed}), each with its market context; ${BASELINE} asked alone for the same days\n`);
  const baseline = await servedPredictions(oip, BASELINE, chosen.map((r) => r.features));

  const routed: { regime: Regime; predictor: string; right: number; baselineRight: number }[] = [];
  let unanswered = 0;
  let drawn = 0;
  const draw = (): void => {
    const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
    const regimes = new Table({ head: ['market regime', 'days', 'routed accuracy %', `${BASELINE} alone %`], ...style });
    for (const regime of REGIMES) {
      const of = routed.filter((r) => r.regime === regime);
      if (of.length > 0) regimes.push([regime, of.length, pct(of.reduce((a, r) => a + r.right, 0) / of.length), pct(of.reduce((a, r) => a + r.baselineRight, 0) / of.length)]);
    }
    const predictors = new Table({ head: ['answered by', 'requests', 'accuracy %'], ...style });
    for (const name of [...new Set(routed.map((r) => r.predictor))].sort()) {
      const of = routed.filter((r) => r.predictor === name);
      predictors.push([name, of.length, pct(of.reduce((a, r) => a + r.right, 0) / of.length)]);
    }
    const text = `${regimes.toString()}\n${predictors.toString()}\n${routed.length} of ${days} days sent (${unanswered} unanswered); source LIVE:oip\n`;
    if (process.stdout.isTTY && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
    process.stdout.write(text);
    drawn = process.stdout.isTTY ? text.split('\n').length - 1 : 0;
  };
  await routeDays(oip, PIPELINE, chosen, (done, sofar) => {
    if (done % 100 !== 0 && done !== chosen.length) return;
    routed.length = 0;
    unanswered = 0;
    sofar.forEach((answer, i) => {
      if (answer === undefined) return;
      if (answer.status !== 200 || answer.prediction === null) unanswered += 1;
      else routed.push({ regime: chosen[i].regime, predictor: answeredBy(answer) ?? '?', right: answer.prediction === chosen[i].label ? 1 : 0, baselineRight: baseline[i] === chosen[i].label ? 1 : 0 });
    });
    draw();
  });

  const present = REGIMES.filter((regime) => routed.some((r) => r.regime === regime));
  const bounds = Object.fromEntries(
    present.map((regime) => {
      const of = routed.filter((r) => r.regime === regime);
      return [regime, of.length >= 30 ? pairedRatioBound(of.map((r) => r.right), of.map((r) => r.baselineRight), 0.05) : undefined];
    }),
  );
  for (const regime of present) {
    const b = bounds[regime];
    console.log(b ? `${regime}: routed / ${BASELINE} accuracy = ${b.ratio.toFixed(3)} (95 % interval ${b.interval[0].toFixed(3)} to ${b.interval[1].toFixed(3)}, paired delta method, ${b.n} days)` : `${regime}: fewer than 30 days, no interval`);
  }

  const accuracy = (regime: Regime, key: 'right' | 'baselineRight'): number => {
    const of = routed.filter((r) => r.regime === regime);
    return Number(pct(of.reduce((a, r) => a + r[key], 0) / of.length));
  };
  const option = {
    title: { text: `Routed against ${BASELINE} accuracy, ${routed.length} market days`, subtext: `source: LIVE:oip (${PIPELINE}), run ${target.uatRunId}, seed ${config.seed}, evaluation history never trained on`, left: 'center' },
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0, itemGap: 30 },
    grid: { top: 90, bottom: 60, left: 80, right: 30 },
    xAxis: { type: 'category', data: present.map((regime) => `${regime} (${routed.filter((r) => r.regime === regime).length} days)`) },
    yAxis: { type: 'value', name: 'accuracy %', nameLocation: 'middle', nameGap: 45, min: 0, max: 100 },
    series: [
      { name: 'routed (contextual-financial-router)', type: 'bar', label: { show: true, position: 'top' }, data: present.map((regime) => accuracy(regime, 'right')) },
      { name: `${BASELINE} alone`, type: 'bar', label: { show: true, position: 'top' }, data: present.map((regime) => accuracy(regime, 'baselineRight')) },
    ],
  };
  const chart = writeChart(option, path.join(config.reportsDir, 'charts'), 'routing-accuracy');
  console.log(`\nchart: ${path.relative(process.cwd(), chart)} (and .png)`);
  if (unanswered > 0) {
    console.error(`${unanswered} of ${days} days were not answered by the router`);
    exitCode = 1;
  }
} catch (error) {
  console.error(`demo:routing: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await target?.stop();
}
process.exit(exitCode);
