// Auth callout (issue 21 item 4; ADR-26): a callout service written only with
// the official clients (test/helpers/callout-service.ts) accepts alice,
// refuses mallory, lets a silent answer time out, and scopes alice to alice.>,
// over NATS, MQTT and HTTP alike; the same service, unchanged, against
// nats-server 2.15 (peer nats-server-new) with the same auth_callout block.

import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AuthorizationRequest } from '@nats-io/jwt';
import { createAccount, createCurve, type KeyPair } from '@nats-io/nkeys';
import { buildConfig, type SwitchboardConfig } from '../../core/config/switchboard-config.ts';
import { silentLogger } from '../../core/server/logger.ts';
import { createApp, type App } from '../../gateways/main.ts';
import { configExtensions } from '../../gateways/registry.ts';
import { startCalloutService, type CalloutDecision, type CalloutService } from '../helpers/callout-service.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { freePort, startNewNatsServer, type RunningServer } from '../helpers/servers.ts';

const ALICE_RULES = { pub: { allow: ['alice.>', '_INBOX.>'] }, sub: { allow: ['alice.>', '_INBOX.>'] } };

/** The service's policy: the same for every server it runs against. */
function decide(request: AuthorizationRequest): CalloutDecision {
  const o = request.connect_opts;
  if (o.user === 'alice' && o.pass === 'alice-pw') return { user: ALICE_RULES };
  if (o.auth_token === 'bob-token') return { user: {}, name: 'bob' };
  if (o.user === 'shortlived' && o.pass === 'pw') return { user: {}, expiresInS: 1 };
  if (o.user === 'silent') return 'no-answer';
  return { error: 'unknown user or wrong password' };
}

function calloutBlock(issuer: KeyPair, xkey?: KeyPair): Record<string, unknown> {
  return {
    timeout: 1,
    users: [{ user: 'auth', password: 'pwd' }],
    auth_callout: { issuer: issuer.getPublicKey(), auth_users: ['auth'], ...(xkey === undefined ? {} : { xkey: xkey.getPublicKey() }) },
  };
}

function appConfig(authorization: Record<string, unknown>): SwitchboardConfig {
  const wire = { host: '127.0.0.1', port: 0, server_name: 'A', monitor: false, jetstream: false, mqtt: { port: 0 }, http_gateway: { port: 0 }, websocket: false, authorization };
  return buildConfig(wire, () => undefined, configExtensions());
}

function startApp(authorization: Record<string, unknown>): App {
  return createApp(appConfig(authorization), silentLogger());
}

function gatewayPort(app: App, name: string): number {
  const listener = app.gateways.components.get(name)?.listener;
  assert.ok(listener !== undefined, `${name} listens`);
  return listener.boundPort();
}

