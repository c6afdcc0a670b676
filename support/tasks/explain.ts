/**
 * The SHAP explainers (k8s/explainer): Models with `spec.explainer` (kernel_shap) whose answer is
 * one BYTES output `explanation` holding alibi's Explanation JSON, as MLServer's alibi-explain
 * runtime answers. The criteria check the explanations against the mathematics, not against the
 * explainer's own output: additivity against the probability the explained model serves, and
 * KernelSHAP against exact Shapley values enumerated from the served model's own answers.
 */
import { quantile } from 'simple-statistics';
import { DEFAULT_TRAINING, marketDataFor, PREDICTOR_SPECS } from '../../fixtures/train-predictors.ts';
import { buildExplainerArtifact, IMMUTABLE_FEATURES } from '../../fixtures/explainer-artifact.ts';
import { FEATURE_NAMES } from '../../fixtures/market-data.ts';
import { createHash, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { PROJECT_ROOT } from '../config.ts';
import { featuresRequest, OipClient } from '../clients/oip-client.ts';
import { parseExplanation, type Explanation } from '../clients/explanation.ts';
import { servedProbabilities } from '../clients/served-predictions.ts';
import { readManifests } from '../k8s/manifest-reader.ts';
import { coalitionRows, exactShapley } from '../stats/shapley.ts';
import type { UatWorld } from '../world.ts';
import { figureProblem, untilViewAgrees } from './live-metrics.ts';

const READY_DEADLINE_MS = 60_000;

export interface ExplainedDay {
  day: number;
  row: number[];
  explanation: Explanation;
  latencyMs: number;
  requestId: string;
}

export interface ExplainState {
  explainer?: string;
  explained?: ExplainedDay[];
  requester?: string;
  startedAt?: Date;
}

/** One explanation of one row, asked through the explanation gateway (which puts it on the audit trail), and how long it took. */
export async function explainRow(gateway: OipClient, explainer: string, row: number[], requester: string): Promise<{ explanation: Explanation; latencyMs: number; requestId: string }> {
  const requestId = randomUUID();
  const answer = await gateway.infer(explainer, featuresRequest([row], requestId), { headers: { 'x-requester': requester } });
  if (answer.status !== 200) throw new Error(`${explainer} answered ${answer.status} through the explanation gateway: ${JSON.stringify(answer.body).slice(0, 300)}`);
  return { explanation: parseExplanation(answer.body), latencyMs: answer.latencyMs, requestId };
}

function explainerModelRef(world: UatWorld, explainer: string): string {
  const manifest = readManifests(world.run.config.manifests).find((r) => r.kind === 'Model' && r.name === explainer);
  const ref = (manifest?.spec as { explainer?: { modelRef?: string } } | undefined)?.explainer?.modelRef;
  if (!ref) throw new Error(`no Model ${explainer} with spec.explainer.modelRef in the deployed manifests (${world.run.config.manifests.join(', ')})`);
  return ref;
}

/** The explainer and the model it explains are Ready; the manifest's modelRef names that model. */
export async function requireExplainer(world: UatWorld, explainer: string, model: string): Promise<void> {
  const ref = explainerModelRef(world, explainer);
  if (ref !== model) throw new Error(`${explainer} explains ${ref} (spec.explainer.modelRef), not ${model}`);
  await Promise.all([world.status.waitFor('Model', model, 'Ready', 'True', READY_DEADLINE_MS), world.status.waitFor('Model', explainer, 'Ready', 'True', READY_DEADLINE_MS)]);
  world.explain.explainer = explainer;
}

function heldOutRows(world: UatWorld, count: number): number[][] {
  const { heldOut } = marketDataFor({ seed: world.target.seed, ...DEFAULT_TRAINING });
  if (count > heldOut.length) throw new Error(`only ${heldOut.length} held-out days`);
  return heldOut.slice(0, count).map((d) => d.features);
}

/** Each of `count` held-out days explained `times` times, one request at a time. */
export async function explainDays(world: UatWorld, explainer: string, count: number, times = 1): Promise<void> {
  const rows = heldOutRows(world, count);
  const explained: ExplainedDay[] = [];
  const gateway = new OipClient(world.explanations.url);
  const requester = `financial-mlops-uat: ${world.scenario.name}`;
  world.explain.startedAt = new Date();
  for (const [day, row] of rows.entries()) {
    for (let t = 0; t < times; t++) explained.push({ day, row, ...(await explainRow(gateway, explainer, row, requester)) });
  }
  world.explain.explainer = explainer;
  world.explain.explained = explained;
  world.explain.requester = requester;
}

function explainedDays(world: UatWorld): ExplainedDay[] {
  const explained = world.explain.explained;
  if (!explained?.length) throw new Error('no day was explained in this scenario');
  return explained;
}

const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));

