// NATS over WebSocket with the official clients: wsconnect() from
// @nats-io/nats-core against the WebSocket gateway, talking to
// @nats-io/transport-node over TCP through the same core; plus raw frames for
// framing, origins, compression and upgrade credentials. The
// client, framing, origin and compression suites also run against Debian's
// nats-server WebSocket listener as the reference.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { headers, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Authorizer, Credentials, Principal } from '../../core/auth/authorizer.ts';
import { UNRESTRICTED_PRINCIPAL } from '../../core/auth/authorizer.ts';
import { PROJECT_ROOT, waitForOutput } from '../helpers/servers.ts';
import { connectWs, RawWebSocket } from '../helpers/websocket-clients.ts';
import { until } from '../helpers/mqtt.ts';
import { startSwitchboardWs, wsTargets, type SwitchboardWs, type WsEndpoints, type WsTargetOptions } from '../helpers/websocket-targets.ts';

function collect(nc: NatsConnection, subject: string): Msg[] {
  const got: Msg[] = [];
  nc.subscribe(subject, { callback: (_err, msg) => void got.push(msg) });
  return got;
}

for (const target of wsTargets()) describe(`nats over websocket with the official clients (${target.name})`, { peers: target.peers }, () => {
  let setup: WsEndpoints;
  const conns: NatsConnection[] = [];
  before(async () => {
    setup = await target.start();
  });
  after(async () => {
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    await setup?.stop();
  });
  // Sequential on purpose: nats-core has one global transport factory (see helper).
  async function tcp(): Promise<NatsConnection> {
    const nc = await connect({ servers: setup.tcpUrl });
    conns.push(nc);
    return nc;
  }
  async function ws(): Promise<NatsConnection> {
    const nc = await connectWs(setup.wsUrl);
    conns.push(nc);
    return nc;
  }

  it('websocket - pub/sub both ways between a wsconnect client and a TCP client', async () => {
    const browser = await ws();
    const node = await tcp();
    const inBrowser = collect(browser, 'orders.*');
    const inNode = collect(node, 'clicks');
    await browser.flush();
    await node.flush();
    for (let i = 0; i < 100; i++) node.publish(`orders.${i % 3}`, `order ${i}`);
    browser.publish('clicks', 'button-1');
    browser.publish('clicks', new Uint8Array([0, 1, 2, 255]));
    await node.flush();
    await browser.flush();
    await until(() => inBrowser.length === 100 && inNode.length === 2, 'deliveries');
    assert.deepEqual(inBrowser.map((m) => m.string()), Array.from({ length: 100 }, (_, i) => `order ${i}`));
    assert.equal(inBrowser[4].subject, 'orders.1');
    assert.equal(inNode[0].string(), 'button-1');
    assert.deepEqual([...inNode[1].data], [0, 1, 2, 255]);
  });

  it('websocket - headers travel between WebSocket and TCP clients', async () => {
    const browser = await ws();
    const node = await tcp();
    const got = collect(browser, 'with.headers');
    await browser.flush();
    const h = headers();
    h.set('X-Trace', 'abc-123');
    h.append('X-Multi', 'one');
    h.append('X-Multi', 'two');
    node.publish('with.headers', 'body', { headers: h });
    await node.flush();
    await until(() => got.length === 1, 'the message with headers');
    assert.equal(got[0].headers?.get('X-Trace'), 'abc-123');
    assert.deepEqual(got[0].headers?.values('X-Multi'), ['one', 'two']);
    assert.equal(got[0].string(), 'body');
  });

  it('websocket - request/reply: a WebSocket client calls a TCP service and answers one', async () => {
    const browser = await ws();
    const node = await tcp();
    node.subscribe('svc.upper', { callback: (_err, msg) => void msg.respond(msg.string().toUpperCase()) });
    browser.subscribe('svc.echo', { callback: (_err, msg) => void msg.respond(`echo:${msg.string()}`, { headers: msg.headers }) });
    await node.flush();
    await browser.flush();
    const upper = await browser.request('svc.upper', 'shout', { timeout: 2_000 });
    assert.equal(upper.string(), 'SHOUT');
    const h = headers();
    h.set('Id', '7');
    const echoed = await node.request('svc.echo', 'hi', { timeout: 2_000, headers: h });
    assert.equal(echoed.string(), 'echo:hi');
    assert.equal(echoed.headers?.get('Id'), '7');
    await assert.rejects(browser.request('svc.nobody', '', { timeout: 1_000 }), /no responders/i);
  });

  it('websocket - operations split over frames and several operations per frame', async () => {
    const node = await tcp();
    const fromRaw = collect(node, 'raw.in.>');
    await node.flush();
    const raw = await RawWebSocket.open(setup.wsUrl);
    await raw.until((t) => t.startsWith('INFO ') && t.includes('\r\n'));
    // CONNECT, SUB and PING in one frame.
    raw.frame('CONNECT {"verbose":false,"headers":true}\r\nSUB raw.back 1\r\nPING\r\n');
    await raw.until((t) => t.includes('PONG\r\n'));
    // One PUB cut at awkward places: inside the verb, the subject, the size, the payload, the CRLF.
    for (const piece of ['PU', 'B raw.in.sp', 'lit 1', '1\r\nhello', ' worl', 'd\r', '\n']) raw.frame(piece);
    // An HPUB whose header block spans two frames, followed by two PUBs in the same frame.
    const hdr = 'NATS/1.0\r\nK: v\r\n\r\n';
    const hpub = `HPUB raw.in.headers ${hdr.length} ${hdr.length + 2}\r\n${hdr}hi\r\n`;
    raw.frame(hpub.slice(0, 20));
    raw.frame(`${hpub.slice(20)}PUB raw.in.a 1\r\nA\r\nPUB raw.back 4\r\nback\r\nPING\r\n`);
    const text = await raw.until((t) => t.split('PONG\r\n').length === 3);
    assert.match(text, /MSG raw\.back 1 4\r\nback\r\n/);
    await node.flush();
    await until(() => fromRaw.length === 3, 'three messages from the raw client');
    assert.deepEqual(fromRaw.map((m) => [m.subject, m.string()]), [['raw.in.split', 'hello world'], ['raw.in.headers', 'hi'], ['raw.in.a', 'A']]);
    assert.equal(fromRaw[1].headers?.get('K'), 'v');
    raw.close();
  });

  it('websocket - one byte per frame still parses', async () => {
    const raw = await RawWebSocket.open(setup.wsUrl);
    await raw.until((t) => t.includes('\r\n'));
    for (const byte of Buffer.from('CONNECT {"verbose":false}\r\nSUB one.byte 9\r\nPUB one.byte 3\r\nabc\r\n')) raw.frame(Buffer.from([byte]));
    const text = await raw.until((t) => t.includes('MSG one.byte 9 3\r\nabc\r\n'));
    assert.doesNotMatch(text, /-ERR/);
    raw.close();
  });

  // Current nats-server answers 404 here ("[FIXED] WebSocket /mqtt upgrade panics when MQTT
  // is disabled"); Debian's 2.9.10 predates that fix and upgrades, so only Switchboard is held to it.
  it('websocket - /mqtt answers 404 while no MQTT endpoint is wired', { skip: target.name !== 'switchboard' && 'nats-server 2.9 predates the 404' }, async () => {
    assert.equal(await RawWebSocket.refusedStatus(`${setup.wsUrl}/mqtt`, {}, ['mqtt']), 404);
  });

  it('websocket - wsconnect works unchanged on Node 20 with --experimental-websocket', async () => {
    // The native (undici) WebSocket the flag enables is what wsconnect expects in browsers and Node 22.
    const script = `
      import { wsconnect } from '@nats-io/nats-core';
      const nc = await wsconnect({ servers: ${JSON.stringify(setup.wsUrl)} });
      const sub = nc.subscribe('native.ws', { max: 1 });
      nc.publish('native.ws', 'native-ok');
      for await (const m of sub) console.log('GOT ' + m.string());
      await nc.close();`;
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const out = await waitForOutput(child, 'GOT native-ok', 10_000);
      assert.match(out, /GOT native-ok/);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });
});

