/**
 * Start the local target alone (PostgreSQL with the MLflow store, training, the embedded stack,
 * Prometheus, the live dashboard) and print its URLs. Ctrl-C stops everything, with a message, and
 * exits 130.
 */
import { loadConfig } from '../support/config.ts';
import { localServing } from '../support/targets/local-serving.ts';
import { startTarget, type RunningTarget } from '../support/targets/target.ts';
import { onInterrupt } from '../support/interrupt.ts';
import { reportHarnessInputErrors } from '../support/harness-input.ts';

// bad input (the environment, a profile, a manifest) is named without a stack trace
reportHarnessInputErrors('stack');

// The dashboard gets its usual port here (the test suite lets the system pick a free one).
const config = loadConfig({ UAT_DASHBOARD_PORT: '8050', ...process.env });
// A part that dies while the user works with the stack is reported at once, and the command ends
// with a non-zero exit code instead of running on without it.
let stopping = false;
let running: RunningTarget | undefined;
// Ctrl-C or SIGTERM, during the start or after it: everything started so far is stopped, with a
// message, and the command exits 130 (143 for SIGTERM)
onInterrupt(async () => {
  stopping = true;
  console.log(`stopping ${running ? 'the stack, Prometheus, the dashboard and PostgreSQL' : 'what has started so far'}...`);
  await running?.stop();
  console.log('stopped');
});
const target = await startTarget(config, (line) => console.log(line), localServing, {
  onDeath: (part, cause) => {
    if (stopping) return;
    stopping = true;
    console.error(`The ${part} died: ${cause}\nStopping everything.`);
    // Children still starting are killed with this process (superviseChild).
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  },
});
running = target;
console.log(`
Embedded stack is up (seed ${target.seed}):
  OIP v2 REST     ${target.inferenceUrl}/v2/models/<model>/infer   (header seldon-model: <model> or financial-ab-test.experiment)
  health          ${target.inferenceUrl}/v2/health/ready
  status          ${target.inferenceUrl}/apis/mlops.seldon.io/v1alpha1/namespaces/${target.status.namespace}/models   (also experiments, pipelines; PATCH an experiment's spec with a JSON merge patch)
  metrics         ${target.metricsUrl}
  dashboard       ${target.dashboardUrl}
  Prometheus      ${'url' in target.prometheus ? `${target.prometheus.url} (${target.prometheus.source})` : `unavailable: ${target.prometheus.problem}`}
  MLflow store    ${'source' in target.database ? `${target.database.maskedUrl} (${target.database.source})` : target.database.problem}
Press Ctrl-C to stop.`);

