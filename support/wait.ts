/**
 * Bounded polling with a named wait: the error names the condition, the deadline and the last
 * state seen.
 */
export class WaitTimeoutError extends Error {}

export async function waitFor<T>(
  condition: string,
  deadlineMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last = 'no attempt finished';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= until) throw new WaitTimeoutError(`waited ${deadlineMs} ms for ${condition}; last state: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
