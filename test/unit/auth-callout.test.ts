// Auth callout (ADR-26) without a network: the auth_callout block's checks,
// and how an answer is judged (core/auth/callout-response.ts). Answers are
// built with @nats-io/jwt as a service would; each forgery must be refused.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeAuthorizationResponse, encodeUser, type UserPermissionsLimits } from '@nats-io/jwt';
import { createAccount, createCurve, createServer, createUser, type KeyPair } from '@nats-io/nkeys';
import { CalloutRejection, verifyAuthorizationResponse, type CalloutExpectation } from '../../core/auth/callout-response.ts';
import { ConfigError } from '../../core/config/config-error.ts';
import { parseNatsConf } from '../../core/config/nats-conf.ts';
import { buildConfig } from '../../core/config/switchboard-config.ts';
import { configExtensions } from '../../gateways/registry.ts';

const issuer = createAccount();
const server = createServer();

function conf(callout: string, users = '{ user: auth, password: pwd }'): unknown {
  return parseNatsConf(`authorization { users: [ ${users} ]\n auth_callout { ${callout} } }`);
}

function configError(wire: unknown, key: RegExp): void {
  assert.throws(() => buildConfig(wire as Record<string, unknown>, () => undefined, configExtensions()), (e: unknown) => e instanceof ConfigError && key.test(e.key));
}

describe('auth callout - configuration', () => {
  it('auth callout - the block of nats-server parses: issuer, auth_users, account $G, xkey', () => {
    const xkey = createCurve().getPublicKey();
    const config = buildConfig(conf(`issuer: ${issuer.getPublicKey()}, auth_users: [ auth ], account: "$G", xkey: ${xkey}`) as Record<string, unknown>);
    assert.deepEqual(config.auth?.callout, { issuer: issuer.getPublicKey(), authUsers: ['auth'], account: '$G', xkey });
  });

  it('auth callout - bad blocks are refused with the key that is wrong', () => {
    const a = issuer.getPublicKey();
    configError(conf(`issuer: ${createUser().getPublicKey()}, auth_users: [ auth ]`), /auth_callout\.issuer$/);
    configError(conf(`issuer: ${a.slice(0, -1)}B, auth_users: [ auth ]`), /auth_callout\.issuer$/);
    configError(conf('auth_users: [ auth ]'), /auth_callout\.issuer$/);
    configError(conf(`issuer: ${a}`), /auth_callout\.auth_users$/);
    configError(conf(`issuer: ${a}, auth_users: [ nobody ]`), /auth_callout\.auth_users\[0\]$/);
    configError(conf(`issuer: ${a}, auth_users: [ auth ], xkey: ${a}`), /auth_callout\.xkey$/);
    configError(conf(`issuer: ${a}, auth_users: [ auth ], account: APP`), /auth_callout\.account$/);
    configError(conf(`issuer: ${a}, auth_users: [ auth ], allowed_accounts: [ APP ]`), /auth_callout\.allowed_accounts$/);
    configError(conf(`issuer: ${a}, auth_users: [ auth ], colour: blue`), /auth_callout\.colour$/);
    // nats-server's mqtt/websocket authorization blocks have no callout.
    configError(parseNatsConf(`mqtt { port: 1883, authorization { user: u, password: p, auth_callout { issuer: ${a}, auth_users: [ u ] } } }`), /mqtt\.authorization\.auth_callout$/);
  });
});

interface Answer {
  user?: Partial<UserPermissionsLimits>;
  error?: string;
  signer?: KeyPair;
  userSigner?: KeyPair;
  subject?: string;
  userSubject?: string;
  audience?: string;
  placement?: string;
  exp?: number;
}

async function answer(userNkey: string, a: Answer): Promise<Uint8Array> {
  const jwt = a.error !== undefined ? undefined : await encodeUser('', a.userSubject ?? userNkey, a.userSigner ?? issuer, a.user ?? {}, { aud: a.placement ?? '$G', ...(a.exp === undefined ? {} : { exp: a.exp }) });
  const token = await encodeAuthorizationResponse(a.subject ?? userNkey, a.audience ?? server.getPublicKey(), a.signer ?? issuer, a.error !== undefined ? { error: a.error } : { jwt }, {});
  return new TextEncoder().encode(token);
}

function expectation(userNkey: string): CalloutExpectation {
  return { userNkey, serverId: server.getPublicKey(), issuer: issuer.getPublicKey(), client: { type: 'mqtt' }, now: Date.now() };
}

async function rejects(a: Answer, reason: RegExp): Promise<void> {
  const userNkey = createUser().getPublicKey();
  const payload = await answer(userNkey, a);
  assert.throws(() => verifyAuthorizationResponse(payload, expectation(userNkey)), (e: unknown) => e instanceof CalloutRejection && reason.test(e.message));
}

describe('auth callout - judging the answer', () => {
  it('auth callout - a valid answer gives the JWT permissions (resp ttl from nanoseconds), name and expiry', async () => {
    const userNkey = createUser().getPublicKey();
    const exp = Math.floor(Date.now() / 1000) + 60;
    const user = { pub: { allow: ['a.>'], deny: ['a.b'] }, sub: { allow: ['a.>'] }, resp: { max: 2, ttl: 5e9 } };
    const payload = await answer(userNkey, { user, exp });
    const granted = verifyAuthorizationResponse(payload, expectation(userNkey));
    assert.deepEqual(granted.permissions, { publish: { allow: ['a.>'], deny: ['a.b'] }, subscribe: { allow: ['a.>'] }, allowResponses: { maxMsgs: 2, expiresMs: 5000 } });
    assert.equal(granted.expiresAt, exp * 1000);
  });

  it('auth callout - forged, misaddressed, replayed, errored or unenforceable answers are refused', async () => {
    await rejects({ error: 'nope' }, /Auth callout service returned an error: nope/);
    await rejects({ userSigner: createAccount() }, /Wrong issuer/);
    await rejects({ subject: createUser().getPublicKey() }, /not for expected user/);
    await rejects({ userSubject: createUser().getPublicKey() }, /Expected authorized user/);
    await rejects({ audience: createServer().getPublicKey() }, /not for server/);
    await rejects({ placement: 'APP' }, /No valid account "APP"/);
    await rejects({ exp: Math.floor(Date.now() / 1000) - 10 }, /expired/);
    await rejects({ user: { allowed_connection_types: ['STANDARD'] } }, /invalid connection type/);
    await rejects({ user: { src: ['10.0.0.0/8'] } }, /src/);
    assert.throws(() => verifyAuthorizationResponse(new Uint8Array(), expectation(createUser().getPublicKey())), /no reason supplied/);
    const userNkey = createUser().getPublicKey();
    // A character inside the signature: the last one of its base64url also carries padding bits, and
    // changing only those leaves the decoded signature valid (the test then failed one time in four).
    const token = Buffer.from(await answer(userNkey, {})).toString();
    const at = token.length - 10;
    const tampered = token.slice(0, at) + (token[at] === 'A' ? 'g' : 'A') + token.slice(at + 1);
    assert.throws(() => verifyAuthorizationResponse(Buffer.from(tampered), expectation(userNkey)), CalloutRejection);
  });
});
