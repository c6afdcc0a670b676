/**
 * Reading the bandit controller's state over its HTTP API (`GET /state`, bandit/server.ts): the
 * scenarios, the dashboard's bandit view and `npm run demo:mab` read it the same way.
 */
import type { BanditController } from './controller.ts';

/** What `GET /state` answers: `BanditController.state()` as JSON. */
export type BanditStateView = ReturnType<BanditController['state']>;

export async function readBanditState(url: string, timeoutMs = 5000): Promise<BanditStateView> {
  const res = await fetch(`${url}/state`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`the bandit controller's /state answered HTTP ${res.status}`);
  return (await res.json()) as BanditStateView;
}
