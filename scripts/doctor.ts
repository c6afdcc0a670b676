/**
 * `npm run doctor`: check PostgreSQL and the MLflow schema, Prometheus, the inference stack and the
 * tools the suite uses; print a table; exit 1 when a required check fails (2 on bad configuration).
 *
 *   -- --fix            first install the system packages the suite needs and lacks (Debian, root;
 *                       elsewhere it prints the command and exits 1)
 *   -- --with-cluster   with --fix: also what the Kubernetes tests need (etcd, the kube-apiserver
 *                       build tools, a deb-src entry)
 *   -- --install-only   with --fix: install, then stop without the checks (CI's set-up)
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { ConfigError, loadConfig } from '../support/config.ts';
import { runDoctor } from '../support/doctor/checks.ts';
import { clusterPackages, fixPackages, hasDebSrc, missingPackages, suitePackages } from '../support/doctor/preflight.ts';

const { values } = parseArgs({ options: { fix: { type: 'boolean', default: false }, 'with-cluster': { type: 'boolean', default: false }, 'install-only': { type: 'boolean', default: false } } });

let config;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(2);
}
if (values.fix) {
  const wanted = [...suitePackages(config), ...(values['with-cluster'] ? clusterPackages() : [])];
  const missing = await missingPackages(wanted);
  const fixed = fixPackages(missing, { debSrc: values['with-cluster'] && !hasDebSrc() });
  console.log(`fix: ${fixed.message}`);
  if (!fixed.ok) process.exit(1);
  if (values['install-only']) process.exit(0);
}
const results = await runDoctor(config);
const table = new Table({
  head: ['check', 'status', 'what', 'version', 'latency', 'missing / how to fix'],
  colWidths: [20, 8, 34, 18, 10, 52],
  wordWrap: true,
  style: { head: [], border: [] },
});
for (const r of results) {
  const status = r.ok ? (r.problem ? 'WARN' : 'OK') : r.required ? 'FAIL' : 'absent';
  table.push([r.name, status, r.target, r.version, r.latencyMs === null ? '-' : `${r.latencyMs.toFixed(1)} ms`, r.problem || '-']);
}
console.log(table.toString());
const failed = results.filter((r) => r.required && !r.ok);
if (failed.length > 0) {
  console.log(`\n${failed.length} required check(s) failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exit(1);
}
console.log('\nall required checks passed');