/** Additivity (local accuracy): expected value + sum of SHAP values = the served probability, for both classes. */
export async function checkAdditivity(world: UatWorld, model: string, tolerance: number): Promise<void> {
  const explained = explainedDays(world);
  const served = await servedProbabilities(world.oip, model, explained.map((e) => e.row));
  const errors = explained.map((e, i) => {
    const target = [1 - served[i], served[i]];
    return Math.max(...e.explanation.data.shap_values.map((perRow, k) => Math.abs(e.explanation.data.expected_value[k] + perRow[0].reduce((a, b) => a + b, 0) - target[k])));
  });
  const worst = Math.max(...errors);
  await world.check({
    id: 'explainer-additivity',
    statement: `for every explained day, the expected value plus the SHAP values of ${world.explain.explainer} is the probability ${model} serves`,
    threshold: `largest |expected_value + sum(shap_values) - predict_proba| <= ${tolerance}, both classes`,
    measured: round(worst, 3),
    unit: 'probability',
    source: 'LIVE:oip',
    passed: explained.every((e) => e.explanation.data.shap_values.length === 2) && worst <= tolerance,
    details: { days: explained.length, meanError: round(errors.reduce((a, b) => a + b, 0) / errors.length, 3), explainer: world.explain.explainer },
  });
}

/**
 * KernelSHAP against the exact interventional Shapley values: the explained model's served
 * probabilities for every coalition of the features it uses with every background row (the
 * explainer's background: the seeded sample of the training days), enumerated.
 */
export async function checkAgainstExact(world: UatWorld, model: string, tolerance: number): Promise<void> {
  const explained = explainedDays(world);
  const explainer = world.explain.explainer!;
  const spec = PREDICTOR_SPECS.find((p) => p.name === model);
  if (!spec) throw new Error(`${model} is not one of the trained predictors (${PREDICTOR_SPECS.map((p) => p.name).join(', ')})`);
  const players = spec.features.map((f) => FEATURE_NAMES.indexOf(f));
  const { train } = marketDataFor({ seed: world.target.seed, ...DEFAULT_TRAINING });
  const { background, backgroundWeights } = buildExplainerArtifact(explainer, train, world.target.seed);
  let worst = 0;
  let worstUnused = 0;
  let largestExact = 0;
  for (const e of explained) {
    const outputs = await servedProbabilities(world.oip, model, coalitionRows(e.row, background, players));
    const exact = exactShapley(outputs, background, backgroundWeights, players, FEATURE_NAMES.length);
    largestExact = Math.max(largestExact, ...exact.phi.map(Math.abs));
    e.explanation.data.shap_values[1][0].forEach((v, j) => {
      const error = Math.abs(v - exact.phi[j]);
      worst = Math.max(worst, error);
      if (!players.includes(j)) worstUnused = Math.max(worstUnused, Math.abs(v));
    });
  }
  await world.check({
    id: 'kernel-shap-matches-exact',
    statement: `the SHAP values of ${explainer} are the exact Shapley values of ${model}, within the sampling error`,
    threshold: `largest |KernelSHAP - exact Shapley value| <= ${tolerance}, every feature of every explained day`,
    measured: round(worst, 3),
    unit: 'probability',
    source: 'LIVE:oip',
    test: `exact interventional Shapley values enumerated over the ${players.length} features ${model} uses (2^${players.length} coalitions x ${background.length} background days, its served predict_proba); the other ${FEATURE_NAMES.length - players.length} features are null players (exactly 0)`,
    passed: worst <= tolerance,
    details: { days: explained.length, largestExactValue: round(largestExact, 3), largestValueOfAnUnusedFeature: round(worstUnused, 3), features: spec.features },
  });
}

