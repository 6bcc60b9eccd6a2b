// HTTP gateway: browser access as a configured policy (issue 26), checked with
// curl over real sockets: CORS (preflight, allowed and refused origins, no CORS
// headers without a policy), the login session cookie (HttpOnly, SameSite,
// reads only, revocable, expiring) and per-user rate limits (429, Retry-After).
// http-browser.test.ts drives the same from a page in headless chromium.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthorizer } from '../../core/auth/create-authorizer.ts';
import { ReloadableAuthorizer } from '../../core/auth/reloadable-authorizer.ts';
import { curlAnswer, startHttpFixture, type HttpFixture } from './http-fixture.ts';

const APP_ORIGIN = 'http://app.example:5173';

const users = () =>
  createAuthorizer({
    users: [
      { user: 'alice', password: 'pw-alice', permissions: { publish: { allow: ['feed.>'] }, subscribe: { allow: ['feed.>'] } } },
      { user: 'limited', password: 'pw-limited', rateLimit: { max: 2, windowMs: 10_000 } },
    ],
  });

describe('http browser access without a cors policy', { peers: ['curl'] }, () => {
  let f: HttpFixture;
  before(async () => {
    f = await startHttpFixture({ authorizer: users() });
  });
  after(async () => f?.stop());

  it('http cors - without a policy no response carries Access-Control headers and a preflight is refused', async () => {
    const preflight = await curlAnswer(['-X', 'OPTIONS', '-H', `Origin: ${APP_ORIGIN}`, '-H', 'Access-Control-Request-Method: POST', `${f.base}/v1/subjects/feed.a`]);
    assert.equal(preflight.status, 405);
    assert.equal(preflight.headers.get('access-control-allow-origin'), undefined);
    const get = await curlAnswer(['-H', `Origin: ${APP_ORIGIN}`, `${f.base}/healthz`]);
    assert.equal(get.status, 200);
    assert.ok(![...get.headers.keys()].some((name) => name.startsWith('access-control-')), [...get.headers.keys()].join(','));
  });
});

