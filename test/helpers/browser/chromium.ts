// Debian's chromium, driven headless by playwright-core. playwright-core never
// downloads a browser: the executable is whatever `command -v chromium` finds.
// Suites that launch it declare the 'chromium' peer (peer-test.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { MissingPeerError, peerPath } from '../peers.ts';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface HeadlessChromium {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  /** Close the browser and remove its profile. */
  close(): Promise<void>;
}

export async function launchChromium(): Promise<HeadlessChromium> {
  const executablePath = peerPath('chromium');
  if (executablePath === null) throw new MissingPeerError('chromium');
  // A fresh profile per run: no state leaks between runs or from a developer's own browser.
  // Playwright refuses --user-data-dir in args; a persistent context is how it takes one.
  const userDataDir = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 30_000,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`cannot start ${executablePath} headless`, { cause: error });
  }
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
