/**
 * Rebuild the Allure HTML report from reports/allure-results, carrying the previous report's
 * history over, and rewrite the sign-off from the same run.
 */
import { loadConfig } from '../support/config.ts';
import { generateAllureHtml } from '../support/report/allure-html.ts';
import { writeSignOff } from '../support/report/signoff.ts';

const config = loadConfig();
const { signoff, markdown } = writeSignOff(config.reportsDir);
const html = generateAllureHtml(config.reportsDir);
console.log(html.message);
console.log(`Sign-off: ${markdown} (verdict ${signoff.verdict})`);
process.exit(html.ok ? 0 : 1);