for (const target of wsTargets()) describe(`nats over websocket upgrade checks (${target.name})`, { peers: target.peers }, () => {
  let setup: WsEndpoints | undefined;
  after(() => setup?.stop());
  async function restart(options: WsTargetOptions): Promise<WsEndpoints> {
    await setup?.stop();
    setup = await target.start(options);
    return setup;
  }

  it('websocket - origins outside allowed_origins get 403; listed or absent origins connect', async () => {
    const { wsUrl: url } = await restart({ allowedOrigins: ['http://app.example.com', 'https://secure.example.com:8443'] });
    assert.equal(await RawWebSocket.refusedStatus(url, { origin: 'http://evil.example.com' }), 403);
    assert.equal(await RawWebSocket.refusedStatus(url, { origin: 'https://app.example.com' }), 403, 'scheme must match');
    assert.equal(await RawWebSocket.refusedStatus(url, { origin: 'https://secure.example.com' }), 403, 'port must match');
    for (const origin of ['http://app.example.com', 'http://APP.example.com:80', 'https://secure.example.com:8443', undefined]) {
      const raw = await RawWebSocket.open(url, origin === undefined ? {} : { origin });
      await raw.until((t) => t.startsWith('INFO '));
      raw.close();
    }
  });

  it('websocket - same_origin accepts only the origin the page was served from', async () => {
    const { wsUrl: url, wsPort } = await restart({ sameOrigin: true });
    assert.equal(await RawWebSocket.refusedStatus(url, { origin: 'http://127.0.0.1:1' }), 403);
    // The scheme must match too since nats-server v2.14.0 ("Enforce scheme matching in
    // WebSocket origin check"); Debian's 2.9.10 compares host and port only.
    if (target.name === 'switchboard') assert.equal(await RawWebSocket.refusedStatus(url, { origin: `https://127.0.0.1:${wsPort}` }), 403);
    const raw = await RawWebSocket.open(url, { origin: `http://127.0.0.1:${wsPort}` });
    await raw.until((t) => t.startsWith('INFO '));
    raw.close();
  });

  it('websocket - permessage-deflate is negotiated only when compression is on', async () => {
    const plainServer = await restart({});
    const plain = await RawWebSocket.open(plainServer.wsUrl, { perMessageDeflate: true });
    assert.equal(plain.socket.extensions, '');
    plain.close();
    const compressedServer = await restart({ compression: true });
    const compressed = await RawWebSocket.open(compressedServer.wsUrl, { perMessageDeflate: true });
    assert.match(compressed.socket.extensions, /permessage-deflate/);
    await compressed.until((t) => t.startsWith('INFO '));
    compressed.frame('CONNECT {"verbose":false}\r\nSUB z 1\r\n');
    compressed.frame(`PUB z 2000\r\n${'x'.repeat(2000)}\r\n`);
    await compressed.until((t) => t.includes(`MSG z 1 2000\r\n${'x'.repeat(2000)}\r\n`));
    compressed.close();
  });
});

