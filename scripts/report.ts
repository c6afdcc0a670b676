/**
 * Rebuild the Allure HTML report from reports/allure-results, carrying the previous report's
 * history over, and rewrite the sign-off from the same run. Exits 1 when the verdict is NO-GO or
 * the HTML could not be built, so its exit code never contradicts the sign-off.
 */
import { loadConfig } from '../support/config.ts';
import { generateAllureHtml } from '../support/report/allure-html.ts';
import { verdictExitCode, writeSignOff } from '../support/report/signoff.ts';

const config = loadConfig();
const { signoff, markdown } = writeSignOff(config.reportsDir, config.waiversFile);
const html = generateAllureHtml(config.reportsDir);
console.log(html.message);
console.log(`Verdict: ${signoff.verdict} (${signoff.scopeNote})`);
console.log(`Sign-off: ${markdown}`);
process.exit(html.ok ? verdictExitCode(signoff.verdict) : 1);
