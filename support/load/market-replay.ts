/**
 * One step of a market replay against the bandit: a held-out day sent to the bandit's Experiment,
 * and the business value of the answer's call posted back to the bandit controller by the answer's
 * route. The acceptance scenarios and `npm run demo:mab` replay the same way.
 */
import type { MarketRow } from '../../fixtures/market-data.ts';
import { businessValueBp } from '../../fixtures/market-replay.ts';
import { featuresRequest, predictOutput, routedModel, type OipClient } from '../clients/oip-client.ts';

/** The arm that answered and the reward fed back, or undefined when the request was not answered by a candidate. */
export async function replayStep(options: { oip: OipClient; experiment: string; banditUrl: string; day: MarketRow; costBp: number; arms: string[] }): Promise<{ arm: string; reward: number } | undefined> {
  const answer = await options.oip.infer(`${options.experiment}.experiment`, featuresRequest([options.day.features]));
  const arm = routedModel(answer.route);
  const prediction = predictOutput(answer.body)?.[0];
  if (answer.status !== 200 || !arm || prediction === undefined || !options.arms.includes(arm)) return undefined;
  const reward = businessValueBp(prediction, options.day.nextReturn, options.costBp);
  const feedback = await fetch(`${options.banditUrl}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ route: answer.route, reward }) });
  if (!feedback.ok) throw new Error(`the bandit controller refused feedback for ${arm}: ${feedback.status} ${await feedback.text()}`);
  return { arm, reward };
}