describe('http browser access with a cors policy, sessions and rate limits', { peers: ['curl'] }, () => {
  let f: HttpFixture;
  let dir: string;
  // As main.ts builds it: a config reload swaps the rules in place.
  const authorizer = new ReloadableAuthorizer(users());
  const jar = (name: string): string => join(dir, name);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-cookies-'));
    f = await startHttpFixture({ authorizer, cors: { allowedOrigins: [APP_ORIGIN], credentials: true, maxAgeSeconds: 120 }, sessions: { ttlMs: 1_500 } });
  });
  after(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('http cors - a preflight from an allowed origin is answered with the policy; another origin gets no grant', async () => {
    const preflight = await curlAnswer([
      '-X', 'OPTIONS',
      '-H', `Origin: ${APP_ORIGIN}`,
      '-H', 'Access-Control-Request-Method: POST',
      '-H', 'Access-Control-Request-Headers: authorization, content-type, idempotency-key',
      `${f.base}/v1/subjects/feed.a`,
    ]);
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(preflight.headers.get('access-control-max-age'), '120');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization, content-type, idempotency-key/);
    const refused = await curlAnswer(['-X', 'OPTIONS', '-H', 'Origin: https://evil.example', '-H', 'Access-Control-Request-Method: POST', `${f.base}/v1/subjects/feed.a`]);
    assert.equal(refused.headers.get('access-control-allow-origin'), undefined);
    const simple = await curlAnswer(['-H', `Origin: ${APP_ORIGIN}`, `${f.base}/healthz`]);
    assert.equal(simple.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.match(simple.headers.get('vary') ?? '', /Origin/);
    assert.match(simple.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    // An event stream (the response is written by hand after hijack) carries the grant too.
    const stream = await curlAnswer(['-I', '-H', `Origin: ${APP_ORIGIN}`, '-u', 'alice:pw-alice', `${f.base}/v1/subjects/feed.a`]);
    assert.deepEqual([stream.status, stream.headers.get('access-control-allow-origin'), stream.headers.get('access-control-allow-credentials')], [200, APP_ORIGIN, 'true']);
  });

  it('http session - login sets an HttpOnly SameSite=Strict cookie that authenticates reads, never writes, until logout', async () => {
    const login = await curlAnswer(['-X', 'POST', '-u', 'alice:pw-alice', '-c', jar('alice'), `${f.base}/v1/login`]);
    assert.equal(login.status, 201, login.body);
    assert.equal(JSON.parse(login.body).user, 'alice');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^switchboard_session=[A-Za-z0-9_-]{43};/);
    for (const attribute of [/HttpOnly/, /SameSite=Strict/, /Path=\/v1/, /Max-Age=1\b/]) assert.match(cookie, attribute);
    // The cookie alone: reads work (here a subscription's headers)...
    const head = await curlAnswer(['-I', '-b', jar('alice'), `${f.base}/v1/subjects/feed.x`]);
    assert.equal(head.status, 200);
    const denied = await curlAnswer(['-I', '-b', jar('alice'), `${f.base}/v1/subjects/other.x`]);
    assert.equal(denied.status, 403);
    // ...a write does not (a cookie rides on requests other pages make).
    const write = await curlAnswer(['-b', jar('alice'), '--data-binary', 'x', `${f.base}/v1/subjects/feed.x`]);
    assert.equal(write.status, 401);
    assert.match(JSON.parse(write.body).detail, /session cookie authenticates GET and HEAD only/);
    const logout = await curlAnswer(['-X', 'POST', '-b', jar('alice'), `${f.base}/v1/logout`]);
    assert.equal(logout.status, 204);
    const revoked = await curlAnswer(['-I', '-b', jar('alice'), `${f.base}/v1/subjects/feed.x`]);
    assert.equal(revoked.status, 401);
  });

  it('http session - a session expires after its max_age; wrong credentials get none', async () => {
    assert.equal((await curlAnswer(['-X', 'POST', '-u', 'alice:nope', `${f.base}/v1/login`])).status, 401);
    assert.equal((await curlAnswer(['-X', 'POST', `${f.base}/v1/login`])).status, 401);
    assert.equal((await curlAnswer(['-X', 'POST', '-u', 'alice:pw-alice', '-c', jar('short'), `${f.base}/v1/login`])).status, 201);
    assert.equal((await curlAnswer(['-I', '-b', jar('short'), `${f.base}/v1/subjects/feed.x`])).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    // curl drops the cookie once Max-Age passed; send it by hand as a stale browser would.
    const stale = (await curlAnswer(['-X', 'POST', '-u', 'alice:pw-alice', `${f.base}/v1/login`])).headers.get('set-cookie') ?? '';
    const id = /switchboard_session=([^;]+)/.exec(stale)?.[1];
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const expired = await curlAnswer(['-H', `Cookie: switchboard_session=${id}`, `${f.base}/v1/subjects/feed.x`]);
    assert.equal(expired.status, 401);
    assert.match(JSON.parse(expired.body).detail, /expired or was revoked/);
  });

  it('http session - a config reload ends every session: users log in again under the new rules', async () => {
    assert.equal((await curlAnswer(['-X', 'POST', '-u', 'alice:pw-alice', '-c', jar('reload'), `${f.base}/v1/login`])).status, 201);
    assert.equal((await curlAnswer(['-I', '-b', jar('reload'), `${f.base}/v1/subjects/feed.x`])).status, 200);
    await authorizer.replace(users());
    assert.equal(f.gateway.sessions.size, 0);
    assert.equal((await curlAnswer(['-I', '-b', jar('reload'), `${f.base}/v1/subjects/feed.x`])).status, 401);
  });

  it('http rate limit - a user over their rate_limit gets 429 with Retry-After; other users are not counted', async () => {
    const url = `${f.base}/v1/subjects/limited.x`;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await curlAnswer(['-u', 'limited:pw-limited', '--data-binary', `m${i}`, url]));
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 429]);
    const limited = answers[2];
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After ${retryAfter}`);
    const problem = JSON.parse(limited.body);
    assert.equal(problem.code, 'rate_limited');
    assert.equal(problem.limit, 2);
    assert.equal(problem.principal, 'limited');
    for (let i = 0; i < 5; i++) assert.equal((await curlAnswer(['-u', 'alice:pw-alice', '--data-binary', 'x', `${f.base}/v1/subjects/feed.y`])).status, 202);
  });
});
