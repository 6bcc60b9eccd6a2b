// What the console's browser tests share: a Switchboard process with the test
// users (users-config.ts) serving a freshly built console, an admin NATS
// connection and headless chromium; logging in through the form; screenshots
// (artefacts to look at) under SCREENSHOTS.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Page } from 'playwright-core';
import { buildConsole } from '../../../gateways/http/console/build-console.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from '../servers.ts';
import { USERS, writeUsersConfig } from '../users-config.ts';
import { launchChromium, type HeadlessChromium } from './chromium.ts';

export const SCREENSHOTS = join(tmpdir(), 'switchboard-console-screenshots');

/** Open the console at `base`, log in; resolves with how long the form took to show (ms). */
export async function logIn(page: Page, base: string, user: string, password: string): Promise<number> {
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.locator('input[name="user"]').waitFor();
  const loadMs = Date.now() - started;
  await page.locator('input[name="user"]').fill(user);
  await page.locator('input[name="password"]').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('[data-testid="user"]', { hasText: user }).waitFor({ timeout: 5_000 });
  return loadMs;
}

/** A full-page screenshot as SCREENSHOTS/<name>.png. */
export function shot(page: Page, name: string): Promise<Buffer> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface ConsoleFixture {
  readonly server: SwitchboardProcess;
  /** A scratch directory (the config file is in it), removed by stop(). */
  readonly dir: string;
  /** The console's origin: http://127.0.0.1:<HTTP gateway port>. */
  readonly base: string;
  /** A NATS connection as the admin user. */
  readonly nats: NatsConnection;
  readonly browser: HeadlessChromium;
  /** A 1280x800 page, not yet logged in. */
  readonly page: Page;
  stop(): Promise<void>;
}

/** Build the console, start Switchboard with USERS and `sections`, connect, launch chromium. */
export async function startConsoleFixture(name: string, sections: Record<string, unknown> = {}): Promise<ConsoleFixture> {
  // The process serves dist/console (the default, as `npm start` does): build it from these sources.
  await buildConsole();
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  let server: SwitchboardProcess | undefined;
  let nats: NatsConnection | undefined;
  let browser: HeadlessChromium | undefined;
  const stop = async (): Promise<void> => {
    await browser?.close();
    await nats?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    server = await startSwitchboardProcess(['-c', writeUsersConfig(dir, sections)]);
    nats = await connect({ servers: server.url, user: USERS.admin.user, pass: USERS.admin.password });
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    return { server, dir, base: `http://127.0.0.1:${server.gateways.http}`, nats, browser, page, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