describe('websocket gateway upgrade credentials and counters', () => {
  let setup: SwitchboardWs | undefined;
  after(() => setup?.stop());

  it('websocket - refused origins are counted', async () => {
    setup = await startSwitchboardWs({ allowedOrigins: ['http://app.example.com'] });
    await RawWebSocket.refusedStatus(setup.gateway.url, { origin: 'http://evil.example.com' });
    assert.equal(setup.gateway.stats.rejectedOrigins, 1);
    await setup.stop();
    setup = undefined;
  });

  it('websocket - X-Forwarded-For names the client only when the proxy is trusted', async () => {
    const clientIp = async (url: string): Promise<string> => {
      const raw = await RawWebSocket.open(url, { headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } });
      const info = await raw.until((t) => t.includes('\r\n'));
      raw.close();
      return JSON.parse(info.slice('INFO '.length, info.indexOf('\r\n'))).client_ip;
    };
    setup = await startSwitchboardWs({ trustForwardedFor: true });
    assert.equal(await clientIp(setup.wsUrl), '203.0.113.7');
    await setup.stop();
    setup = await startSwitchboardWs();
    assert.equal(await clientIp(setup.wsUrl), '127.0.0.1');
    await setup.stop();
    setup = undefined;
  });

  it('websocket - credentials from a cookie or Authorization header count when CONNECT has none', async () => {
    const authorizer = new FixedAuthorizer({ token: 's3cret' }, { user: 'ann', pass: 'pw:with:colons' });
    setup = await startSwitchboardWs({ upgradeCredentials: { tokenCookie: 'nats_token' }, authorizer }, {}, { authorizer });
    const url = setup.gateway.url;
    // wsconnect cannot set headers; a browser sends the cookie by itself.
    const byCookie = await RawWebSocket.open(url, { headers: { cookie: 'other=1; nats_token=s3cret' } });
    const byBasic = await RawWebSocket.open(url, { headers: { authorization: `Basic ${Buffer.from('ann:pw:with:colons').toString('base64')}` } });
    const byBearer = await RawWebSocket.open(url, { headers: { authorization: 'Bearer s3cret' } });
    for (const raw of [byCookie, byBasic, byBearer]) {
      await raw.until((t) => t.includes('"auth_required":true'));
      raw.frame('CONNECT {"verbose":false}\r\nPING\r\n');
      await raw.until((t) => t.includes('PONG\r\n'));
      raw.close();
    }
    // Wrong credentials at upgrade are refused before the upgrade.
    assert.equal(await RawWebSocket.refusedStatus(url, { headers: { cookie: 'nats_token=wrong' } }), 401);
    // No upgrade credentials: CONNECT decides, as on TCP.
    const none = await RawWebSocket.open(url);
    await none.until((t) => t.startsWith('INFO '));
    none.frame('CONNECT {"verbose":false,"auth_token":"wrong"}\r\nPING\r\n');
    await none.until((t) => t.includes('-ERR \'Authorization Violation\''));
    none.close();
    await setup.stop();
    setup = undefined;
  });
});

/** A test authorizer: exactly the given credential sets are accepted. */
class FixedAuthorizer implements Authorizer {
  readonly authRequired = true;
  private readonly accepted: Credentials[];
  constructor(...accepted: Credentials[]) {
    this.accepted = accepted;
  }
  authenticate(credentials: Credentials): Principal | null {
    const ok = this.accepted.some((a) => (a.token !== undefined && a.token === credentials.token) || (a.user !== undefined && a.user === credentials.user && a.pass === credentials.pass));
    return ok ? UNRESTRICTED_PRINCIPAL : null;
  }
}

