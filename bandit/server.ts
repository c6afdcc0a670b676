/**
 * The bandit controller's HTTP API (loopback):
 *
 *   POST /feedback   {"model": "<arm>", "reward": <number>}  or  {"route": "<x-seldon-route of the answer>", "reward": <number>}
 *                    -> 200 {"model", "rewardsSinceUpdate", "updated": <update number or null>}
 *                    a malformed body -> 400, an arm that is not a candidate -> 404, both {"error": "..."}
 *   POST /update     recompute and write the weights now -> 200 the update
 *   POST /reset      {"seed": <integer>}: start the experiment over (stored rewards and updates
 *                    forgotten, the Experiment's weights read again, draws from the seed) -> 200 the state
 *   GET  /state      the settings, each arm's rewards, posterior, P(best) and weight, the last update
 *   GET  /metrics    Prometheus: seldon_api_model_feedback_total and seldon_api_model_feedback_reward_total
 *                    per model (the reward sum is a gauge: business value can be negative), the weights
 *                    and P(best) as gauges, the updates as a counter, the time the Experiment's status took
 *                    to observe each write as a histogram (writes it did not confirm as a counter)
 *   GET  /health     200
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { routedModel } from '../support/clients/oip-client.ts';
import { BanditController, UnknownArmError, type UpdateRecord } from './controller.ts';

const feedbackBody = z.union([
  z.object({ model: z.string().min(1), reward: z.number().finite() }).strict(),
  z.object({ route: z.string().min(1), reward: z.number().finite() }).strict(),
]);

const MAX_BODY = 64 * 1024;

export function createBanditServer(controller: BanditController): http.Server {
  const registry = new Registry();
  const labelNames = ['model'] as const;
  const feedbackTotal = new Counter({ name: 'seldon_api_model_feedback_total', help: 'Feedback (rewards) received per model', labelNames, registers: [registry] });
  const rewardTotal = new Gauge({ name: 'seldon_api_model_feedback_reward_total', help: 'Sum of the rewards received per model (business value; can be negative, so a gauge)', labelNames, registers: [registry] });
  const weight = new Gauge({ name: 'financial_mlops_bandit_weight_percent', help: 'Candidate weight the bandit last set', labelNames: ['experiment', 'model'], registers: [registry] });
  const best = new Gauge({ name: 'financial_mlops_bandit_probability_best', help: 'Posterior probability that the arm is best, at the last update', labelNames: ['experiment', 'model'], registers: [registry] });
  const updates = new Counter({ name: 'financial_mlops_bandit_updates_total', help: 'Weight updates', labelNames: ['experiment'], registers: [registry] });
  const applySeconds = new Histogram({ name: 'financial_mlops_bandit_apply_seconds', help: 'From writing the weights to the Experiment until its status observed them', labelNames: ['experiment'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  const unconfirmed = new Counter({ name: 'financial_mlops_bandit_apply_unconfirmed_total', help: 'Weight writes the Experiment\'s status did not confirm (no observedGeneration, or not within the deadline)', labelNames: ['experiment'], registers: [registry] });
  const experiment = controller.state().experiment;
  new Gauge({
    name: 'financial_mlops_bandit_estimated_regret',
    help: 'Cumulative regret the rewards show since the last reset: per arm, its rewards times how far its mean reward lies below the best arm\'s (business value, bp)',
    labelNames: ['experiment'],
    registers: [registry],
    collect() {
      const regret = controller.state().estimatedRegret;
      if (regret === null) this.reset();
      else this.set({ experiment }, regret);
    },
  });
  for (const arm of controller.state().arms) {
    feedbackTotal.inc({ model: arm.name }, arm.rewards); // resumed from the stored state
    rewardTotal.set({ model: arm.name }, (arm.meanReward ?? 0) * arm.rewards);
    weight.set({ experiment, model: arm.name }, arm.weight);
  }
  const recordUpdate = (u: UpdateRecord): void => {
    updates.inc({ experiment });
    if (u.applied && 'observedAfterMs' in u.applied) applySeconds.observe({ experiment }, u.applied.observedAfterMs / 1000);
    else if (u.applied) unconfirmed.inc({ experiment });
    for (const [model, w] of Object.entries(u.weights)) weight.set({ experiment, model }, w);
    for (const [model, p] of Object.entries(u.probabilityBest)) if (!Number.isNaN(p)) best.set({ experiment, model }, p);
  };

  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /health') return void res.writeHead(200, { 'content-length': 0 }).end();
    if (route === 'GET /state') return send(res, 200, controller.state());
    if (route === 'GET /metrics') {
      void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
      return;
    }
    if (route === 'POST /update') {
      void controller.update().then((u) => (recordUpdate(u), send(res, 200, u)), (error: Error) => send(res, 502, { error: error.message }));
      return;
    }
    if (route !== 'POST /feedback' && route !== 'POST /reset') return send(res, 404, { error: `no ${req.method} ${url.pathname} here (POST /feedback, POST /update, POST /reset, GET /state, GET /metrics, GET /health)` });
    let body = '';
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
      if (body.length > MAX_BODY) tooLarge = true;
    });
    req.on('end', () => {
      if (tooLarge) return send(res, 413, { error: `body over ${MAX_BODY} bytes` });
      if (route === 'POST /reset') {
        let seed: unknown;
        try {
          seed = (JSON.parse(body) as { seed?: unknown }).seed;
        } catch {
          return send(res, 400, { error: 'reset is not JSON' });
        }
        if (!Number.isInteger(seed)) return send(res, 400, { error: 'reset must be {"seed": <integer>}' });
        controller.reset(seed as number).then(
          () => {
            for (const arm of controller.state().arms) weight.set({ experiment, model: arm.name }, arm.weight);
            best.reset();
            send(res, 200, controller.state());
          },
          (error: Error) => send(res, 502, { error: error.message }),
        );
        return;
      }
      let parsed: z.infer<typeof feedbackBody>;
      try {
        const result = feedbackBody.safeParse(JSON.parse(body));
        if (!result.success) return send(res, 400, { error: `feedback must be {"model": string, "reward": number} or {"route": string, "reward": number}: ${result.error.issues[0].path.join('.') || 'body'}: ${result.error.issues[0].message}` });
        parsed = result.data;
      } catch {
        return send(res, 400, { error: 'feedback is not JSON' });
      }
      const model = 'model' in parsed ? parsed.model : routedModel(parsed.route);
      if (!model) return send(res, 400, { error: `route '${'route' in parsed ? parsed.route : ''}' names no model (expected Seldon's x-seldon-route, e.g. ":enhanced-predictor_1:")` });
      controller.feedback(model, parsed.reward).then(
        (outcome) => {
          feedbackTotal.inc({ model });
          rewardTotal.inc({ model }, parsed.reward);
          if (outcome.update) recordUpdate(outcome.update);
          send(res, 200, { model, rewardsSinceUpdate: outcome.rewardsSinceUpdate, updated: outcome.update?.update ?? null });
        },
        (error: Error) => send(res, error instanceof UnknownArmError ? 404 : 502, { error: error.message }),
      );
    });
  });
  // between updates, every arm's readiness is probed; a change updates at once (controller.probe)
  const probing = setInterval(() => {
    void controller.probe().then(
      (u) => u && (recordUpdate(u), process.stderr.write(`${JSON.stringify({ event: 'update', cause: 'readiness changed', ...u })}\n`)),
      (error: Error) => process.stderr.write(`${JSON.stringify({ event: 'error', message: `readiness probe: ${error.message}` })}\n`),
    );
  }, controller.settings.probeSeconds * 1000);
  probing.unref();
  server.on('close', () => clearInterval(probing));
  return server;
}
