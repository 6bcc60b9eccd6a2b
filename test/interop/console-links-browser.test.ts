// The web console's Links view (issue 22's edge links, issue 23 item 5) in
// Debian's headless chromium: a Switchboard edge process dials the leafnode
// port of a real nats-server hub (Debian's 2.9), and a nats-server leaf below
// it dials the edge's own leafnode port. The view shows the link to the hub
// connected with its round trip and the messages that crossed it, and the leaf
// that dialed in; after the hub stops, the hub link disconnected with the
// dial's error, the leaf's link still up. On the edge, stream links:
// a source that keeps up (lag 0), a source into a full stream (discard new),
// which lags and says why, and a mirror whose external API prefix nobody
// answers. Screenshots go to $TMPDIR/switchboard-console-screenshots.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { logIn, shot, startConsoleFixture, type ConsoleFixture } from '../helpers/browser/console-page.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { freePort, startNatsServerWithConfig, type RunningServer } from '../helpers/servers.ts';
import { basicAuth, USERS } from '../helpers/users-config.ts';

const { admin } = USERS;

describe('web console Links view in headless chromium', { peers: ['chromium', 'nats-server'] }, () => {
  let hub: (RunningServer & { child: ChildProcess }) | undefined;
  let hubLeafPort: number;
  let f: ConsoleFixture | undefined;
  let hc: NatsConnection | undefined;
  let leaf: (RunningServer & { child: ChildProcess }) | undefined;

  before(async () => {
    hubLeafPort = await freePort();
    hub = await startNatsServerWithConfig(`leafnodes { listen: "127.0.0.1:${hubLeafPort}" }`);
    const edgeLeafPort = await freePort();
    f = await startConsoleFixture('console-links', { leafnodes: { listen: `127.0.0.1:${edgeLeafPort}`, remotes: [{ url: `nats-leaf://127.0.0.1:${hubLeafPort}` }] } });
    hc = await connect({ servers: hub.url });
    leaf = await startNatsServerWithConfig(`server_name: shop-7\nleafnodes { remotes [ { url: "nats-leaf://127.0.0.1:${edgeLeafPort}" } ] }`);
  });

  after(async () => {
    await hc?.close();
    await leaf?.stop();
    await f?.stop();
    await hub?.stop();
  });

  it('console - /v1/monitor/leafz serves the edge\'s remote, joined to its link by id', async () => {
    const { base } = f!;
    const leafz = async () => (await (await fetch(`${base}/v1/monitor/leafz`, { headers: basicAuth('admin') })).json()) as { leafs: Array<{ id: number }>; remotes: Array<{ connected: boolean; link_id?: number; urls: string[] }> };
    let body = await leafz();
    for (const deadline = Date.now() + 20_000; !body.remotes[0]?.connected && Date.now() < deadline; body = await leafz()) await new Promise((r) => setTimeout(r, 100));
    assert.equal(body.remotes[0].connected, true, 'the edge links to the hub');
    assert.deepEqual(body.remotes[0].urls, [`nats-leaf://127.0.0.1:${hubLeafPort}`]);
    const linkId = body.remotes[0].link_id;
    assert.equal(typeof linkId, 'number');
    assert.equal(body.leafs.filter((l) => l.id === linkId).length, 1, 'its link is listed under that id');
  });

  it('console - the Links view shows the leafnode link and stream links with lag and errors, then the link down after the hub stops', async () => {
    const { page, base, nats } = f!;
    // Interest of an edge client crosses to the hub; the hub's messages come in over the link.
    const got: string[] = [];
    nats.subscribe('edge.in', { callback: (_e, m) => void got.push(m.string()) });
    await nats.flush();
    for (const deadline = Date.now() + 20_000; got.length === 0 && Date.now() < deadline; ) {
      hc!.publish('edge.in', 'probe');
      await hc!.flush();
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(got.length > 0, 'a hub message reached the edge');
    for (let i = 0; i < 5; i++) hc!.publish('edge.in', `m${i}`);
    await hc!.flush();

    const jsm = await jetstreamManager(nats);
    const js = jetstream(nats);
    await jsm.streams.add({ name: 'SENSORS', subjects: ['sensors.>'] });
    for (let i = 0; i < 20; i++) await js.publish(`sensors.t${i % 4}`, `v${i}`);
    await jsm.streams.add({ name: 'COPY', sources: [{ name: 'SENSORS' }] });
    await jsm.streams.add({ name: 'FULL', max_msgs: 5, discard: DiscardPolicy.New, sources: [{ name: 'SENSORS' }] });
    await jsm.streams.add({ name: 'HUBMIRROR', mirror: { name: 'CENTRAL', external: { api: '$JS.hub.API', deliver: 'dlv.hub' } } });

    await page.setViewportSize({ width: 1400, height: 700 });
    await logIn(page, base, admin.user, admin.password);
    await page.goto(`${base}/#links`);
    const remote = page.locator('[data-testid="leaf-links"] tr[data-link="remote"]');
    await remote.locator('td[data-col="state"]', { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await remote.getAttribute('data-peer'), `nats-leaf://127.0.0.1:${hubLeafPort}`);
    assert.match((await remote.locator('td[data-col="rtt"]').textContent()) ?? '', /^\d+(\.\d+)?(ms|µs|s)$/);
    await remote.locator('td[data-col="in-msgs"]').filter({ hasText: /^([6-9]|\d\d+)$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await remote.locator('td[data-col="connects"]').textContent(), '1');
    assert.match((await remote.locator('td[data-col="pending"]').textContent()) ?? '', /^\d+$/);
    const accepted = page.locator('[data-testid="leaf-links"] tr[data-link="accepted"]');
    await accepted.waitFor({ timeout: 20_000 });
    assert.match((await accepted.getAttribute('data-peer')) ?? '', /^shop-7 \(127\.0\.0\.1:\d+\)$/);
    assert.equal(await accepted.locator('td[data-col="state"]').textContent(), 'connected');

    const link = (stream: string) => page.locator(`[data-testid="stream-links"] tr[data-stream="${stream}"]`);
    await link('COPY').locator('td[data-col="state"]', { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await link('COPY').locator('td[data-col="lag"]').textContent(), '0');
    assert.equal(await link('COPY').getAttribute('data-origin'), 'SENSORS');
    assert.match((await link('COPY').locator('td[data-col="last-transfer"]').textContent()) ?? '', /^\d+\.\d s ago$/);
    // FULL holds 5 of 20: the other 15 wait at the origin, and the error says why.
    await link('FULL').locator('td[data-col="lag"]', { hasText: /^15$/ }).waitFor({ timeout: 10_000 });
    assert.match((await link('FULL').locator('td[data-col="error"]').textContent()) ?? '', /maximum messages exceeded/);
    assert.equal(await link('FULL').locator('td[data-col="state"]').textContent(), 'disconnected');
    assert.notEqual(await link('FULL').locator('td[data-col="backlog-age"]').textContent(), '0.0 s');
    // Nobody serves $JS.hub.API (the hub runs no JetStream): the mirror says so.
    assert.equal(await link('HUBMIRROR').locator('td[data-col="api"]').textContent(), '$JS.hub.API');
    await link('HUBMIRROR').locator('td[data-col="error"]', { hasText: /^(no responders for|no answer from) \$JS\.hub\.API\.CONSUMER\.CREATE\.CENTRAL$/ }).waitFor({ timeout: 20_000 });
    await shot(page, 'links');

    await hc!.close();
    hc = undefined;
    await hub!.stop();
    hub = undefined;
    await remote.locator('td[data-col="state"]', { hasText: /^disconnected$/ }).waitFor({ timeout: 20_000 });
    await remote.locator('td[data-col="last-error"]').filter({ hasText: /\S/ }).waitFor({ timeout: 20_000 });
    assert.equal(await remote.locator('td[data-col="rtt"]').textContent(), '', 'no link, no figures');
    assert.equal(await accepted.locator('td[data-col="state"]').textContent(), 'connected', 'the leaf below is not the hub');
    await shot(page, 'links-hub-down');
  });
});