/** What reaches an unrestricted observer on `subjects`, after a round trip of the publisher. */
async function observe(port: number, subjects: string[], act: () => Promise<void>): Promise<string[]> {
  const observer = await connect({ port, user: 'auth', pass: 'pwd' });
  try {
    const seen: string[] = [];
    for (const s of subjects) observer.subscribe(s, { callback: (_e, m) => void seen.push(m.subject) });
    await observer.flush();
    await act();
    // The allowed message comes last: once it is here, an earlier denied one would be too.
    const deadline = Date.now() + 3_000;
    while (!seen.includes(subjects[subjects.length - 1]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return seen;
  } finally {
    await observer.close();
  }
}

/** `client` publishes `denied` then `allowed`: only `allowed` reaches an unrestricted observer. */
async function onlyAllowedArrives(port: number, client: NatsConnection, denied: string, allowed: string): Promise<void> {
  try {
    const seen = await observe(port, [denied, allowed], async () => {
      client.publish(denied, 'denied');
      client.publish(allowed, 'allowed');
      await client.flush();
    });
    assert.deepEqual(seen, [allowed]);
  } finally {
    await client.close();
  }
}

/** alice over NATS: admitted, and only alice.> gets through. */
async function natsScopes(port: number): Promise<void> {
  await onlyAllowedArrives(port, await connect({ port, user: 'alice', pass: 'alice-pw', reconnect: false }), 'other.x', 'alice.x');
}

async function natsRefuses(port: number, options: { user?: string; pass?: string; token?: string }, silent = false): Promise<void> {
  // A silent service: the callout waits the auth timeout, which the connection's own auth timer may end first.
  await assert.rejects(connect({ port, ...options, reconnect: false }), silent ? /Authorization Violation|Authentication Timeout/i : /Authorization Violation/i);
}

describe('auth callout - Switchboard', () => {
  const issuer = createAccount();
  let app: App;
  let service: CalloutService;
  before(async () => {
    app = startApp(calloutBlock(issuer));
    await app.start();
    service = await startCalloutService({ port: app.nats.port, user: 'auth', pass: 'pwd', issuer, decide });
  });
  after(async () => {
    await service?.close();
    await app?.stop();
  });

  it('auth callout - NATS: the service admits alice with its permissions; the request is signed by the server and describes the client', async () => {
    const before = service.requests.length;
    await natsScopes(app.nats.port);
    const request = service.requests[before];
    assert.equal(request.connect_opts.user, 'alice');
    assert.equal(request.connect_opts.pass, 'alice-pw');
    assert.equal(request.client_info.type, 'nats');
    assert.equal(request.client_info.host, '127.0.0.1');
    assert.equal(request.server_id.name, 'A');
    assert.match(request.user_nkey, /^U[A-Z2-7]{55}$/);
    // The request's signer is the server id the answer must be addressed to.
    assert.equal(service.signers[before], request.server_id.id);
  });

  it('auth callout - NATS: an error answer, a silent service and the auth users\' wrong password are refused', async () => {
    await natsRefuses(app.nats.port, { user: 'mallory', pass: 'x' });
    await natsRefuses(app.nats.port, { user: 'silent', pass: 'x' }, true);
    const calls = service.requests.length;
    // An auth user is checked against the configured users, never sent to the service.
    await natsRefuses(app.nats.port, { user: 'auth', pass: 'wrong' });
    assert.equal(service.requests.length, calls);
  });

  it('auth callout - NATS: a token reaches the service redacted in client_info; the JWT name becomes the user', async () => {
    const bob = await connect({ port: app.nats.port, token: 'bob-token', reconnect: false });
    await bob.close();
    const request = service.requests[service.requests.length - 1];
    assert.equal(request.connect_opts.auth_token, 'bob-token');
    assert.equal(request.client_info.user, '[REDACTED]');
  });

  it('auth callout - NATS: a callout user may not publish to $SYS.REQ.USER.AUTH (it is in the callout account)', async () => {
    const bob = await connect({ port: app.nats.port, token: 'bob-token', reconnect: false });
    await onlyAllowedArrives(app.nats.port, bob, '$SYS.REQ.USER.AUTH', 'bob.done');
  });

  it('auth callout - NATS: the connection ends when the user JWT expires', async () => {
    const nc: NatsConnection = await connect({ port: app.nats.port, user: 'shortlived', pass: 'pw', reconnect: false });
    const started = Date.now();
    const ended = await Promise.race([nc.closed().then(() => true), new Promise((r) => setTimeout(() => r(false), 4_000))]);
    assert.equal(ended, true, 'closed at the JWT expiry');
    assert.ok(Date.now() - started < 4_000);
  });

  it('auth callout - a reload asks the service again for each live connection, which keeps running', async () => {
    const alice = await connect({ port: app.nats.port, user: 'alice', pass: 'alice-pw', reconnect: false });
    const calls = service.requests.length;
    const outcome = await app.reload(appConfig(calloutBlock(issuer)));
    assert.equal(outcome.revoked, 0);
    assert.ok(service.requests.slice(calls).some((r) => r.connect_opts.user === 'alice'), 'alice checked again by the service');
    await onlyAllowedArrives(app.nats.port, alice, 'other.x', 'alice.x');
  });

  it('auth callout - MQTT: alice is admitted and scoped; mallory is refused in CONNACK', async () => {
    const url = `mqtt://127.0.0.1:${gatewayPort(app, 'mqtt')}`;
    await assert.rejects(connectMqtt(url, { protocolVersion: 4, username: 'mallory', password: 'x', reconnectPeriod: 0 }), /Bad username or password|Not authorized/i);
    const alice = await connectMqtt(url, { protocolVersion: 4, username: 'alice', password: 'alice-pw', reconnectPeriod: 0 });
    try {
      const seen = await observe(app.nats.port, ['other.x', 'alice.x'], async () => {
        await alice.publishAsync('other/x', 'denied', { qos: 1 });
        await alice.publishAsync('alice/x', 'allowed', { qos: 1 });
      });
      assert.deepEqual(seen, ['alice.x']);
      const request = [...service.requests].reverse().find((r) => r.client_info.type === 'mqtt');
      assert.equal(request?.connect_opts.user, 'alice');
      assert.ok(request?.client_info.mqtt_id, 'the MQTT client id is in client_info');
    } finally {
      await alice.endAsync();
    }
  });

  it('auth callout - HTTP: Basic alice publishes in scope, is refused out of scope; mallory gets 401; Bearer uses the token', async () => {
    const base = `http://127.0.0.1:${gatewayPort(app, 'http_gateway')}`;
    const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const post = (subject: string, authorization: string) => fetch(`${base}/v1/subjects/${subject}`, { method: 'POST', headers: { authorization }, body: 'hi' });
    const seen = await observe(app.nats.port, ['other.x', 'alice.x'], async () => {
      assert.equal((await post('other.x', basic('alice', 'alice-pw'))).status, 403);
      const ok = await post('alice.x', basic('alice', 'alice-pw'));
      assert.ok(ok.status >= 200 && ok.status < 300, `status ${ok.status}`);
    });
    assert.deepEqual(seen, ['alice.x']);
    assert.equal((await post('alice.x', basic('mallory', 'x'))).status, 401);
    const bearer = await post('bob.x', 'Bearer bob-token');
    assert.ok(bearer.status >= 200 && bearer.status < 300, `status ${bearer.status}`);
    assert.equal([...service.requests].reverse().find((r) => r.client_info.type === 'http')?.connect_opts.auth_token, 'bob-token');
  });
});

describe('auth callout - Switchboard with xkey (sealed requests and answers)', () => {
  const issuer = createAccount();
  const xkey = createCurve();
  let app: App;
  let service: CalloutService;
  before(async () => {
    app = startApp(calloutBlock(issuer, xkey));
    await app.start();
    service = await startCalloutService({ port: app.nats.port, user: 'auth', pass: 'pwd', issuer, xkey, decide });
  });
  after(async () => {
    await service?.close();
    await app?.stop();
  });

  it('auth callout - xkey: the request names the server xkey; alice is admitted and scoped, mallory refused', async () => {
    await natsScopes(app.nats.port);
    await natsRefuses(app.nats.port, { user: 'mallory', pass: 'x' });
    assert.match(service.requests[0].server_id.xkey ?? '', /^X[A-Z2-7]{55}$/);
  });
});

/** nats-server's config with the same auth_callout block (its own syntax). */
function natsServerConf(issuer: KeyPair): string {
  return `server_name: A
authorization {
  timeout: 1
  users: [ { user: auth, password: pwd } ]
  auth_callout { issuer: ${issuer.getPublicKey()}, auth_users: [ auth ] }
}
`;
}

describe('auth callout - nats-server 2.15', { peers: ['nats-server-new'] }, () => {
  const issuer = createAccount();
  let port = 0;
  let server: RunningServer | undefined;
  let service: CalloutService;
  let dir = '';
  before(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'callout-'));
    const file = join(dir, 'server.conf');
    writeFileSync(file, natsServerConf(issuer));
    server = await startNewNatsServer(['-c', file], port);
    service = await startCalloutService({ port, user: 'auth', pass: 'pwd', issuer, decide });
  });
  after(async () => {
    await service?.close();
    await server?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('auth callout - nats-server: the same service admits and scopes alice, refuses mallory and a silent answer', async () => {
    await natsScopes(port);
    await natsRefuses(port, { user: 'mallory', pass: 'x' });
    await natsRefuses(port, { user: 'silent', pass: 'x' }, true);
    assert.equal(service.signers[0], service.requests[0].server_id.id);
  });
});
