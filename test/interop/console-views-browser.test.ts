// The web console's detail views (issue 22) in Debian's headless chromium,
// against a Switchboard process and real clients: a client's page (an mqtt.js
// MQTT 5 session with its will, keep-alive and subscription) and Disconnect
// (refused with the gateway's 403 for a user without permission; for the admin
// the client gets DISCONNECT 0x98); a stream's consumers with the figures the
// official client reports; browsing a stream by sequence and by time (JSON,
// text, hex, headers); a key's history and a live bucket watch; object stores
// and a download; a request from the tap (reply, no responders, timeout); the
// Kafka view (no bridge; a bridge to the kcat mock cluster with rates and a
// last error); the Links view without leafnode links. Screenshots go to
// $TMPDIR/switchboard-console-screenshots.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { IDisconnectPacket, MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import type { HeadlessChromium } from '../helpers/browser/chromium.ts';
import { logIn, shot, startConsoleFixture, type ConsoleFixture } from '../helpers/browser/console-page.ts';
import { startProxiedKafka, type ProxiedKafka } from '../helpers/kafka-bridge-process.ts';
import { kcatProduce } from '../helpers/kafka-mock.ts';
import { connectMqtt, until } from '../helpers/mqtt.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { SwitchboardProcess } from '../helpers/servers.ts';
import { basicAuth, USERS } from '../helpers/users-config.ts';

const { admin, viewer } = USERS;

