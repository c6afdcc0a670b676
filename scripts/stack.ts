/**
 * Start the local target alone (PostgreSQL with the MLflow store, training, the embedded stack)
 * and print its URLs. Ctrl-C stops everything.
 */
import { loadConfig } from '../support/config.ts';
import { startLocalTarget } from '../support/targets/local-target.ts';

const config = loadConfig();
const target = await startLocalTarget(config, (line) => console.log(line));
console.log(`
Embedded stack is up (seed ${target.seed}):
  OIP v2 REST     ${target.inferenceUrl}/v2/models/<model>/infer   (header seldon-model: <model> or financial-ab-test.experiment)
  health          ${target.inferenceUrl}/v2/health/ready
  metrics         ${target.metricsUrl}
  dashboard       ${target.dashboardUrl}
  MLflow store    ${target.database.maskedUrl} (${target.database.source})
Press Ctrl-C to stop.`);
const stop = async (): Promise<void> => {
  await target.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
