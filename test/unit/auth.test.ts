// Unit checks for the auth building blocks that the NATS differential test
// cannot reach cheaply: reply-tracker limits and bounds, config validation.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplyTracker } from '../../core/auth/reply-tracker.ts';
import { isBcryptHash, verifySecret } from '../../core/auth/secrets.ts';
import { parseAuthorization } from '../../core/config/auth-options.ts';
import { ConfigError } from '../../core/config/config-error.ts';
import type { Principal } from '../../core/auth/authorizer.ts';
import { UserAuthorizer } from '../../core/auth/user-authorizer.ts';

describe('auth units', () => {
  it('reply tracker - allows max responses within expires, then refuses', () => {
    let now = 1_000;
    const t = new ReplyTracker({ maxMsgs: 2, expiresMs: 100 }, () => now);
    t.noteReply('r.1');
    t.noteReply('r.2');
    assert.equal(t.allowResponse('r.1'), true);
    assert.equal(t.allowResponse('r.1'), true);
    assert.equal(t.allowResponse('r.1'), false);
    assert.equal(t.allowResponse('r.unknown'), false);
    now += 101;
    assert.equal(t.allowResponse('r.2'), false);
  });

  it('reply tracker - stays bounded under a flood of requests', () => {
    const t = new ReplyTracker({ maxMsgs: 1, expiresMs: 0 }, () => 0);
    for (let i = 0; i < 70_000; i++) t.noteReply(`r.${i}`);
    assert.ok(t.size <= 65_536, `size ${t.size}`);
    assert.equal(t.allowResponse('r.69999'), true);
    assert.equal(t.allowResponse('r.0'), false);
  });

  it('reply tracker - prunes expired entries as new requests arrive', () => {
    let now = 0;
    const t = new ReplyTracker({ maxMsgs: 1, expiresMs: 10 }, () => now);
    for (let i = 0; i < 100; i++) t.noteReply(`old.${i}`);
    now = 5_000;
    t.noteReply('new');
    assert.equal(t.size, 1);
  });

  it('secrets - plain and bcrypt secrets verify; malformed hashes match nothing', () => {
    assert.equal(verifySecret('abc', 'abc'), true);
    assert.equal(verifySecret('abc', 'abd'), false);
    assert.equal(verifySecret('abc', undefined), false);
    // bcrypt of "pw" at cost 4.
    const hash = '$2b$04$vn.dnhEIFUKTGt/5/XiNEeMNPLqz2.YhcGOf5dGPGiR/2JqmQzKjG';
    assert.equal(isBcryptHash(hash), true);
    assert.equal(verifySecret(hash, 'pw'), true);
    assert.equal(verifySecret(hash, 'pw'), true, 'second check (cached)');
    assert.equal(verifySecret(hash, 'px'), false);
    assert.equal(verifySecret('$2x$04$broken', 'pw'), false);
  });

  it('config - auth errors name the key and the reason', () => {
    const cases: Array<[unknown, unknown, string, RegExp]> = [
      [{ token: 't', users: [{ user: 'a', password: 'p' }] }, undefined, 'authorization.token', /cannot be combined/],
      [{ users: [{ user: 'a', password: 'p' }] }, 'b', 'no_auth_user', /not one of the configured users/],
      [{ users: [{ user: 'a' }] }, undefined, 'authorization.users[0].password', /required/],
      [{ users: [{ user: 'a', password: 'p', permissions: { publish: ['a..b'] } }] }, undefined, 'authorization.users[0].permissions.publish[0]', /not a valid subject/],
      [{ users: [{ user: 'a', password: 'p', permissions: { publish: { allow: ['x'], denied: ['y'] } } }] }, undefined, 'authorization.users[0].permissions.publish.denied', /unknown key/],
      [{ users: [{ user: 'a', password: 'p', permissions: { allow_responses: { expires: '5 min' } } }] }, undefined, 'authorization.users[0].permissions.allow_responses.expires', /duration/],
      [{ users: [{ user: 'a', password: 'p' }, { user: 'a', password: 'q' }] }, undefined, 'authorization.users[1].user', /duplicate/],
      [{ users: [{ user: 'a', password: 'p', rate_limit: { max: 0 } }] }, undefined, 'authorization.users[0].rate_limit.max', /positive integer/],
      [{ users: [{ user: 'a', password: 'p', rate_limit: { max: 5, per: '1s' } }] }, undefined, 'authorization.users[0].rate_limit.per', /unknown key/],
      [{ users: [{ user: 'a', password: 'p', rate_limit: { max: 5, window: '0s' } }] }, undefined, 'authorization.users[0].rate_limit.window', /longer than 0/],
    ];
    for (const [wire, noAuthUser, key, reason] of cases) {
      assert.throws(() => parseAuthorization(wire, noAuthUser), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.key, key);
        assert.match(error.reason, reason);
        return true;
      });
    }
  });

  it('config - a user rate_limit {max, window} reaches the Principal (default window 1s)', () => {
    const auth = parseAuthorization({ users: [
      { user: 'a', password: 'p', rate_limit: { max: 10, window: '1m' } },
      { user: 'b', password: 'p', rate_limit: { max: 3 }, permissions: { publish: ['x'] } },
      { user: 'c', password: 'p' },
    ] }, undefined);
    assert.deepEqual(auth.users.map((u) => u.rateLimit), [{ max: 10, windowMs: 60_000 }, { max: 3, windowMs: 1_000 }, undefined]);
    const authorizer = new UserAuthorizer(auth);
    const limits = ['a', 'b', 'c'].map((user) => (authorizer.authenticate({ user, pass: 'p' }) as Principal).rateLimit);
    assert.deepEqual(limits, [{ max: 10, windowMs: 60_000 }, { max: 3, windowMs: 1_000 }, undefined]);
  });

  it('config - allow_responses maps true and {max, expires}', () => {
    const auth = parseAuthorization({ users: [
      { user: 'a', password: 'p', permissions: { allow_responses: true } },
      { user: 'b', password: 'p', permissions: { allow_responses: { max: 5, expires: '1m30s' } } },
    ] }, undefined);
    assert.deepEqual(auth.users[0].permissions?.allowResponses, { maxMsgs: 1, expiresMs: 120_000 });
    assert.deepEqual(auth.users[1].permissions?.allowResponses, { maxMsgs: 5, expiresMs: 90_000 });
  });
});