describe('web console views in headless chromium', { peers: ['chromium'] }, () => {
  let f: ConsoleFixture | undefined;
  let server: SwitchboardProcess;
  let dir: string;
  let browser: HeadlessChromium;
  let page: Page;
  let base: string;
  let nats: NatsConnection;
  let device: MqttClient | undefined;

  before(async () => {
    f = await startConsoleFixture('console-views');
    ({ server, dir, browser, page, base, nats } = f);
    await logIn(page, base, admin.user, admin.password);
  });

  after(async () => {
    device?.end(true);
    await f?.stop();
  });

  it("console - a client's page shows its MQTT session, and Disconnect needs permission", async () => {
    const wills: string[] = [];
    nats.subscribe('devices.sensor-7.status', { callback: (_e, m) => void wills.push(m.string()) });
    await nats.flush();
    device = await connectMqtt(`mqtt://127.0.0.1:${server.gateways.mqtt}`, {
      clientId: 'sensor-7',
      protocolVersion: 5,
      username: admin.user,
      password: admin.password,
      keepalive: 45,
      will: { topic: 'devices/sensor-7/status', payload: Buffer.from('lost'), qos: 1, retain: true },
    });
    await device.subscribeAsync('commands/sensor-7/#', { qos: 1 });
    const disconnects: IDisconnectPacket[] = [];
    device.on('disconnect', (packet) => disconnects.push(packet));
    let closed = false;
    device.on('close', () => (closed = true));

    await page.goto(`${base}/#clients`);
    await page.locator('input.filter').fill('sensor-7');
    // The row whose client id is sensor-7 (the admin's NATS subscription mentions it too).
    await page.locator('[data-testid="clients"] tbody tr').filter({ has: page.locator('td[data-col="client"]', { hasText: /^sensor-7$/ }) }).locator('td[data-col="cid"] a').click();
    const session = page.locator('[data-testid="mqtt-session"]');
    await session.waitFor({ timeout: 5_000 });
    const fact = (name: string) => session.locator(`tr[data-fact="${name}"] td`);
    assert.equal(await fact('Protocol').textContent(), 'MQTT 5');
    assert.equal(await fact('Keep-alive').textContent(), '45 s');
    assert.equal(await fact('In flight').textContent(), '0');
    assert.equal(await fact('Queued').textContent(), '0');
    assert.equal(await fact('Will').textContent(), 'devices/sensor-7/status (QoS 1, retained)');
    assert.match((await page.locator('[data-testid="client-subscriptions"]').textContent()) ?? '', /commands\/sensor-7\/#\s*1/);
    assert.equal(await page.locator('[data-testid="client-facts"] tr[data-fact="User"] td').textContent(), 'admin');
    await shot(page, 'client-detail');
    const clientUrl = page.url();

    // The viewer may read /connz but not close connections: the gateway's 403 is shown, the client stays.
    const viewerPage = await browser.newPage();
    try {
      await logIn(viewerPage, base, viewer.user, viewer.password);
      await viewerPage.goto(clientUrl);
      await viewerPage.getByRole('button', { name: 'Disconnect' }).click();
      await viewerPage.locator('[data-testid="disconnect-status"]', { hasText: /^403 on .*permissions violation for publish to "\$SYS\.REQ\.SERVER\..*\.KICK"/ }).waitFor({ timeout: 5_000 });
      await shot(viewerPage, 'client-disconnect-refused');
    } finally {
      await viewerPage.close();
    }
    assert.equal(device.connected, true);
    // The viewer's login replaced the browser's session cookie: the admin logs in again.
    await logIn(page, base, admin.user, admin.password);
    await page.goto(clientUrl);
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.locator('[data-testid="disconnect-status"]', { hasText: 'disconnected' }).waitFor({ timeout: 5_000 });
    await until(() => closed && disconnects.length > 0, 'mqtt.js to see the server end the connection', 10_000);
    assert.equal(disconnects[0].reasonCode, 0x98, 'MQTT 5 Administrative action');
    await until(() => wills.includes('lost'), 'the will, sent as for any connection the server ends', 10_000);
    await page.locator('[data-testid="client-gone"]').waitFor({ timeout: 5_000 });
  });

  it("console - a NATS client's page lists its subscriptions with queue groups and message counts", async () => {
    const worker = await connect({ servers: server.url, user: admin.user, pass: admin.password, name: 'billing-worker' });
    try {
      worker.subscribe('billing.>', { queue: 'billers', callback: () => undefined });
      worker.subscribe('audit.billing', { callback: () => undefined });
      await worker.flush();
      for (let i = 0; i < 3; i++) nats.publish('billing.invoice', 'x');
      await nats.flush();
      await page.goto(`${base}/#clients`);
      await page.locator('input.filter').fill('billing-worker');
      await page.locator('[data-testid="clients"] tbody tr').filter({ has: page.locator('td[data-col="client"]', { hasText: /^billing-worker$/ }) }).locator('td[data-col="cid"] a').click();
      const subs = page.locator('[data-testid="client-subscriptions"] tbody tr');
      await subs.filter({ hasText: 'billing.>' }).filter({ hasText: 'billers' }).locator('td').nth(3).filter({ hasText: /^3$/ }).waitFor({ timeout: 5_000 });
      assert.equal(await subs.count(), 2);
      assert.equal(await page.locator('[data-testid="client-facts"] tr[data-fact="Protocol"] td').textContent(), 'nats');
      assert.match((await page.locator('[data-testid="client-facts"] tr[data-fact="Library"] td').textContent()) ?? '', /^nats\.js /);
      await shot(page, 'client-detail-nats');
    } finally {
      await worker.close();
    }
  });

  it("console - a stream's consumers show pending, ack pending, redeliveries and ack floor as the client reports them", async () => {
    const jsm = await jetstreamManager(nats);
    const js = jetstream(nats);
    await jsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'] });
    for (let i = 0; i < 10; i++) await js.publish(`jobs.q.${i}`, JSON.stringify({ job: i }));
    await jsm.consumers.add('JOBS', { durable_name: 'worker', ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000, filter_subject: 'jobs.>' });
    const consumer = await js.consumers.get('JOBS', 'worker');
    // Ack two, nak the third (it comes back, counted as redelivered), then hold three: ack pending 3, pending 5.
    for (const action of ['ack', 'ack', 'nak']) {
      const m = await consumer.next({ expires: 2_000 });
      assert.ok(m !== null);
      if (action === 'ack') await m.ackAck();
      else m.nak();
    }
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await consumer.next({ expires: 2_000 }));
    assert.deepEqual(held.map((m) => m?.seq), [3, 4, 5]);
    assert.equal(held[0]?.redelivered, true);
    const info = await jsm.consumers.info('JOBS', 'worker');
    assert.ok(info.num_redelivered >= 1 && info.num_ack_pending === 3, JSON.stringify(info));

    await page.goto(`${base}/#streams`);
    await page.locator('[data-stream="JOBS"] a').click();
    const row = page.locator('[data-testid="consumers"] tr[data-consumer="worker"]');
    await row.waitFor({ timeout: 5_000 });
    const cell = (col: string) => row.locator(`td[data-col="${col}"]`);
    await cell('ack-pending').filter({ hasText: /^3$/ }).waitFor({ timeout: 5_000 });
    assert.equal(await cell('pending').textContent(), String(info.num_pending));
    assert.equal(await cell('redelivered').textContent(), String(info.num_redelivered));
    assert.equal(await cell('ack-floor').textContent(), `${info.ack_floor.stream_seq} / ${info.ack_floor.consumer_seq}`);
    assert.equal(await cell('delivered').textContent(), `${info.delivered.stream_seq} / ${info.delivered.consumer_seq}`);
    await row.click();
    assert.match((await page.locator('[data-testid="consumer-config"]').textContent()) ?? '', /"durable_name": "worker"/);
    await shot(page, 'stream-consumers');
  });

  it("console - browsing a stream by sequence and by time shows headers, JSON pretty-printed, text and hex", async () => {
    const jsm = await jetstreamManager(nats);
    const js = jetstream(nats);
    await jsm.streams.add({ name: 'BROWSE', subjects: ['browse.>'] });
    const h = headers();
    h.set('Trace-Id', 'abc-123');
    await js.publish('browse.json', JSON.stringify({ order: 42, items: ['tea', 'milk'] }), { headers: h });
    await js.publish('browse.text', 'plain words');
    await js.publish('browse.bin', new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x41]));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the next two are stored at least a second later
    const late = await js.publish('browse.late', 'later one');
    await js.publish('browse.late', 'later two');

    await page.goto(`${base}/#stream/BROWSE`);
    await page.locator('[data-testid="browse-from"]').fill('1');
    await page.getByRole('button', { name: 'Show' }).click();
    const message = (seq: number) => page.locator(`[data-testid="messages"] [data-seq="${seq}"]`);
    await message(5).waitFor({ timeout: 5_000 });
    assert.equal(await message(1).locator('.payload-view').getAttribute('data-kind'), 'json');
    assert.equal(await message(1).locator('pre').textContent(), '{\n  "order": 42,\n  "items": [\n    "tea",\n    "milk"\n  ]\n}');
    assert.match((await message(1).locator('[data-testid="headers"]').textContent()) ?? '', /Trace-Id\s*abc-123/);
    assert.equal(await message(2).locator('.payload-view').getAttribute('data-kind'), 'text');
    assert.equal(await message(2).locator('pre').textContent(), 'plain words');
    assert.equal(await message(3).locator('.payload-view').getAttribute('data-kind'), 'hex');
    assert.match((await message(3).locator('pre').textContent()) ?? '', /^00000000  00 01 02 fe ff 41 +\.\.\.\.\.A$/);
    await shot(page, 'stream-browse-seq');

    // By time: from the start of the second the first late message was stored in (local time, as the input takes it).
    const { time } = (await (await fetch(`${base}/v1/streams/BROWSE/messages/${late.seq}`, { headers: basicAuth('admin') })).json()) as { time: string };
    // Sweden's locale writes local time as YYYY-MM-DD hh:mm:ss (no helper functions inside evaluate: tsx would name them).
    const local = await page.evaluate((iso) => new Date(iso).toLocaleString('sv-SE').replace(' ', 'T'), time);
    await page.locator('[data-testid="browse-by"]').selectOption('time');
    await page.locator('[data-testid="browse-from"]').fill(local);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('[data-testid="messages"] article').first().and(message(4)).waitFor({ timeout: 5_000 });
    assert.deepEqual(await page.locator('[data-testid="messages"] article').evaluateAll((all) => all.map((a) => a.getAttribute('data-seq'))), ['4', '5']);
    await shot(page, 'stream-browse-time');
  });

  it("console - a key's history, a live watch of its bucket, and object stores with a download", async () => {
    const kv = await new Kvm(nats).create('prefs', { history: 5 });
    for (const theme of ['light', 'dark', 'solarized']) await kv.put('theme', theme);
    await page.goto(`${base}/#kv`);
    await page.locator('[data-testid="buckets"] li', { hasText: 'prefs' }).click();
    await page.locator('[data-testid="kv-watch-state"]', { hasText: 'live' }).waitFor({ timeout: 5_000 });
    await page.locator('[data-testid="keys"] li', { hasText: 'theme' }).click();
    const history = page.locator('[data-testid="kv-history"] tbody tr');
    await history.nth(2).waitFor({ timeout: 5_000 });
    assert.deepEqual(await history.evaluateAll((rows) => rows.map((r) => r.querySelector('pre')?.textContent)), ['solarized', 'dark', 'light']);
    // A change by a NATS client shows in the live watch; a console edit in both.
    await kv.put('font', 'mono');
    const watched = page.locator('[data-testid="kv-watch"] tbody tr');
    await watched.filter({ hasText: 'font' }).waitFor({ timeout: 5_000 });
    await page.waitForFunction(() => (document.querySelector('[data-testid="value"]') as HTMLTextAreaElement | null)?.value === 'solarized', undefined, { timeout: 5_000 });
    await page.locator('[data-testid="value"]').fill('high-contrast');
    await page.getByRole('button', { name: 'Save' }).click();
    await watched.filter({ hasText: 'high-contrast' }).waitFor({ timeout: 5_000 });
    await history.first().filter({ hasText: 'high-contrast' }).waitFor({ timeout: 5_000 });
    assert.equal(await history.count(), 4);
    assert.equal((await kv.get('theme'))?.string(), 'high-contrast');
    await shot(page, 'kv-history-watch');

    const objects = await new Objm(jetstream(nats)).create('reports');
    const blob = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    await objects.putBlob({ name: 'q3.bin' }, blob);
    await objects.putBlob({ name: 'summary.json' }, new TextEncoder().encode('{"total":3}'));
    await page.goto(`${base}/#objects`);
    await page.locator('[data-testid="object-buckets"] li', { hasText: 'reports' }).click();
    const row = page.locator('[data-testid="objects"] tr[data-object="q3.bin"]');
    await row.waitFor({ timeout: 5_000 });
    assert.equal(await row.locator('td[data-col="size"]').textContent(), '100,000');
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: 'Download' }).click()]);
    const saved = join(dir, 'q3.bin');
    await download.saveAs(saved);
    assert.deepEqual(new Uint8Array(readFileSync(saved)), blob);
    await shot(page, 'objects');
  });

  it('console - a request from the tap shows the reply, or no responders, or the timeout', async () => {
    nats.subscribe('svc.price', { callback: (_e, m) => void m.respond(JSON.stringify({ item: m.string(), price: 4.2 })) });
    nats.subscribe('svc.silent', { callback: () => undefined });
    await nats.flush();
    await page.goto(`${base}/#tap`);
    const ask = async (subject: string, payload: string, timeoutMs: string): Promise<void> => {
      await page.locator('[data-testid="req-subject"]').fill(subject);
      await page.locator('[data-testid="req-payload"]').fill(payload);
      await page.locator('[data-testid="req-timeout"]').fill(timeoutMs);
      await page.getByRole('button', { name: 'Request' }).click();
    };
    await ask('svc.price', 'tea', '2000');
    const reply = page.locator('[data-testid="req-reply"] pre');
    await reply.waitFor({ timeout: 5_000 });
    assert.equal(await reply.textContent(), '{\n  "item": "tea",\n  "price": 4.2\n}');
    await shot(page, 'tap-request');
    await ask('svc.nobody', 'x', '2000');
    await page.locator('[data-testid="req-error"]', { hasText: /^503: / }).waitFor({ timeout: 5_000 });
    await ask('svc.silent', 'x', '300');
    await page.locator('[data-testid="req-error"]', { hasText: /^504: / }).waitFor({ timeout: 5_000 });
    assert.equal(await page.locator('[data-testid="req-reply"]').count(), 0);
  });

  it('console - the Kafka view says when no bridge is configured', async () => {
    await page.goto(`${base}/#kafka`);
    await page.locator('[data-testid="kafka-none"]').waitFor({ timeout: 5_000 });
    await shot(page, 'kafka-none');
  });

  it('console - the Links view says when no leafnode links are configured, from the gateway\'s problem answer', async () => {
    const missing = await fetch(`${base}/v1/monitor/leafz`, { headers: basicAuth('admin') });
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await missing.json()) as { code: string }).code, 'endpoint_not_found');
    await page.goto(`${base}/#links`);
    await page.locator('[data-testid="leaf-none"]').waitFor({ timeout: 5_000 });
    await page.locator('[data-testid="stream-links-none"], [data-testid="stream-links"]').first().waitFor({ timeout: 5_000 });
  });
});

