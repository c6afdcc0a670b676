/**
 * Rewrite the sign-off from the last run's results (Cucumber messages, evidence ledger, Allure
 * attachments, the suite's recorded outcome, the waiver file) without running anything. Prints the
 * verdict and exits as `npm run uat` did: 0 for GO and GO WITH WAIVERS, 1 for NO-GO.
 */
import { loadConfig } from '../support/config.ts';
import { verdictExitCode, writeSignOff } from '../support/report/signoff.ts';

const config = loadConfig();
const { signoff, markdown, json } = writeSignOff(config.reportsDir, config.waiversFile);
console.log(`Verdict: ${signoff.verdict} (${signoff.scopeNote})`);
for (const w of signoff.waived) console.log(`  waived: ${w.criterion.id} (${w.criterion.severity}) by ${w.waiver.owner} until ${w.waiver.expires}: ${w.waiver.reason}`);
for (const reason of signoff.reasons) console.log(`  - ${reason}`);
console.log(`Sign-off: ${markdown}\nSign-off (JSON): ${json}`);
process.exit(verdictExitCode(signoff.verdict));
