/**
 * The Allure HTML report (allure-commandline, needs Java): the report folder, whose history carries
 * trends over between runs, and one self-contained file (`allure-report.html`) that opens from disk
 * without a web server. Before generating, the results get the report's categories (why tests
 * failed) and the executor (which release, run by what), so the report is titled with the release.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { ALLURE_RESULTS, readRunDescription } from './run-description.ts';

export interface AllureHtmlResult {
  ok: boolean;
  /** The report folder's index (history, trends). */
  index?: string;
  /** The single file that opens from disk. */
  singleFile?: string;
  message: string;
}

/**
 * Allure's categories, first match wins; Allure matches each regex against the whole message.
 * A failed criterion's message is `<statement>: expected <threshold>, measured <value> (source <source>, <test>)`.
 */
export const ALLURE_CATEGORIES = [
  {
    name: 'Data source unavailable',
    matchedStatuses: ['failed', 'broken'],
    messageRegex: '(?s).*(unreachable|unavailable|ECONNREFUSED|does not answer|fetch failed|no Chromium found|did not start).*',
  },
  {
    name: 'SLO breached',
    matchedStatuses: ['failed', 'broken'],
    messageRegex: '(?s).*expected [^\\n]*(latency|P95|p95|P99|error ratio|failed requests|requests per second|req/s| ms\\b|within \\d+ s)[^\\n]*measured.*',
  },
  {
    name: 'Statistical criterion failed',
    matchedStatuses: ['failed', 'broken'],
    messageRegex: '(?s).*expected [^\\n]*measured [^\\n]*(p-value|p_val|alpha|confidence|interval|Clopper|binomial|one-sided|two one-sided|chi-square|regret|bound)[^\\n]*',
  },
  {
    name: 'Acceptance criterion failed',
    matchedStatuses: ['failed', 'broken'],
    messageRegex: '(?s).*expected .* measured .*',
  },
  { name: 'Harness error', matchedStatuses: ['broken'] },
];

function writeReportMetadata(reportsDir: string, results: string): string {
  const run = readRunDescription(reportsDir);
  const release = run?.release ?? 'unknown release';
  const name = `financial-mlops-uat ${release} (${run?.target ?? 'no target'}, run ${run?.runId ?? 'unknown'})`;
  fs.writeFileSync(path.join(results, 'categories.json'), JSON.stringify(ALLURE_CATEGORIES, null, 2));
  fs.writeFileSync(
    path.join(results, 'executor.json'),
    JSON.stringify({ name: process.env.CI ? 'CI' : 'npm run uat', type: process.env.CI ? 'ci' : 'local', buildName: release, reportName: name }, null, 2),
  );
  return name;
}

/** `previousRun`: the run folder whose report's history carries over (default: this folder's own earlier report). */
export function generateAllureHtml(reportsDir: string, previousRun: string = reportsDir): AllureHtmlResult {
  const results = path.join(reportsDir, ALLURE_RESULTS);
  const report = path.join(reportsDir, 'allure-report');
  const single = path.join(reportsDir, 'allure-report.html');
  if (!fs.existsSync(results)) return { ok: false, message: `no Allure results in ${results}: run the suite first` };
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    return { ok: false, message: `Java is not installed, so the Allure HTML was not generated (results stay in ${results}). Install it with \`apt-get install -y default-jre-headless\`.` };
  }
  const name = writeReportMetadata(reportsDir, results);
  const history = path.join(previousRun, 'allure-report', 'history');
  if (fs.existsSync(history)) fs.cpSync(history, path.join(results, 'history'), { recursive: true });
  const bin = path.join(PROJECT_ROOT, 'node_modules', 'allure-commandline', 'bin', 'allure');
  const generate = (out: string, extra: string[]): string | undefined => {
    const run = spawnSync(bin, ['generate', results, '-o', out, '--clean', '--report-name', name, ...extra], { encoding: 'utf8' });
    return run.error || run.status !== 0 ? `allure generate failed: ${(run.error?.message ?? run.stderr ?? '').trim().slice(0, 500)}` : undefined;
  };
  const failed = generate(report, []);
  if (failed) return { ok: false, message: failed };
  // the single file: Allure writes it as index.html into a folder of its own
  const singleDir = `${single}.d`;
  const singleFailed = generate(singleDir, ['--single-file']);
  if (singleFailed) return { ok: false, index: path.join(report, 'index.html'), message: singleFailed };
  fs.renameSync(path.join(singleDir, 'index.html'), single);
  fs.rmSync(singleDir, { recursive: true, force: true });
  return {
    ok: true,
    index: path.join(report, 'index.html'),
    singleFile: single,
    message: `Allure report: ${single} (one file, opens from disk); with history: ${path.join(report, 'index.html')} (serve it: npx allure open ${report})`,
  };
}
