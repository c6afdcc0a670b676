/**
 * Reading the drift monitor's state over its HTTP API (`GET /windows`, `GET /episodes`,
 * monitor/main.ts): the dashboard's drift view and `npm run demo:drift` read it the same way.
 */
import type { Episode, WindowVerdict } from './monitor.ts';

export { VERDICTS_KEPT } from './monitor.ts';
export type { Episode, WindowVerdict };

export interface MonitorState {
  /** The latest verdicts per detector, oldest first. */
  windows: Record<string, WindowVerdict[]>;
  episodes: Episode[];
}

export async function readMonitorState(url: string, timeoutMs = 5000): Promise<MonitorState> {
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`the drift monitor's ${path} answered HTTP ${res.status}`);
    return res.json();
  };
  const [windows, episodes] = await Promise.all([get('/windows'), get('/episodes')]);
  return { windows: (windows as { windows: MonitorState['windows'] }).windows, episodes: (episodes as { episodes: Episode[] }).episodes };
}

/** The feature with the smallest p-value of a verdict, and that p-value. */
export function smallestPValue(pValues: Record<string, number>): [string, number] | undefined {
  return Object.entries(pValues).sort((a, b) => a[1] - b[1])[0];
}