/** The top features (by |SHAP| for an up day) of each day are the same in every explanation of it. */
export async function checkTopFeaturesStable(world: UatWorld, top: number): Promise<void> {
  const explained = explainedDays(world);
  const tops = new Map<number, string[][]>();
  for (const e of explained) {
    const values = e.explanation.data.shap_values[1][0];
    const order = values.map((_, j) => j).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]));
    const names = order.slice(0, top).map((j) => e.explanation.data.feature_names[j]).sort();
    tops.set(e.day, [...(tops.get(e.day) ?? []), names]);
  }
  const unstable = [...tops.entries()].filter(([, sets]) => sets.some((s) => s.join() !== sets[0].join())).map(([day, sets]) => ({ day, sets }));
  const repeats = Math.min(...[...tops.values()].map((s) => s.length));
  await world.check({
    id: 'explainer-top-features-stable',
    statement: `repeated explanations of a day by ${world.explain.explainer} name the same top ${top} features`,
    threshold: `days whose top ${top} features differ between explanations = 0`,
    measured: unstable.length,
    unit: 'days',
    source: 'LIVE:oip',
    passed: repeats >= 2 && unstable.length === 0,
    details: { days: tops.size, explanationsPerDay: repeats, unstable, topFeatures: Object.fromEntries([...tops.entries()].map(([d, s]) => [d, s[0]])) },
  });
}

/** The 95th percentile of the time one explanation took, as the client saw it. */
export async function checkExplanationLatency(world: UatWorld, thresholdMs: number): Promise<void> {
  const latencies = explainedDays(world).map((e) => e.latencyMs);
  const p95 = quantile(latencies, 0.95);
  await world.check({
    id: 'explainer-p95-latency',
    statement: `an explanation by ${world.explain.explainer} comes back within ${thresholdMs} ms at the 95th percentile`,
    threshold: `P95 of one explanation's time < ${thresholdMs} ms`,
    measured: round(p95, 4),
    unit: 'ms',
    source: 'LIVE:oip',
    passed: p95 < thresholdMs,
    details: { explanations: latencies.length, medianMs: round(quantile(latencies, 0.5), 4), maxMs: round(Math.max(...latencies), 4) },
  });
}

/** The top features of an explained day, by |SHAP| for an up day. */
function topFeatures(e: ExplainedDay, top: number): { feature: string; value: number; shap: number }[] {
  const shap = e.explanation.data.shap_values[1][0];
  return shap
    .map((_, j) => j)
    .sort((a, b) => Math.abs(shap[b]) - Math.abs(shap[a]))
    .slice(0, top)
    .map((j) => ({ feature: e.explanation.data.feature_names[j], value: e.row[j], shap: shap[j] }));
}

/**
 * Each explanation is on the audit trail (read from PostgreSQL, not from the gateway): exactly one
 * row for its request id, holding the SHA-256 of the day sent (of its JSON array of values), the
 * top features of the explanation that came back with their values, who asked, and the version of
 * the model the platform serves.
 */
