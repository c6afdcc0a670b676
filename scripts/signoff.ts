/**
 * Rewrite the sign-off from the last run's results (Cucumber messages, evidence ledger, Allure
 * attachments) without running anything.
 */
import { loadConfig } from '../support/config.ts';
import { writeSignOff } from '../support/report/signoff.ts';

const { signoff, markdown, json } = writeSignOff(loadConfig().reportsDir);
console.log(`Verdict: ${signoff.verdict}`);
for (const reason of signoff.reasons) console.log(`  - ${reason}`);
console.log(`Sign-off: ${markdown}\nSign-off (JSON): ${json}`);
process.exit(signoff.verdict === 'GO' ? 0 : 1);
