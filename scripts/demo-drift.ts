/**
 * `npm run demo:drift -- [--continuous-monitoring] [--days 1400] [--shift 0.5] [--seed 42]`: drift
 * detection live on the embedded default. It starts the target and streams market days through the
 * Pipeline financial-drift-monitoring, one request each: reference-like days (training days the
 * detectors' reference did not take), then days with the volatility features shifted by `--shift`
 * standard deviations, then reference-like days again (2 : 3 : 2). Both detectors check each window
 * of 200 requests. A table of the windows (each detector's verdict and smallest p-value) and of the
 * drift monitor's episodes and the alerts it sent is redrawn as the verdicts come in; at the end the
 * p-values are charted in reports/charts/drift-p-values.svg and .png, and the retraining runs the
 * episodes started are listed. Without --continuous-monitoring it checks one reference-like and one
 * shifted window directly with each detector instead. Every figure is measured in the run.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../support/config.ts';
import type { RunningTarget } from '../support/targets/target.ts';

const PIPELINE = 'financial-drift-monitoring';
const DETECTORS = ['feature-drift-detector', 'volatility-mmd-detector'];
const WINDOW = 200;
const MAX_DAYS = 7000;

function usage(message: string): never {
  console.error(`demo:drift: ${message}\nusage: npm run demo:drift -- [--continuous-monitoring] [--days ${WINDOW * 2}..${MAX_DAYS}] [--shift 0..3] [--seed N]`);
  process.exit(2);
}

const { values } = parseArgs({ options: { 'continuous-monitoring': { type: 'boolean', default: false }, days: { type: 'string', default: '1400' }, shift: { type: 'string', default: '0.5' }, seed: { type: 'string' } } });
const days = Number(values.days);
if (!Number.isInteger(days) || days < WINDOW * 2 || days > MAX_DAYS) usage(`--days must be a whole number from ${WINDOW * 2} to ${MAX_DAYS}, got '${values.days}'`);
const shift = Number(values.shift);
if (!Number.isFinite(shift) || shift < 0 || shift > 3) usage(`--shift must be a number of standard deviations from 0 to 3, got '${values.shift}'`);
let config;
try {
  config = loadConfig(values.seed === undefined ? process.env : { ...process.env, UAT_SEED: values.seed });
} catch (error) {
  usage(error instanceof ConfigError ? error.message : String(error));
}

// the rest is loaded once the arguments are known good: a refusal answers at once
const [{ default: Table }, { writeChart }, { driftChart }, { OipClient, featuresRequest }, { startConfiguredTarget }, { driftStreamDays, parseDriftAnswer }, { FEATURE_NAMES }, { readMonitorState, smallestPValue }] = await Promise.all([
  import('cli-table3'), import('../support/charts/render-charts.ts'), import('../support/charts/chart-options.ts'), import('../support/clients/oip-client.ts'),
  import('../support/targets/target.ts'), import('../support/tasks/drift.ts'), import('../fixtures/market-data.ts'), import('../monitor/client.ts'),
]);

const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
const smallest = (p: Record<string, number>): string => {
  const [feature, value] = smallestPValue(p) ?? ['-', NaN];
  return `${value.toExponential(2)} (${feature})`;
};

let target: RunningTarget | undefined;
let exitCode = 0;
try {
  target = await startConfiguredTarget(config, (line) => console.log(line));
  const oip = new OipClient(target.inferenceUrl);
  if (!values['continuous-monitoring']) {
    // one window of each kind, asked of each detector directly
    const [plain, shifted] = [driftStreamDays(config.seed, [{ days: WINDOW, shiftSd: 0 }]), driftStreamDays(config.seed, [{ days: WINDOW, shiftSd: shift }])];
    const table = new Table({ head: ['window', 'detector', 'is_drift', 'smallest p-value', 'threshold'], ...style });
    for (const [label, rows] of [['reference-like', plain], [`volatility +${shift} sd`, shifted]] as const) {
      for (const detector of DETECTORS) {
        const answer = await oip.infer(detector, featuresRequest(rows.map((d) => d.row)));
        if (answer.status !== 200) throw new Error(`${detector} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
        const v = parseDriftAnswer(answer.body);
        const names = v.pValues.length === 1 ? ['all'] : [...FEATURE_NAMES];
        table.push([`${label} (${WINDOW} days)`, detector, v.isDrift ? 'drift' : 'no drift', smallest(Object.fromEntries(v.pValues.map((p, j) => [names[j], p]))), v.threshold.length === 1 ? v.threshold[0].toExponential(2) : `${v.threshold.length} thresholds`]);
      }
    }
    console.log(`\n${table.toString()}\nsource LIVE:oip; run with --continuous-monitoring to stream days through ${PIPELINE}`);
  } else {
    if (!('url' in target.driftMonitor)) throw new Error(`the drift monitor is not running: ${target.driftMonitor.problem}`);
    const monitor = target.driftMonitor;
    const before = Math.round((days * 2) / 7);
    const after = Math.round((days * 2) / 7);
    const stream = driftStreamDays(config.seed, [{ days: before, shiftSd: 0 }, { days: days - before - after, shiftSd: shift }, { days: after, shiftSd: 0 }]);
    console.log(`\n${PIPELINE}: ${before} reference-like days, ${days - before - after} with the volatility features +${shift} sd, ${after} reference-like (seed ${config.seed}); a window is ${WINDOW} requests\n`);
    let drawn = 0;
    const read = () => readMonitorState(monitor.url);
    const draw = async (sent: number): Promise<void> => {
      const { windows, episodes } = await read();
      const table = new Table({ head: ['window', 'days', ...DETECTORS.map((d) => `${d}: verdict, smallest p`)], ...style });
      const count = Math.max(...DETECTORS.map((d) => windows[d]?.length ?? 0));
      for (let i = 0; i < count; i++) {
        const shiftOf = stream[Math.min(stream.length - 1, (i + 1) * WINDOW - 1)].shiftSd;
        table.push([i + 1, shiftOf > 0 ? `volatility +${shiftOf} sd` : 'reference-like', ...DETECTORS.map((d) => { const v = windows[d]?.[i]; return v ? `${v.drift ? 'DRIFT' : 'ok'}, ${smallest(v.pValues)}` : '…'; })]);
      }
      const alerts = monitor.alerts().map((a) => `${a.body.status} at ${a.receivedAt}: ${a.body.alerts?.[0]?.annotations?.summary ?? ''}`);
      const lines = [table.toString(), `${sent} of ${stream.length} days sent; episodes opened: ${episodes.length}${episodes.map((e) => ` [${e.id}: ${e.closedAt ? 'closed' : 'open'}, retraining ${e.retraining?.status ?? 'none'}]`).join('')}`, ...alerts.map((a) => `alert ${a}`), 'sources: LIVE:oip (requests), LIVE:drift-monitor (verdicts, episodes), LIVE:webhook (alerts)', ''];
      const text = lines.join('\n');
      if (process.stdout.isTTY && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
      process.stdout.write(text);
      drawn = process.stdout.isTTY ? text.split('\n').length - 1 : 0;
    };
    for (const [i, { row }] of stream.entries()) {
      const answer = await oip.infer(`${PIPELINE}.pipeline`, featuresRequest([row], `demo-${i}`));
      if (answer.status !== 200) throw new Error(`${PIPELINE} answered ${answer.status} for day ${i}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      if ((i + 1) % WINDOW === 0) await draw(i + 1);
    }
    // the last window's verdicts and the monitor's reading of them take a moment; the retraining a few seconds
    const deadline = Date.now() + 30_000;
    const windowsExpected = Math.floor(stream.length / WINDOW);
    for (;;) {
      const { windows, episodes } = await read();
      const done = DETECTORS.every((d) => (windows[d]?.length ?? 0) >= windowsExpected) && episodes.every((e) => e.retraining?.status !== 'running');
      if (done || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await draw(stream.length);
    const { windows, episodes } = await read();
    const chart = writeChart(
      { ...driftChart(Object.values(windows).flat(), `run ${target.uatRunId}, seed ${config.seed}; per detector the five features with the smallest p-value in any window`), animation: false },
      path.join(config.reportsDir, 'charts'),
      'drift-p-values',
    );
    console.log(`\nchart: ${path.relative(process.cwd(), chart)} (and .png)`);
    if (target.store) {
      const runs = await target.store.runsTagged('uat.trigger', 'drift-episode');
      for (const r of runs) console.log(`retraining: MLflow run ${r.runUuid} (${r.name}), model version ${r.version ?? 'none'}, episode ${r.tags['drift.episode']}; source LIVE:mlflow-postgres`);
      if (runs.length === 0) console.log('retraining: no run logged');
    }
    if (episodes.length === 0 && shift > 0) console.log(`no drift episode opened: +${shift} sd was not detected in two windows in a row`);
  }
} catch (error) {
  console.error(`demo:drift: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await target?.stop();
}
process.exit(exitCode);
