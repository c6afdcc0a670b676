/**
 * Rebuild the Allure HTML report from reports/allure-results, carrying the previous report's
 * history over, and rewrite the sign-off from the same run. Exits 1 when the verdict is not GO or
 * GO WITH WAIVERS, or the HTML could not be built, so its exit code never contradicts the sign-off;
 * 2 (with the reason) for an unknown option or a folder that holds no run.
 *
 *   npm run report [-- --open] [--run <folder>]
 *     --open: open the single-file report in the desktop's browser
 *     --run: the run folder (default reports/latest)
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadConfig } from '../support/config.ts';
import { runFolderOrExit } from '../support/report/run-folders.ts';
import { generateAllureHtml } from '../support/report/allure-html.ts';
import { verdictExitCode } from '../support/report/signoff.ts';
import { writeSignOffDocuments } from '../support/report/signoff-documents.ts';

// the run folder given, else reports/latest; an unknown option or folder exits 2 with the reason
let config!: ReturnType<typeof loadConfig>;
const { values, runDir } = runFolderOrExit(
  'usage: npm run report [-- --open] [--run <run folder>]',
  () => parseArgs({ options: { open: { type: 'boolean', default: false }, run: { type: 'string' } } }).values,
  () => (config = loadConfig()).reportsDir,
);
// the HTML first: the sign-off links each criterion to its test in the single-file report
const html = generateAllureHtml(runDir);
const { signoff, markdown, pdf, pdfProblem } = await writeSignOffDocuments(runDir, config.waiversFile, config.chromiumPath);
console.log(html.message);
console.log(`Verdict: ${signoff.verdict} (${signoff.scopeNote})`);
console.log(`Sign-off: ${markdown} (PDF: ${pdf ?? pdfProblem})`);
if (values.open && html.singleFile) {
  // the file opens from disk: no server needed
  const opener = spawn('xdg-open', [html.singleFile], { stdio: 'ignore', detached: true });
  opener.on('error', () => console.log(`no desktop opener (xdg-open) here: open ${html.singleFile} in a browser`));
  opener.unref();
}
process.exit(html.ok ? verdictExitCode(signoff.verdict) : 1);
