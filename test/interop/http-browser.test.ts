// The HTTP API from a real browser (issue 26): Debian's headless chromium loads
// a page from another origin (page-server.ts) and uses the gateway with plain
// fetch and EventSource under the gateway's CORS policy: a preflighted JSON
// publish with Authorization, a login whose HttpOnly session cookie lets an
// EventSource stream a subject, and a user without permission refused with 403.
// The interactive /docs page is driven too: it will not send a request whose
// required path field is empty.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Page } from 'playwright-core';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { createAuthorizer } from '../../core/auth/create-authorizer.ts';
import { launchChromium, type HeadlessChromium } from '../helpers/browser/chromium.ts';
import { servePage, type PageServer } from '../helpers/browser/page-server.ts';
import { startHttpFixture, waitFor, type HttpFixture } from './http-fixture.ts';

const PAGE_ENTRY = fileURLToPath(new URL('../helpers/browser/http-api-page.ts', import.meta.url));
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('http api in headless chromium from another origin', { peers: ['chromium'] }, () => {
  let f: HttpFixture;
  let pageServer: PageServer;
  let browser: HeadlessChromium | undefined;
  let page: Page;
  let node: NatsConnection;
  /** Requests the gateway's socket saw, method and URL, preflights included. */
  const seen: string[] = [];

  before(async () => {
    pageServer = await servePage('Switchboard HTTP API from another origin', PAGE_ENTRY);
    const authorizer = createAuthorizer({
      users: [
        { user: 'alice', password: 'pw-alice', permissions: { publish: { allow: ['feed.>'] }, subscribe: { allow: ['feed.>'] } } },
        { user: 'bob', password: 'pw-bob', permissions: { publish: { allow: ['other.>'] }, subscribe: { allow: ['other.>'] } } },
      ],
    });
    f = await startHttpFixture({ authorizer, cors: { allowedOrigins: [pageServer.origin], credentials: true, maxAgeSeconds: 60 } });
    f.gateway.app.server.on('request', (request: IncomingMessage) => seen.push(`${request.method} ${request.url}`));
    // The page and the gateway are different origins (ports) on one host: cross-origin, same-site.
    assert.notEqual(new URL(f.base).origin, pageServer.origin);
    node = await connect({ servers: f.natsUrl, user: 'alice', pass: 'pw-alice' });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${pageServer.origin}/`);
    await page.waitForFunction(() => window.httpPage !== undefined);
  });

  after(async () => {
    await browser?.close();
    await node?.close();
    await f?.stop();
    await pageServer?.stop();
  });

  it('http browser - a JSON publish with Authorization is preflighted and reaches a NATS subscriber', async () => {
    const got: string[] = [];
    node.subscribe('feed.orders', { callback: (_error, msg) => void got.push(msg.string()) });
    await node.flush();
    const answer = await page.evaluate(([base, auth]) => window.httpPage.publish(base, 'feed.orders', { item: 'book' }, auth), [f.base, basic('alice', 'pw-alice')] as const);
    assert.equal(answer.status, 202, answer.body);
    await waitFor(() => got.length === 1, 'the published message');
    assert.deepEqual(got, ['{"item":"book"}']);
    assert.ok(seen.includes('OPTIONS /v1/subjects/feed.orders'), `no preflight in ${seen.join(', ')}`);
  });

  it('http browser - an EventSource logs in with the session cookie and streams a subject', async () => {
    assert.equal(await page.evaluate(([base, auth]) => window.httpPage.login(base, auth), [f.base, basic('alice', 'pw-alice')] as const), 201);
    // The cookie is HttpOnly: the page's script cannot read it, the browser still sends it.
    assert.equal(await page.evaluate(() => document.cookie), '');
    await page.evaluate((base) => window.httpPage.stream(base, 'feed.>'), f.base);
    await page.waitForFunction(() => window.httpPage.streamState().opened, undefined, { timeout: 5_000 });
    // The stream is subscribed at the core before its headers go out.
    for (let i = 0; i < 5; i++) node.publish(`feed.tick.${i}`, `tick ${i}`);
    await node.flush();
    await page.waitForFunction(() => window.httpPage.streamState().messages.length === 5, undefined, { timeout: 5_000 });
    assert.deepEqual((await page.evaluate(() => window.httpPage.streamState())).messages, ['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4']);
    assert.equal(await page.locator('#received li').count(), 5);
    await page.evaluate(() => window.httpPage.closeStream());
  });

  it('http browser - a user without permission on the subject gets 403 and no stream', async () => {
    assert.equal(await page.evaluate(([base, auth]) => window.httpPage.login(base, auth), [f.base, basic('bob', 'pw-bob')] as const), 201);
    assert.equal(await page.evaluate((base) => window.httpPage.get(base, '/v1/subjects/feed.secret'), f.base), 403);
    await page.evaluate((base) => window.httpPage.stream(base, 'feed.secret'), f.base);
    await page.waitForFunction(() => window.httpPage.streamState().failed, undefined, { timeout: 5_000 });
    const state = await page.evaluate(() => window.httpPage.streamState());
    assert.deepEqual([state.opened, state.messages], [false, []]);
    assert.equal(f.gateway.stats.activeStreams, 0);
  });

  it('http browser - /docs does not send a request while a required path field is empty', async () => {
    const docs = await browser!.newPage();
    try {
      await docs.goto(`${f.base}/docs`);
      const publish = docs.locator('details', { hasText: 'POST/v1/subjects/{subject}' }).first();
      await publish.locator('summary').click();
      const before = seen.length;
      await publish.getByRole('button', { name: 'Send' }).click();
      await docs.waitForTimeout(300);
      assert.deepEqual(seen.slice(before).filter((line) => line.startsWith('POST')), [], 'a request left with an empty subject');
      assert.equal(await publish.locator('input[name="path:subject"]').evaluate((input) => (input as HTMLInputElement).validity.valueMissing), true);
      await publish.locator('input[name="path:subject"]').fill('feed.docs');
      await publish.getByRole('button', { name: 'Send' }).click();
      await waitFor(() => seen.slice(before).includes('POST /v1/subjects/feed.docs'), 'the request from /docs');
      assert.ok(!seen.some((line) => line.includes('%7Bsubject%7D') || line.includes('{subject}')));
    } finally {
      await docs.close();
    }
  });
});
