// A real browser on the WebSocket gateway: Debian's headless chromium loads a
// page bundling @nats-io/nats-core (with @nats-io/jetstream and @nats-io/kv),
// connects with wsconnect() over the browser's own WebSocket, and exchanges
// messages, stream entries and KV updates with a Node client on TCP.
// The assertions read the data the page received, never screenshots.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { Kvm } from '@nats-io/kv';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { Page } from 'playwright-core';
import type { NatsServer } from '../../core/server/nats-server.ts';
import { createWebSocketGateway, type WebSocketGateway } from '../../gateways/websocket/websocket-gateway.ts';
import { launchChromium, type HeadlessChromium } from '../helpers/browser/chromium.ts';
import { servePage, type PageServer } from '../helpers/browser/page-server.ts';
import { startSwitchboardJetStream, type JetStreamServer } from '../helpers/jetstream.ts';

const PAGE_ENTRY = fileURLToPath(new URL('../helpers/browser/nats-ws-page.ts', import.meta.url));
const LEGACY_PAGE_ENTRY = fileURLToPath(new URL('../helpers/browser/legacy-nats-ws-page.ts', import.meta.url));

describe('websocket gateway in headless chromium', { peers: ['chromium'] }, () => {
  let core: JetStreamServer & { server: NatsServer };
  let nats: NatsServer;
  let gateway: WebSocketGateway;
  let foreignGateway: WebSocketGateway;
  let pageServer: PageServer;
  let legacyPageServer: PageServer;
  let browser: HeadlessChromium | undefined;
  let page: Page;
  let node: NatsConnection;

  before(async () => {
    // Core NATS with the JetStream engine on its router, as the embedded deployment runs.
    core = await startSwitchboardJetStream();
    nats = core.server;
    pageServer = await servePage('Switchboard NATS over WebSocket', PAGE_ENTRY);
    legacyPageServer = await servePage('Switchboard with nats.ws', LEGACY_PAGE_ENTRY);
    // The pages' own origins are the only ones allowed, so the browser's real Origin header is checked.
    gateway = createWebSocketGateway({ nats, host: '127.0.0.1', port: 0, allowedOrigins: [pageServer.origin, legacyPageServer.origin] });
    await gateway.start();
    foreignGateway = createWebSocketGateway({ nats, host: '127.0.0.1', port: 0, allowedOrigins: ['https://elsewhere.example'] });
    await foreignGateway.start();
    node = await connect({ servers: `nats://127.0.0.1:${nats.port}` });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${pageServer.origin}/`);
    await page.waitForFunction(() => window.natsPage !== undefined);
    const serverId = await page.evaluate((url) => window.natsPage.connect(url), gateway.url);
    assert.equal(serverId, nats.serverId);
  });

  after(async () => {
    await page?.evaluate(() => window.natsPage.close()).catch(() => {});
    await browser?.close();
    await node?.close();
    await foreignGateway?.stop();
    await gateway?.stop();
    await pageServer?.stop();
    await legacyPageServer?.stop();
    await core?.stop();
  });

  it('websocket - a page subscribes and receives what a Node client publishes', async () => {
    await page.evaluate(() => window.natsPage.subscribe('browser.feed.>'));
    for (let i = 0; i < 20; i++) {
      const h = headers();
      h.set('X-Seq', String(i));
      node.publish(`browser.feed.${i % 2 === 0 ? 'even' : 'odd'}`, `tick ${i} ✓`, { headers: h });
    }
    await node.flush();
    await page.waitForFunction(() => window.natsPage.received('browser.feed.>').length === 20, undefined, { timeout: 5_000 });
    const got = await page.evaluate(() => window.natsPage.received('browser.feed.>'));
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `browser.feed.${i % 2 === 0 ? 'even' : 'odd'}|${i}|tick ${i} ✓`));
    // The page rendered them too: the DOM shows what a user would see.
    assert.equal(await page.locator('#received li').count(), 20);
  });

  it('websocket - a page publishes to a Node subscriber', async () => {
    const got: string[] = [];
    node.subscribe('browser.clicks', { callback: (_err, msg) => void got.push(msg.string()) });
    await node.flush();
    await page.evaluate(() => window.natsPage.publish('browser.clicks', 'clicked #buy'));
    const deadline = Date.now() + 5_000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(got, ['clicked #buy']);
  });

  it('websocket - a page requests a Node service and gets the reply', async () => {
    node.subscribe('svc.greet', { callback: (_err, msg) => void msg.respond(`hello, ${msg.string()}`) });
    await node.flush();
    const reply = await page.evaluate(() => window.natsPage.request('svc.greet', 'browser', 2_000));
    assert.equal(reply, 'hello, browser');
    const none = await page.evaluate(() => window.natsPage.request('svc.absent', '', 1_000).catch((e: Error) => `error: ${e.message}`));
    assert.match(none, /no responders/i);
  });

  it('websocket - a page uses JetStream: creates a stream, publishes with acks, reads back', async () => {
    assert.equal(await page.evaluate(() => window.natsPage.addStream('BROWSER', ['browser.js.>'])), 'BROWSER');
    const acks: string[] = [];
    for (const [i, id] of ['a', 'b', 'a'].entries()) {
      acks.push(await page.evaluate(([n, msgId]) => window.natsPage.jsPublish('browser.js.order', `order ${n}`, msgId), [i, id] as const));
    }
    // The third publish repeats msg id `a`: the stream drops it as a duplicate (Nats-Msg-Id).
    assert.deepEqual(acks, ['BROWSER:1', 'BROWSER:2', 'BROWSER:1:duplicate']);
    assert.equal(await page.evaluate(() => window.natsPage.jsGet('BROWSER', 2)), 'browser.js.order|order 1');
    // A Node client sees the same stream state.
    const stored = await node.request('$JS.API.STREAM.INFO.BROWSER', '', { timeout: 2_000 });
    assert.equal(JSON.parse(stored.string()).state.messages, 2);
  });

  it('websocket - a page puts and watches a KV key, with a Node client on the same bucket', async () => {
    await page.evaluate(() => window.natsPage.kvWatch('prefs', 'theme'));
    const kv = await new Kvm(node).open('prefs');
    await kv.put('theme', 'dark');
    const revision = await page.evaluate(() => window.natsPage.kvPut('prefs', 'theme', 'light'));
    assert.equal(revision, 2);
    // The Node client reads the page's write: one bucket, whichever side wrote.
    const latest = await kv.get('theme');
    assert.deepEqual([latest?.string(), latest?.revision], ['light', 2]);
    await kv.delete('theme');
    await page.waitForFunction(() => window.natsPage.kvEntries().length === 3, undefined, { timeout: 5_000 });
    assert.deepEqual(await page.evaluate(() => window.natsPage.kvEntries()), ['theme=dark@1:PUT', 'theme=light@2:PUT', 'theme=@3:DEL']);
  });

  it('websocket - the older nats.ws client works unchanged from a page', async () => {
    const legacy = await browser!.newPage();
    try {
      await legacy.goto(`${legacyPageServer.origin}/`);
      await legacy.waitForFunction(() => window.legacyNats !== undefined);
      assert.equal(await legacy.evaluate((url) => window.legacyNats.connect(url), gateway.url), nats.serverId);
      await legacy.evaluate(() => window.legacyNats.subscribe('legacy.>'));
      node.subscribe('svc.legacy', { callback: (_err, msg) => void msg.respond(`legacy ${msg.string()}`) });
      await node.flush();
      node.publish('legacy.news', 'still works');
      await node.flush();
      await legacy.waitForFunction(() => window.legacyNats.received().length === 1, undefined, { timeout: 5_000 });
      assert.deepEqual(await legacy.evaluate(() => window.legacyNats.received()), ['legacy.news|still works']);
      assert.equal(await legacy.evaluate(() => window.legacyNats.request('svc.legacy', 'ping', 2_000)), 'legacy ping');
      await legacy.evaluate(() => window.legacyNats.close());
    } finally {
      await legacy.close();
    }
  });

  it('websocket - a page from an origin the gateway does not allow cannot connect', async () => {
    const before = foreignGateway.stats.rejectedOrigins;
    const outcome = await page.evaluate((url) => window.natsPage.tryConnect(url), foreignGateway.url);
    assert.notEqual(outcome, 'connected');
    assert.equal(foreignGateway.stats.rejectedOrigins, before + 1);
  });
});
