// The web console (issue 22) in Debian's headless chromium: a Switchboard
// process (NATS, MQTT, HTTP gateway, JetStream) with two users serves the
// console at `/`; the browser logs in and sees what real clients do: an mqtt.js
// client in Clients, a mosquitto_pub message in the subject tap, a stream's
// count grow, a KV edit reach an @nats-io/kv watcher; a user without permission
// sees none of a secret subject's messages. Screenshots go to
// $TMPDIR/switchboard-console-screenshots (artefacts, to look at).

import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import type { HeadlessChromium } from '../helpers/browser/chromium.ts';
import { logIn as logInAt, shot, startConsoleFixture, type ConsoleFixture } from '../helpers/browser/console-page.ts';
import { pub } from '../helpers/mosquitto-clients.ts';
import { connectMqtt, until } from '../helpers/mqtt.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { SwitchboardProcess } from '../helpers/servers.ts';

describe('web console in headless chromium', { peers: ['chromium', 'mosquitto_pub'] }, () => {
  let f: ConsoleFixture | undefined;
  let server: SwitchboardProcess;
  let browser: HeadlessChromium;
  let page: Page;
  let base: string;
  let nats: NatsConnection;
  let mqtt: MqttClient | undefined;

  const logIn = (target: Page, user: string, password: string): Promise<number> => logInAt(target, base, user, password);

  before(async () => {
    f = await startConsoleFixture('console-browser');
    ({ server, browser, page, base, nats } = f);
  });

  after(async () => {
    mqtt?.end(true);
    await f?.stop();
  });

  it('console - `/` serves the console, which logs in with user and password and links /docs', async () => {
    const loadMs = await logIn(page, 'admin', 'pw-admin');
    console.log(`console: login form shown ${loadMs} ms after navigation`);
    assert.ok(loadMs < 3_000, `the console took ${loadMs} ms to load`);
    assert.equal(await page.locator('nav a[href="/docs"]').count(), 1);
    // The overview moves with traffic: a bounded burst of NATS publishes shows as msgs/s in.
    for (let burst = 0; burst < 5; burst++) {
      for (let i = 0; i < 500; i++) nats.publish('public.load', 'x');
      await nats.flush();
      await page.waitForTimeout(400);
    }
    await page.waitForFunction(() => Number((document.querySelector('[data-testid="msgs-in"] b')?.textContent ?? '0').replace(/,/g, '')) > 0, undefined, { timeout: 5_000 });
    assert.equal(await page.locator('[data-protocol="nats"] b').textContent(), '1');
    await shot(page, 'overview');
  });

  it('console - an mqtt.js client appears in Clients with its client id and user', async () => {
    mqtt = await connectMqtt(`mqtt://127.0.0.1:${server.gateways.mqtt}`, { clientId: 'console-sensor-1', username: 'admin', password: 'pw-admin' });
    await mqtt.subscribeAsync('sensors/#', { qos: 1 });
    await page.goto(`${base}/#clients`);
    await page.locator('input.filter').fill('console-sensor-1');
    const row = page.locator('[data-testid="clients"] tbody tr', { hasText: 'console-sensor-1' });
    await row.waitFor({ timeout: 5_000 });
    assert.equal(await page.locator('[data-testid="clients"] tbody tr').count(), 1, 'the filter keeps one row');
    assert.equal(await row.locator('td[data-col="type"]').textContent(), 'mqtt');
    assert.equal(await row.locator('td[data-col="user"]').textContent(), 'admin');
    assert.match((await row.locator('td[data-col="subs"]').textContent()) ?? '', /sensors/);
    await page.locator('input.filter').fill('');
    await shot(page, 'clients');
  });

  it('console - a message from mosquitto_pub arrives in the subject tap (MQTT filter)', async () => {
    await page.goto(`${base}/#tap`);
    await page.locator('[data-testid="tap-mode"]').selectOption('mqtt');
    await page.locator('[data-testid="tap-filter"]').fill('sensors/#');
    await page.getByRole('button', { name: 'Tap' }).click();
    await page.locator('[data-testid="tap-state"]', { hasText: 'live' }).waitFor({ timeout: 5_000 });
    const published = await pub(server.gateways.mqtt!, 'mqttv311', ['-u', 'admin', '-P', 'pw-admin', '-t', 'sensors/kitchen/temp', '-m', '{"celsius":21.5}']);
    assert.equal(published.code, 0, published.out);
    const row = page.locator('[data-testid="tap"] tbody tr', { hasText: 'sensors.kitchen.temp' });
    await row.waitFor({ timeout: 5_000 });
    assert.match((await row.locator('td.payload').textContent()) ?? '', /"celsius":21.5/);
    // and the console's own test publish goes round to the same tap
    await page.locator('[data-testid="pub-subject"]').fill('sensors.hall.door');
    await page.locator('[data-testid="pub-payload"]').fill('open');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.locator('[data-testid="tap"] tbody tr', { hasText: 'sensors.hall.door' }).waitFor({ timeout: 5_000 });
    assert.equal(await page.locator('[data-testid="tap-total"]').textContent(), '2');
    await shot(page, 'tap');
  });

  it("console - a stream's message count grows in Streams", async () => {
    const jsm = await jetstreamManager(nats);
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    await page.goto(`${base}/#streams`);
    const count = page.locator('[data-stream="ORDERS"] td[data-col="messages"]');
    await count.filter({ hasText: /^0$/ }).waitFor({ timeout: 5_000 });
    const js = jetstream(nats);
    for (let i = 0; i < 7; i++) await js.publish(`orders.eu.${i}`, `order ${i}`);
    await count.filter({ hasText: /^7$/ }).waitFor({ timeout: 5_000 });
    await shot(page, 'streams');
  });

  it('console - a KV value edited in the console reaches an @nats-io/kv watcher', async () => {
    const kv = await new Kvm(nats).create('settings');
    await kv.put('color', 'blue');
    const seen: string[] = [];
    const watch = await kv.watch({ key: 'color' });
    void (async () => {
      for await (const entry of watch) if (entry.operation === 'PUT') seen.push(entry.string());
    })();
    await until(() => seen.includes('blue'), 'the initial value in the watcher');
    await page.goto(`${base}/#kv`);
    await page.locator('[data-testid="buckets"] li', { hasText: 'settings' }).click();
    await page.locator('[data-testid="keys"] li', { hasText: 'color' }).click();
    const value = page.locator('[data-testid="value"]');
    await page.waitForFunction(() => (document.querySelector('[data-testid="value"]') as HTMLTextAreaElement | null)?.value === 'blue', undefined, { timeout: 5_000 });
    await value.fill('green');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-testid="kv-status"]', { hasText: 'saved' }).waitFor({ timeout: 5_000 });
    await until(() => seen.includes('green'), 'the edited value in the watcher', 5_000);
    assert.deepEqual(seen, ['blue', 'green']);
    watch.stop();
    await shot(page, 'kv');
  });

  it('console - under 50,000 msg/s the tap shows a bounded window, counts what it skipped, and the page stays responsive', async () => {
    // A second tab watches the overview's charts through the load (the README's screenshot).
    const overview = await browser.newPage();
    await overview.setViewportSize({ width: 1280, height: 720 });
    await logIn(overview, 'admin', 'pw-admin');
    await page.goto(`${base}/#tap`);
    await page.locator('[data-testid="tap-filter"]').fill('load.>');
    await page.getByRole('button', { name: 'Tap' }).click();
    await page.locator('[data-testid="tap-state"]', { hasText: 'live' }).waitFor({ timeout: 5_000 });
    // Bounded load: 3 s at 50,000 msg/s, in 5,000-message batches every 100 ms.
    const payload = JSON.stringify({ reading: 42, unit: 'celsius' });
    // Page responsiveness, measured inside the page (the test process is busy publishing):
    // how late a 50 ms timer fires on the main thread that renders the tap.
    await page.evaluate(() => {
      const lags: number[] = [];
      let last = performance.now();
      const probe = setInterval(() => {
        const now = performance.now();
        lags.push(now - last - 50);
        last = now;
      }, 50);
      (window as unknown as { lagProbe: () => number[] }).lagProbe = () => (clearInterval(probe), lags);
    });
    let sent = 0;
    const started = Date.now();
    const ends = started + 3_000;
    const publishing = (async () => {
      while (Date.now() < ends) {
        const tick = Date.now();
        for (let i = 0; i < 5_000; i++) nats.publish(`load.sensor.${i % 50}`, payload);
        sent += 5_000;
        await nats.flush();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tick))));
      }
    })();
    await publishing;
    const rate = Math.round(sent / ((Date.now() - started) / 1000));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="tap-skipped"]')?.textContent) > 0, undefined, { timeout: 10_000 });
    // One reading of the three figures (the tap is still catching up).
    const { rows, total, skipped } = await page.evaluate(() => ({
      rows: document.querySelectorAll('[data-testid="tap"] tbody tr').length,
      total: Number(document.querySelector('[data-testid="tap-total"]')?.textContent),
      skipped: Number(document.querySelector('[data-testid="tap-skipped"]')?.textContent),
    }));
    // The page still answers a click: switching views while the tap streams.
    const clicked = Date.now();
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.locator('[data-testid="clients"]').waitFor({ timeout: 5_000 });
    const switchMs = Date.now() - clicked;
    const latencies = (await page.evaluate(() => (window as unknown as { lagProbe: () => number[] }).lagProbe())).sort((a, b) => a - b);
    const p95 = Math.round(latencies[Math.floor(latencies.length * 0.95)]);
    console.log(`console under load: ${rate} msg/s offered for 3 s (${sent} messages), tap received ${total} (showing ${rows}, skipped ${skipped}); main-thread timer lag p95 ${p95} ms, max ${Math.round(latencies[latencies.length - 1])} ms over ${latencies.length} samples; view switch ${switchMs} ms`);
    assert.equal(rows, 200, 'the tap shows a bounded window');
    assert.equal(skipped, total - rows);
    assert.ok(p95 < 500, `the page's main thread lagged ${p95} ms (p95) under load`);
    assert.ok(switchMs < 5_000, `switching views took ${switchMs} ms under load`);
    await overview.waitForTimeout(1_500);
    await shot(overview, 'overview-after-load');
    await overview.close();
  });

  it("console - a user without permission sees none of a secret subject's messages", async () => {
    // The admin's tap on secret.> stays open (authenticated when it opened) and proves the messages flow.
    await page.goto(`${base}/#tap`);
    await page.locator('[data-testid="tap-filter"]').fill('secret.>');
    await page.getByRole('button', { name: 'Tap' }).click();
    await page.locator('[data-testid="tap-state"]', { hasText: 'live' }).waitFor({ timeout: 5_000 });
    const viewer = await browser.newPage();
    try {
      await logIn(viewer, 'viewer', 'pw-viewer');
      await viewer.goto(`${base}/#tap`);
      await viewer.locator('[data-testid="tap-filter"]').fill('secret.>');
      await viewer.getByRole('button', { name: 'Tap' }).click();
      await viewer.locator('[data-testid="tap-state"]', { hasText: /refused \(403\)/ }).waitFor({ timeout: 5_000 });
      for (let i = 0; i < 3; i++) nats.publish(`secret.plan.${i}`, `classified ${i}`);
      await nats.flush();
      await page.locator('[data-testid="tap-total"]', { hasText: /^3$/ }).waitFor({ timeout: 5_000 });
      assert.equal(await viewer.locator('[data-testid="tap"] tbody tr').count(), 0);
      assert.equal(await viewer.locator('[data-testid="tap-total"]').textContent(), '0');
      assert.equal(await viewer.getByText('classified').count(), 0);
      await shot(viewer, 'viewer-refused');
    } finally {
      await viewer.close();
    }
  });
});
