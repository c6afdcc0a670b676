/**
 * The Allure HTML report (allure-commandline, needs Java). The previous report's history is copied
 * into the results first, so trends carry over between runs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { ALLURE_RESULTS } from './run-description.ts';

export interface AllureHtmlResult {
  ok: boolean;
  index?: string;
  message: string;
}

export function generateAllureHtml(reportsDir: string): AllureHtmlResult {
  const results = path.join(reportsDir, ALLURE_RESULTS);
  const report = path.join(reportsDir, 'allure-report');
  if (!fs.existsSync(results)) return { ok: false, message: `no Allure results in ${results}: run the suite first` };
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    return { ok: false, message: `Java is not installed, so the Allure HTML was not generated (results stay in ${results}). Install it with \`apt-get install -y default-jre-headless\`.` };
  }
  const history = path.join(report, 'history');
  if (fs.existsSync(history)) fs.cpSync(history, path.join(results, 'history'), { recursive: true });
  const bin = path.join(PROJECT_ROOT, 'node_modules', 'allure-commandline', 'bin', 'allure');
  const run = spawnSync(bin, ['generate', results, '-o', report, '--clean'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    return { ok: false, message: `allure generate failed: ${(run.error?.message ?? run.stderr ?? '').trim().slice(0, 500)}` };
  }
  return { ok: true, index: path.join(report, 'index.html'), message: `Allure report: ${path.join(report, 'index.html')}` };
}