describe('web console Kafka view in headless chromium', { peers: ['chromium', 'kcat'] }, () => {
  let kafka: ProxiedKafka | undefined;
  let f: ConsoleFixture | undefined;

  before(async () => {
    // kafkajs reaches the kcat mock cluster through the test proxy, as the other bridge tests do.
    kafka = await startProxiedKafka();
    f = await startConsoleFixture('console-kafka', {
      kafka: {
        kafka: { brokers: kafka.proxy.brokers, clientId: 'console-test' },
        mappings: [
          { name: 'events-out', direction: 'nats-to-kafka', subject: 'events.>', topic: 'events' },
          // Into a stream that does not exist: each record fails, and says why.
          { name: 'orders-in', direction: 'kafka-to-nats', topics: ['orders'], groupId: 'console', subject: 'orders.in', stream: 'MISSING', start: 'earliest' },
        ],
      },
    });
  });

  after(async () => {
    await f?.stop();
    await kafka?.stop();
  });

  it('console - the Kafka view shows per mapping rate, lag, messages and the last error', async () => {
    const { page, base, nats } = f!;
    await page.setViewportSize({ width: 1280, height: 600 });
    await logIn(page, base, admin.user, admin.password);
    await page.goto(`${base}/#kafka`);
    const out = page.locator('[data-testid="kafka-mappings"] tr[data-mapping="events-out"]');
    await out.locator('td[data-col="state"]', { hasText: 'running' }).waitFor({ timeout: 30_000 });
    for (let i = 0; i < 50; i++) nats.publish(`events.click.${i}`, `e${i}`);
    await nats.flush();
    await out.locator('td[data-col="messages"]', { hasText: /^50$/ }).waitFor({ timeout: 20_000 });
    assert.ok(Number(await out.locator('td[data-col="rate"]').textContent()) > 0, 'a rate while messages flow');
    kcatProduce(kafka!.mock.bootstrap, 'orders', { key: 'o1', value: 'order one' });
    const failing = page.locator('[data-testid="kafka-mappings"] tr[data-mapping="orders-in"] td[data-col="last-error"]');
    await failing.filter({ hasText: /\S/ }).waitFor({ timeout: 30_000 });
    await shot(page, 'kafka');
  });
});
