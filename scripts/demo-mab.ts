/**
 * `npm run demo:mab -- [--models 4] [--duration 2m] [--seed 42]`: the bandit learning live on the
 * embedded default. It starts the target (PostgreSQL, training, stack, Prometheus, bandit
 * controller, dashboard), keeps the first `--models` candidates of `financial-mab-experiment` at
 * their starting weights (renormalised), and replays held-out market days through the experiment
 * for `--duration` (at most 10m), feeding each answer's business value back to the bandit. A table
 * of the weights, P(best), rewards and mean reward per predictor is redrawn in the terminal as the
 * bandit updates; at the end the weights over time are charted in reports/charts/mab-weights.svg
 * and .png. Every figure is read from the controller (LIVE:bandit-controller).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../support/config.ts';
import { experimentCandidates } from '../support/k8s/manifest-reader.ts';
import type { BanditStateView } from '../bandit/client.ts';
import type { RunningTarget } from '../support/targets/target.ts';

const EXPERIMENT = 'financial-mab-experiment';
const COST_BP = 5;
const MAX_SECONDS = 600;

function usage(message: string): never {
  console.error(`demo:mab: ${message}\nusage: npm run demo:mab -- [--models 2..4] [--duration 5s..10m] [--seed N]`);
  process.exit(2);
}

const { values } = parseArgs({ options: { models: { type: 'string', default: '4' }, duration: { type: 'string', default: '2m' }, seed: { type: 'string' } } });
const duration = /^(\d+)(s|m)$/.exec(values.duration);
const seconds = duration ? Number(duration[1]) * (duration[2] === 'm' ? 60 : 1) : NaN;
if (!(seconds >= 5 && seconds <= MAX_SECONDS)) usage(`--duration must be 5s to 10m, like 90s or 2m, got '${values.duration}'`);
let config;
try {
  config = loadConfig(values.seed === undefined ? process.env : { ...process.env, UAT_SEED: values.seed });
} catch (error) {
  usage(error instanceof ConfigError ? error.message : String(error));
}
const candidates = experimentCandidates(config.manifests, EXPERIMENT);
const models = Number(values.models);
if (!Number.isInteger(models) || models < 2 || models > candidates.length) usage(`--models must be 2 to ${candidates.length} (the candidates of ${EXPERIMENT}), got '${values.models}'`);

// the rest is loaded once the arguments are known good: a refusal answers at once
const [{ default: Table }, { default: seedrandom }, { marketDataFor, DEFAULT_TRAINING }, { readBanditState }, { percentWeights }, { writeChart }, { OipClient }, { replayStep }, { startConfiguredTarget }] = await Promise.all([
  import('cli-table3'), import('seedrandom'), import('../fixtures/train-predictors.ts'), import('../bandit/client.ts'), import('../bandit/thompson-sampling.ts'),
  import('../support/charts/render-charts.ts'), import('../support/clients/oip-client.ts'), import('../support/load/market-replay.ts'), import('../support/targets/target.ts'),
]);

let target: RunningTarget | undefined;
let exitCode = 0;
try {
  target = await startConfiguredTarget(config, (line) => console.log(line));
  const bandit = target.bandit;
  if ('problem' in bandit) throw new Error(`no bandit controller: ${bandit.problem}`);
  // the first --models candidates, their starting weights renormalised to 100; the controller reads its arms at start
  const kept = candidates.slice(0, models);
  const weights = percentWeights(kept.map((c) => c.weight), 0);
  await target.patchExperiment(EXPERIMENT, kept.map((c, i) => ({ name: c.name, weight: weights[i] })));
  await bandit.restart({ fresh: true });
  console.log(`\n${EXPERIMENT}: ${kept.map((c, i) => `${c.name} ${weights[i]} %`).join(', ')}; replaying held-out days for ${values.duration} (seed ${config.seed}); dashboard ${target.dashboardUrl}#bandit\n`);

  const { heldOut } = marketDataFor({ seed: config.seed, ...DEFAULT_TRAINING });
  const random = seedrandom(`demo-mab-${config.seed}`);
  const oip = new OipClient(target.inferenceUrl);
  const arms = kept.map((c) => c.name);
  const state = (): Promise<BanditStateView> => readBanditState(bandit.url);
  const history: { seconds: number; weights: Record<string, number> }[] = [];
  const started = Date.now();
  let sent = 0;
  let unanswered = 0;
  let drawn = 0;
  let lastUpdates = -1;
  const draw = (s: BanditStateView): void => {
    const table = new Table({ head: ['predictor', 'weight %', 'P(best) %', 'rewards', 'mean reward (bp)'], ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }) });
    for (const a of s.arms) table.push([a.name, a.weight, a.probabilityBest === null ? '-' : (a.probabilityBest * 100).toFixed(1), a.rewards, a.meanReward === null ? '-' : a.meanReward.toFixed(1)]);
    const text = `${table.toString()}\n${s.strategy}, update ${s.updates}; ${sent} requests in ${((Date.now() - started) / 1000).toFixed(0)} s (${unanswered} unanswered); source LIVE:bandit-controller\n`;
    if (process.stdout.isTTY && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
    process.stdout.write(text);
    drawn = process.stdout.isTTY ? text.split('\n').length - 1 : 0;
  };
  while (Date.now() - started < seconds * 1000) {
    const step = await replayStep({ oip, experiment: EXPERIMENT, banditUrl: bandit.url, day: heldOut[Math.floor(random() * heldOut.length)], costBp: COST_BP, arms });
    sent += 1;
    if (!step) unanswered += 1;
    if (sent % 25 === 0) {
      const s = await state();
      if (s.updates !== lastUpdates) {
        lastUpdates = s.updates;
        history.push({ seconds: (Date.now() - started) / 1000, weights: Object.fromEntries(s.arms.map((a) => [a.name, a.weight])) });
        draw(s);
      }
    }
  }
  const final = await state();
  history.push({ seconds: (Date.now() - started) / 1000, weights: Object.fromEntries(final.arms.map((a) => [a.name, a.weight])) });
  if (!process.stdout.isTTY || lastUpdates !== final.updates) draw(final);

  const option = {
    title: { text: `Bandit weights over ${sent} replayed market days`, subtext: `source: LIVE:bandit-controller (${final.strategy}, ${final.updates} updates), run ${target.uatRunId}, seed ${config.seed}`, left: 'center' },
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0, itemGap: 30 },
    grid: { top: 70, bottom: 60, left: 60, right: 30 },
    xAxis: { type: 'value', name: 'seconds', nameLocation: 'middle', nameGap: 25 },
    yAxis: { type: 'value', name: 'weight %', min: 0, max: 100 },
    series: arms.map((arm) => ({ name: arm, type: 'line', step: 'end', showSymbol: false, data: history.map((h) => [Number(h.seconds.toFixed(1)), h.weights[arm]]) })),
  };
  const chart = writeChart(option, path.join(config.reportsDir, 'charts'), 'mab-weights');
  console.log(`\nchart: ${path.relative(process.cwd(), chart)} (and .png)`);
  if (unanswered > 0) {
    console.error(`${unanswered} of ${sent} requests were not answered by a candidate`);
    exitCode = 1;
  }
} catch (error) {
  console.error(`demo:mab: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await target?.stop();
}
process.exit(exitCode);
