/**
 * Rewrite the sign-off documents (Markdown, JSON, HTML, PDF) of a run (reports/latest, or `-- --run <folder>`) from its results
 * (Cucumber messages, evidence ledger, Allure attachments, the suite's recorded outcome, the
 * business case's inputs) with the waiver file and the ROI assumptions as they stand now, without
 * running anything. Prints the verdict and exits as `npm run uat` did: 0 for GO and GO WITH
 * WAIVERS, 1 for NO-GO and INCOMPLETE, 2 (with the reason) for an unknown option or a folder that
 * holds no run.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../support/config.ts';
import { runFolderOrExit } from '../support/report/run-folders.ts';
import { verdictExitCode } from '../support/report/signoff.ts';
import { writeSignOffDocuments } from '../support/report/signoff-documents.ts';

// the run folder given, else reports/latest; an unknown option or folder exits 2 with the reason
let config!: ReturnType<typeof loadConfig>;
const { runDir } = runFolderOrExit(
  'usage: npm run signoff [-- --run <run folder>]',
  () => parseArgs({ options: { run: { type: 'string' } } }).values,
  () => (config = loadConfig()).reportsDir,
);
const { signoff, markdown, json, html, pdf, pdfProblem } = await writeSignOffDocuments(runDir, config.waiversFile, config.chromiumPath);
console.log(`Verdict: ${signoff.verdict} (${signoff.scopeNote})`);
for (const w of signoff.waived) console.log(`  waived: ${w.criterion.id} (${w.criterion.severity}) by ${w.waiver.owner} until ${w.waiver.expires}: ${w.waiver.reason}`);
for (const reason of signoff.reasons) console.log(`  - ${reason}`);
console.log(`Sign-off: ${markdown}\nSign-off (JSON): ${json}\nSign-off (HTML): ${html}\nSign-off (PDF): ${pdf ?? pdfProblem}`);
process.exit(verdictExitCode(signoff.verdict));
