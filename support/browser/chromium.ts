/**
 * Chromium for the usability scenarios, driven by playwright-core: CHROMIUM_PATH, then
 * /usr/bin/chromium, then a browser Playwright installed itself. None found: a clear error that
 * says how to install one.
 */
import fs from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export class BrowserMissingError extends Error {}

export async function findChromium(configured?: string): Promise<string> {
  const candidates = [configured, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((c): c is string => Boolean(c));
  for (const candidate of candidates) if (fs.existsSync(candidate)) return candidate;
  try {
    const { chromium } = await import('playwright-core');
    const own = chromium.executablePath();
    if (own && fs.existsSync(own)) return own;
  } catch {
    // Playwright has no browser of its own here
  }
  throw new BrowserMissingError(
    `no Chromium found (tried ${candidates.join(', ') || 'nothing configured'} and Playwright's own browser). ` +
      'Install one with `apt-get install -y chromium` (Debian/Ubuntu) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  );
}

/** playwright-core is loaded here, when a scenario first needs the browser, not with every run. */
export async function launchChromium(configured?: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // the harness's own interrupt handler (support/interrupt.ts) closes the browser and then stops
  // the rest: Playwright's would end the process at once and leave the stack running
  return chromium.launch({ executablePath: await findChromium(configured), headless: true, args: CHROMIUM_FLAGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
}