export async function checkAuditRows(world: UatWorld, top: number): Promise<void> {
  const explained = explainedDays(world);
  const explainer = world.explain.explainer!;
  const model = explainerModelRef(world, explainer);
  const rows = await world.explanations.audit.ofRequests(explained.map((e) => e.requestId));
  const metadata = await world.oip.get(`/v2/models/${encodeURIComponent(model)}`);
  const version = (metadata.body as { versions?: string[] }).versions?.[0];
  const problems: string[] = [];
  for (const e of explained) {
    const mine = rows.filter((r) => r.requestId === e.requestId);
    if (mine.length !== 1) {
      problems.push(`${e.requestId} (day ${e.day}): ${mine.length} rows`);
      continue;
    }
    const [r] = mine;
    const expected = topFeatures(e, top);
    const wrong = [
      r.inputSha256 !== createHash('sha256').update(JSON.stringify(e.row)).digest('hex') && 'input hash',
      JSON.stringify(r.topFeatures.map((f) => [f.feature, f.value])) !== JSON.stringify(expected.map((f) => [f.feature, f.value])) && 'top features',
      r.requester !== world.explain.requester && 'requester',
      (r.model !== model || r.modelVersion !== version) && `model ${r.model} v${r.modelVersion} (served: ${model} v${version})`,
    ].filter(Boolean);
    if (wrong.length > 0) problems.push(`${e.requestId} (day ${e.day}): wrong ${wrong.join(', ')}`);
  }
  await world.check({
    id: 'explanation-audit-row-each',
    statement: `every explanation by ${explainer} has one audit row with its request id, the hash of the day sent, its top ${top} features and who asked`,
    threshold: 'explanations without exactly one correct audit row = 0',
    measured: problems.length,
    unit: 'explanations',
    source: 'LIVE:audit-postgres',
    passed: problems.length === 0,
    details: { explanations: explained.length, rows: rows.length, problems: problems.slice(0, 10), modelVersion: version },
  });
}

/** `npm run audit` for the scenario's period lists every explanation of the scenario, as Markdown and CSV. */
export async function checkAuditReport(world: UatWorld): Promise<void> {
  const explained = explainedDays(world);
  const { databaseUrl } = world.explanations;
  const out = path.join(world.run.config.reportsDir, 'audit');
  const from = world.explain.startedAt!.toISOString();
  const to = new Date(Date.now() + 1000).toISOString();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'audit.ts'), '--from', from, '--to', to, '--out', out], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, AUDIT_DB_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const csvFile = /Audit report \(CSV\): (.+)$/m.exec(output)?.[1];
  const markdownFile = /Audit report: (.+)$/m.exec(output)?.[1];
  const lines = csvFile && fs.existsSync(csvFile) ? (parseCsv(fs.readFileSync(csvFile, 'utf8'), { columns: true }) as { request_id: string }[]) : [];
  const ids = new Set(lines.map((l) => l.request_id));
  const listed = explained.filter((e) => ids.has(e.requestId)).length;
  if (markdownFile && fs.existsSync(markdownFile)) await world.attach(fs.readFileSync(markdownFile, 'utf8'), { mediaType: 'text/markdown', fileName: 'audit-report.md' });
  await world.check({
    id: 'explanation-audit-report',
    statement: 'the compliance report of the audit trail (npm run audit) for the period lists every explanation, in Markdown and CSV',
    threshold: `explanations of this scenario listed = ${explained.length}, both files written, exit code 0`,
    measured: `${listed} of ${explained.length}`,
    unit: 'explanations listed',
    source: 'LIVE:audit-postgres',
    passed: code === 0 && listed === explained.length && markdownFile !== undefined && csvFile !== undefined,
    details: { exitCode: code, from, to, csvLines: lines.length, markdownFile, csvFile, output: code === 0 ? undefined : output.slice(-500) },
  });
}

/**
 * The dashboard's explanation view, read in Chromium until it agrees (bounded): the explained
 * instances on the audit trail, and the mean |SHAP| of the features leading the latest 50 (0 where
 * a feature was not among an explanation's top 5), as the harness computes them from the rows it
 * reads in PostgreSQL at the same moment; every figure labelled LIVE:audit-postgres; the chart drawn.
 */
