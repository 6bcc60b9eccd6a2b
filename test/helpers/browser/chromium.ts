// Debian's chromium, driven headless by playwright-core. playwright-core never
// downloads a browser: the executable is whatever `which chromium` finds, and
// without one the suite prints `SKIPPED: chromium not installed`.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

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

export function chromiumPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  return path === '' ? null : path;
}

/** Print the visible skip line and return null when chromium is absent. */
export function requireChromium(): string | null {
  const path = chromiumPath();
  if (path === null) process.stdout.write('SKIPPED: chromium not installed\n');
  return path;
}

export async function launchChromium(executablePath: string): Promise<HeadlessChromium> {
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
