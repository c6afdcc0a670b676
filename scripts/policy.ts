/**
 * `npm run policy`: the static security checks of support/security/policy.ts over every manifest
 * under k8s/ (or the files and folders given as arguments). Prints one line per violation (file,
 * object, field, rule, what to change) and exits 1 when there is any, 2 when an input is missing.
 *
 *   npm run policy                      every manifest under k8s/
 *   npm run policy -- k8s/security x.yaml
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../support/config.ts';
import { checkPolicies, formatViolation, RULES } from '../support/security/policy.ts';

const { positionals } = parseArgs({ allowPositionals: true, options: {} });
const inputs = positionals.length > 0 ? positionals.map((p) => path.resolve(p)) : [path.join(PROJECT_ROOT, 'k8s')];
const absent = inputs.filter((p) => !fs.existsSync(p));
if (absent.length > 0) {
  console.error(`policy: no such file or folder: ${absent.join(', ')}`);
  process.exit(2);
}
const report = checkPolicies(inputs);
for (const v of report.violations) console.log(formatViolation(v));
for (const s of report.skipped) console.log(`${path.relative(process.cwd(), s.file)}: document ${s.document}: skipped, ${s.reason}`);
const applied = new Set(report.objects.flatMap((o) => o.rules));
console.log(
  `policy: ${report.objects.length} objects in ${report.files.length} files, rules applied: ${Object.keys(RULES).filter((r) => applied.has(r as keyof typeof RULES)).join(', ')}; ` +
    (report.violations.length === 0 ? 'no violations' : `${report.violations.length} violation(s)`),
);
process.exit(report.violations.length === 0 ? 0 : 1);