export async function checkDashboardExplanations(world: UatWorld, seconds: number): Promise<void> {
  const explained = explainedDays(world);
  const at = Date.now();
  const { audit } = world.explanations;
  const { after, last } = await untilViewAgrees(world, 'explanations', "the dashboard's explanation view to show the audit trail", at, seconds, 'dashboard-explanations.png', async (dashboard) => {
    const [figures, count, latest] = await Promise.all([dashboard.figures().then((all) => all.filter((f) => f.id.startsWith('explanation'))), audit.count(), audit.latest(50)]);
    const mean = new Map<string, number>();
    for (const row of latest) for (const f of row.topFeatures) mean.set(f.feature, (mean.get(f.feature) ?? 0) + Math.abs(f.shap) / latest.length);
    const leading = [...mean.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const problems = [['explanations-audited', count] as const, ...leading.map(([feature, value]) => [`explanation-mean-abs-shap-${feature}`, value] as const)].flatMap(([id, want]) => figureProblem(figures, id, want, 'LIVE:audit-postgres', 'the trail gives') ?? []);
    if (figures.length !== leading.length + 1) problems.push(`${figures.length} figures shown, ${leading.length + 1} expected`);
    if (!(await dashboard.drawnCharts()).includes('shap')) problems.push('the leading-features chart is not drawn');
    return { figures, problems };
  });
  await world.check({
    id: 'dashboard-shows-explanations',
    statement: "the dashboard's explanation view shows how many instances the audit trail holds and the features leading the latest explanations, as the trail holds them",
    threshold: `within ${seconds} s of the last of ${explained.length} explanations: the count and each leading feature's mean |SHAP| equal to the trail's, labelled LIVE:audit-postgres, the chart drawn`,
    measured: after ?? `> ${seconds}`,
    unit: 's',
    source: 'LIVE:browser',
    test: 'the figures read in Chromium against the rows read in PostgreSQL',
    passed: after !== null && after <= seconds,
    details: { problems: last.problems, figures: last.figures.map((f) => ({ id: f.id, value: f.value, source: f.source })) },
  });
}

interface CounterfactualAnswer {
  day: number;
  row: number[];
  found: boolean;
  counterfactual: number[];
  changed: { feature: string; from: number; to: number }[];
}

/**
 * Counterfactuals of `count` held-out days from `explainer` (a Model of the counterfactual
 * runtime), then checked against the model it explains (its parameters' model_ref), asked by the
 * harness: each flips the served call, changes at most `maxFeatures` mutable features within the
 * 1st-99th percentile of the training days, and is minimal along each changed feature (taking back
 * 2 % of the change keeps the call).
 */
export async function checkCounterfactuals(world: UatWorld, count: number, explainer: string, maxFeatures: number): Promise<void> {
  const manifest = readManifests(world.run.config.manifests).find((r) => r.kind === 'Model' && r.name === explainer);
  const model = ((manifest?.spec as { parameters?: { name: string; value: string }[] } | undefined)?.parameters ?? []).find((p) => p.name === 'model_ref')?.value;
  if (!model) throw new Error(`no Model ${explainer} with a model_ref parameter in the deployed manifests`);
  await Promise.all([world.status.waitFor('Model', explainer, 'Ready', 'True', READY_DEADLINE_MS), world.status.waitFor('Model', model, 'Ready', 'True', READY_DEADLINE_MS)]);
  const rows = heldOutRows(world, count);
  const answer = await world.oip.infer(explainer, featuresRequest(rows));
  if (answer.status !== 200) throw new Error(`${explainer} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  const outputs = (answer.body as { outputs: { name: string; data: unknown[] }[] }).outputs;
  const output = (name: string): unknown[] => {
    const o = outputs.find((t) => t.name === name);
    if (!o) throw new Error(`${explainer}'s answer has no output '${name}'`);
    return o.data;
  };
  const flat = output('counterfactual') as number[];
  const found = output('found') as boolean[];
  const changed = (output('changed_features') as string[]).map((c) => JSON.parse(c) as CounterfactualAnswer['changed']);
  const answers: CounterfactualAnswer[] = rows.map((row, day) => ({ day, row, found: found[day], counterfactual: flat.slice(day * row.length, (day + 1) * row.length), changed: changed[day] }));
  const { train } = marketDataFor({ seed: world.target.seed, ...DEFAULT_TRAINING });
  const ranges = FEATURE_NAMES.map((_, j) => {
    const column = train.map((d) => d.features[j]).sort((a, b) => a - b);
    return [quantile(column, 0.01), quantile(column, 0.99)];
  });
  const mutable = new Set(FEATURE_NAMES.filter((f) => !(IMMUTABLE_FEATURES as readonly string[]).includes(f)));
  // what the model serves: the days, the counterfactuals, and each counterfactual with 2 % of each change taken back
  const backs = answers.flatMap((a) => a.counterfactual.flatMap((v, j) => (v !== a.row[j] ? [{ day: a.day, row: a.counterfactual.map((w, k) => (k === j ? w - 0.02 * (w - a.row[j]) : w)) }] : [])));
  const served = await servedProbabilities(world.oip, model, [...rows, ...answers.map((a) => a.counterfactual), ...backs.map((b) => b.row)]);
  const up = (p: number): boolean => p > 0.5;
  const problems: string[] = [];
  const notMinimal: number[] = [];
  answers.forEach((a, i) => {
    const differs = a.counterfactual.flatMap((v, j) => (v !== a.row[j] ? [j] : []));
    const names = differs.map((j) => FEATURE_NAMES[j]);
    if (!a.found) problems.push(`day ${a.day}: no counterfactual found`);
    else if (up(served[rows.length + i]) === up(served[i])) problems.push(`day ${a.day}: the counterfactual does not flip the call (${served[i].toFixed(4)} -> ${served[rows.length + i].toFixed(4)})`);
    if (differs.length > maxFeatures) problems.push(`day ${a.day}: ${differs.length} features changed`);
    if (names.some((n) => !mutable.has(n))) problems.push(`day ${a.day}: changes ${names.filter((n) => !mutable.has(n)).join(', ')}, which may not change`);
    const outside = differs.filter((j) => a.counterfactual[j] < ranges[j][0] || a.counterfactual[j] > ranges[j][1]);
    if (outside.length > 0) problems.push(`day ${a.day}: ${outside.map((j) => FEATURE_NAMES[j]).join(', ')} outside the training days' 1st-99th percentile`);
    if (JSON.stringify(a.changed.map((c) => c.feature).sort()) !== JSON.stringify([...names].sort())) problems.push(`day ${a.day}: changed_features names ${a.changed.map((c) => c.feature).join(', ')}, the row changes ${names.join(', ')}`);
  });
  backs.forEach((b, k) => {
    if (up(served[2 * rows.length + k]) !== up(served[b.day])) notMinimal.push(b.day);
  });
  const sizes = answers.map((a) => a.changed.length);
  await world.check({
    id: 'counterfactuals-flip-within-k',
    statement: `every counterfactual of ${explainer} flips ${model}'s call and changes at most ${maxFeatures} mutable features within their plausible ranges`,
    threshold: `days without such a counterfactual = 0 (of ${count})`,
    measured: problems.length,
    unit: 'days',
    source: 'LIVE:oip',
    passed: problems.length === 0,
    details: { problems: problems.slice(0, 10), featuresChanged: Object.fromEntries([...new Set(sizes)].map((n) => [n, sizes.filter((s) => s === n).length])), checkedBy: `${model}'s served predict_proba` },
  });
  await world.check({
    id: 'counterfactuals-minimal',
    statement: `no counterfactual of ${explainer} changes a feature further than it needs to`,
    threshold: 'days where taking back 2 % of a change still flips the call = 0',
    measured: new Set(notMinimal).size,
    unit: 'days',
    source: 'LIVE:oip',
    passed: notMinimal.length === 0,
    details: { days: [...new Set(notMinimal)].slice(0, 10), changesChecked: backs.length },
  });
}
