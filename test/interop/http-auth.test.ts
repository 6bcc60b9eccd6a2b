// HTTP gateway: the shared user model. Bearer tokens and Basic user:password map
// to the same Principal and subject permissions as NATS; 401 without or with
// wrong credentials, 403 naming the subject, credentials refused in URLs and
// never written to logs.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { TokenAuthorizer } from '../../core/auth/authorizer.ts';
import { createAuthorizer } from '../../core/auth/create-authorizer.ts';
import { curl, startHttpFixture, StreamReader, type HttpFixture } from './http-fixture.ts';

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('http auth with users and permissions', () => {
  let f: HttpFixture;
  before(async () => {
    const authorizer = createAuthorizer({
      users: [
        { user: 'alice', password: 's3cret', permissions: { publish: { allow: ['orders.>'] }, subscribe: { allow: ['orders.>'], deny: ['orders.secret'] } } },
        { user: 'admin', password: 'root-pw' },
      ],
    });
    f = await startHttpFixture({ authorizer });
  });
  after(async () => f.stop());

  it('http auth - no credentials is 401 with WWW-Authenticate and a problem body', async () => {
    const res = await fetch(`${f.base}/v1/subjects/orders.new`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /Basic/);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((await res.json()).code, 'unauthorized');
  });

  it('http auth - a wrong password or unknown scheme is 401', async () => {
    for (const authorization of [basic('alice', 'nope'), basic('mallory', 's3cret'), 'Digest abc', 'Bearer s3cret']) {
      const res = await fetch(`${f.base}/v1/subjects/orders.new`, { method: 'POST', headers: { authorization }, body: 'x' });
      assert.equal(res.status, 401, authorization);
    }
  });

  it('http auth - Basic credentials apply the user permissions: 202 allowed, 403 naming the subject', async () => {
    const ok = await fetch(`${f.base}/v1/subjects/orders.new`, { method: 'POST', headers: { authorization: basic('alice', 's3cret') }, body: 'x' });
    assert.equal(ok.status, 202);
    const denied = await fetch(`${f.base}/v1/subjects/billing.new`, { method: 'POST', headers: { authorization: basic('alice', 's3cret') }, body: 'x' });
    assert.equal(denied.status, 403);
    const problem = await denied.json();
    assert.equal(problem.code, 'permission_denied');
    assert.equal(problem.subject, 'billing.new');
    assert.match(problem.detail, /billing\.new/);
    const admin = await fetch(`${f.base}/v1/subjects/billing.new`, { method: 'POST', headers: { authorization: basic('admin', 'root-pw') }, body: 'x' });
    assert.equal(admin.status, 202);
  });

  it('http auth - a batch applies the permissions per line: the denied line is 403 in its slot, the allowed one goes out', async () => {
    const body = '{"subject":"orders.batch","data":"x"}\n{"subject":"billing.batch","data":"x"}\n';
    const res = await fetch(`${f.base}/v1/messages`, { method: 'POST', headers: { authorization: basic('alice', 's3cret'), 'content-type': 'application/x-ndjson' }, body });
    assert.equal(res.status, 200);
    const { published, results } = await res.json();
    assert.equal(published, 1);
    assert.deepEqual(results[0], { subject: 'orders.batch', size: 1 });
    assert.equal(results[1].error.status, 403);
    assert.equal(results[1].error.code, 'permission_denied');
    assert.equal(results[1].error.subject, 'billing.batch');
    const anonymous = await fetch(`${f.base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    assert.equal(anonymous.status, 401);
  });

  it('http auth - subscribe permissions: 403 for a denied subject, deny rules cut into wildcards', async () => {
    const denied = await fetch(`${f.base}/v1/subjects/billing.*`, { headers: { authorization: basic('alice', 's3cret') } });
    assert.equal(denied.status, 403);
    assert.equal((await denied.json()).subject, 'billing.*');

    const res = await fetch(`${f.base}/v1/subjects/${encodeURIComponent('orders.>')}`, { headers: { authorization: basic('alice', 's3cret') } });
    assert.equal(res.status, 200);
    const reader = new StreamReader(res);
    for (const subject of ['orders.secret', 'orders.public']) {
      await fetch(`${f.base}/v1/subjects/${subject}`, { method: 'POST', headers: { authorization: basic('admin', 'root-pw') }, body: subject });
    }
    const event = await reader.nextEvent();
    assert.equal(JSON.parse(event?.data ?? '').subject, 'orders.public');
    await reader.cancel();
  });

  it('http auth - curl -u user:pass publishes', { peers: ['curl'] }, async () => {
    const run = await curl(['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', 'alice:s3cret', '--data-binary', 'hi', `${f.base}/v1/subjects/orders.curl`]);
    assert.equal(run.stdout.toString(), '202', run.stderr);
  });

  it('http auth - credentials in the query string are refused, even valid ones', async () => {
    const res = await fetch(`${f.base}/v1/subjects/orders.new?token=s3cret`, { method: 'POST', headers: { authorization: basic('alice', 's3cret') }, body: 'x' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 'credentials_in_url');
  });

  it('http auth - health and the API documents need no credentials', async () => {
    assert.equal((await fetch(`${f.base}/healthz`)).status, 200);
    assert.equal((await fetch(`${f.base}/openapi.json`)).status, 200);
    assert.equal((await fetch(`${f.base}/v1/monitor/http`)).status, 401);
  });
});

describe('http auth with a token', () => {
  const TOKEN = 'tok-very-secret-123';
  let f: HttpFixture;
  const logged: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    });
    f = await startHttpFixture({ authorizer: new TokenAuthorizer(TOKEN), logger: { level: 'trace', stream: sink } });
  });
  after(async () => f.stop());

  it('http auth - Bearer token is accepted, a wrong one is 401, and the token never reaches the log', async () => {
    const ok = await fetch(`${f.base}/v1/subjects/any.thing`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: 'x' });
    assert.equal(ok.status, 202);
    const wrong = await fetch(`${f.base}/v1/subjects/any.thing`, { method: 'POST', headers: { authorization: 'Bearer other' }, body: 'x' });
    assert.equal(wrong.status, 401);
    const inUrl = await fetch(`${f.base}/v1/subjects/any.thing?auth_token=${TOKEN}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: 'x' });
    assert.equal(inUrl.status, 400);
    assert.ok(logged.length > 0, 'the logger was used');
    for (const line of logged) assert.ok(!line.includes(TOKEN), `token leaked into log line: ${line}`);
  });
});
