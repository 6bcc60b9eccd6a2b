// HTTP gateway: publish and request/reply over real sockets (fetch and curl),
// checked from a real NATS client on the same core.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { curl, startHttpFixture, waitFor, type HttpFixture } from './http-fixture.ts';

describe('http publish and request', () => {
  let f: HttpFixture;
  let nc: NatsConnection;
  before(async () => {
    f = await startHttpFixture({ maxPayload: 64 * 1024 });
    nc = await connect({ servers: f.natsUrl });
  });
  after(async () => {
    await nc.close();
    await f.stop();
  });

  async function collect(subject: string): Promise<Msg[]> {
    const got: Msg[] = [];
    nc.subscribe(subject, { callback: (_e, m) => {
        got.push(m);
      } });
    await nc.flush();
    return got;
  }

  it('http publish - fetch POST reaches a NATS subscriber with Nats-* and prefixed headers', async () => {
    const got = await collect('orders.>');
    const res = await fetch(`${f.base}/v1/subjects/orders.eu.created`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'nats-msg-id': 'm-1', 'X-Nats-Header-Trace-Id': 'abc', 'Nats-Custom-thing': 'x' },
      body: '{"id":1}',
    });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { subject: 'orders.eu.created', size: 8 });
    await waitFor(() => got.length === 1, 'one message at the NATS subscriber');
    assert.equal(got[0].subject, 'orders.eu.created');
    assert.equal(got[0].string(), '{"id":1}');
    // fetch lower-cases names; JetStream needs the canonical spelling.
    assert.deepEqual(got[0].headers?.keys().sort(), ['Nats-Custom-Thing', 'Nats-Msg-Id', 'Trace-Id'].sort());
    assert.equal(got[0].headers?.get('Nats-Msg-Id'), 'm-1');
    assert.equal(got[0].headers?.get('Trace-Id'), 'abc');
  });

  it('http publish - curl --data-binary sends bytes unchanged, with no content type, and repeated headers', { peers: ['curl'] }, async () => {
    const got = await collect('bin.curl');
    const payload = Buffer.from([0, 1, 2, 255, 254, 13, 10, 0]);
    const run = await curl(
      ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'Content-Type:', '-H', 'X-Nats-Header-Tag: a', '-H', 'X-Nats-Header-Tag: b', '--data-binary', '@-', `${f.base}/v1/subjects/bin.curl`],
      payload,
    );
    assert.equal(run.stdout.toString(), '202', run.stderr);
    await waitFor(() => got.length === 1, 'binary message');
    assert.deepEqual(Buffer.from(got[0].data), payload);
    assert.deepEqual(got[0].headers?.values('Tag'), ['a', 'b']);
  });

  it('http publish - empty body publishes an empty message; ?reply= sets the reply subject', async () => {
    const got = await collect('empty.body');
    const res = await fetch(`${f.base}/v1/subjects/empty.body?reply=answers.here`, { method: 'POST' });
    assert.equal(res.status, 202);
    await waitFor(() => got.length === 1, 'empty message');
    assert.equal(got[0].data.length, 0);
    assert.equal(got[0].reply, 'answers.here');
  });

  it('http publish - a body over max_payload is refused with 413 problem+json', async () => {
    const res = await fetch(`${f.base}/v1/subjects/too.big`, { method: 'POST', body: Buffer.alloc(64 * 1024 + 1) });
    assert.equal(res.status, 413);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((await res.json()).code, 'payload_too_large');
    // exactly max_payload with headers pushing it over is refused too (NATS counts headers)
    const edge = await fetch(`${f.base}/v1/subjects/too.big`, { method: 'POST', headers: { 'x-nats-header-k': 'v' }, body: Buffer.alloc(64 * 1024) });
    assert.equal(edge.status, 413);
    const fits = await fetch(`${f.base}/v1/subjects/too.big`, { method: 'POST', body: Buffer.alloc(64 * 1024) });
    assert.equal(fits.status, 202);
  });

  it('http publish - wildcard or malformed subjects are 400 invalid_subject naming the subject', async () => {
    for (const subject of ['a.*', 'a.>', 'a..b']) {
      const res = await fetch(`${f.base}/v1/subjects/${encodeURIComponent(subject)}`, { method: 'POST', body: 'x' });
      assert.equal(res.status, 400, subject);
      const problem = await res.json();
      assert.equal(problem.code, 'invalid_subject');
      assert.equal(problem.subject, subject);
    }
  });

  it('http request - answers with the first reply body and headers', async () => {
    nc.subscribe('svc.echo', {
      callback: (_e, m) => {
        const h = natsHeaders();
        h.set('Content-Type', 'text/plain');
        h.set('Nats-Served-By', 'svc-1');
        h.set('Trace-Id', m.headers?.get('Trace-Id') ?? '');
        m.respond(`echo:${m.string()}`, { headers: h });
      },
    });
    await nc.flush();
    const res = await fetch(`${f.base}/v1/subjects/svc.echo?request=1&timeout=2000`, { method: 'POST', headers: { 'x-nats-header-Trace-Id': 't-9' }, body: 'ping' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'echo:ping');
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(res.headers.get('nats-served-by'), 'svc-1');
    assert.equal(res.headers.get('x-nats-header-trace-id'), 't-9');
  });

  it('http request - curl gets the reply body', { peers: ['curl'] }, async () => {
    nc.subscribe('svc.upper', { callback: (_e, m) => {
        m.respond(m.string().toUpperCase());
      } });
    await nc.flush();
    const run = await curl(['-sS', '--data-binary', 'shout', `${f.base}/v1/subjects/svc.upper?request=1`]);
    assert.equal(run.stdout.toString(), 'SHOUT', run.stderr);
  });

  it('http request - 503 no_responders when nobody listens, 504 request_timeout when nobody answers', async () => {
    const none = await fetch(`${f.base}/v1/subjects/nobody.home?request=1`, { method: 'POST', body: 'x' });
    assert.equal(none.status, 503);
    assert.equal((await none.json()).code, 'no_responders');

    nc.subscribe('svc.silent', { callback: () => {} });
    await nc.flush();
    const started = Date.now();
    const slow = await fetch(`${f.base}/v1/subjects/svc.silent?request=1&timeout=150`, { method: 'POST', body: 'x' });
    assert.equal(slow.status, 504);
    const problem = await slow.json();
    assert.equal(problem.code, 'request_timeout');
    assert.equal(problem.timeout_ms, 150);
    assert.ok(Date.now() - started >= 140);
  });

  it('http request - bad query values are 400 invalid_request problems', async () => {
    const res = await fetch(`${f.base}/v1/subjects/x?request=1&timeout=abc`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 'invalid_request');
    const both = await fetch(`${f.base}/v1/subjects/x?request=1&reply=y`, { method: 'POST', body: 'x' });
    assert.equal((await both.json()).code, 'invalid_request');
  });
});
