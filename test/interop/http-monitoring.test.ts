// HTTP gateway: the monitoring mount point. The composition root hands in the
// core's providers (varz, connz, healthz, metrics); the gateway serves them next
// to its own counters, behind the same auth as the API (health stays public).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenAuthorizer } from '../../core/auth/authorizer.ts';
import { startHttpFixture, StreamReader, type HttpFixture } from './http-fixture.ts';

describe('http monitoring', () => {
  let f: HttpFixture;
  const auth = { authorization: 'Bearer mon-token' };
  before(async () => {
    f = await startHttpFixture({
      authorizer: new TokenAuthorizer('mon-token'),
      monitoring: {
        endpoints: {
          varz: () => ({ server_name: 'test', connections: 3 }),
          connz: (query) => ({ subs: query.get('subs') }),
          // the core's endpoints answer with ready responses, passed through as they are
          subsz: (query) => (query.has('bad') ? { status: 400, contentType: 'text/plain', body: 'bad query' } : { status: 200, contentType: 'application/json', body: '{\n  "num_subscriptions": 7\n}' }),
        },
        metrics: () => 'switchboard_connections 3\n',
        health: () => ({ status: 'ok', jetstream: true }),
      },
    });
  });
  after(async () => f.stop());

  it('http monitoring - mounted providers are served with their query, behind auth', async () => {
    assert.deepEqual(await (await fetch(`${f.base}/v1/monitor/varz`, { headers: auth })).json(), { server_name: 'test', connections: 3 });
    assert.deepEqual(await (await fetch(`${f.base}/v1/monitor/connz?subs=1`, { headers: auth })).json(), { subs: '1' });
    assert.equal((await fetch(`${f.base}/v1/monitor/varz`)).status, 401);
    const raw = await fetch(`${f.base}/v1/monitor/subsz`, { headers: auth });
    assert.equal(await raw.text(), '{\n  "num_subscriptions": 7\n}');
    const rawBad = await fetch(`${f.base}/v1/monitor/subsz?bad=1`, { headers: auth });
    assert.equal(rawBad.status, 400);
    assert.equal(await rawBad.text(), 'bad query');
    const missing = await fetch(`${f.base}/v1/monitor/jsz`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).endpoint, 'jsz');
    const metrics = await fetch(`${f.base}/metrics`, { headers: auth });
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await metrics.text(), 'switchboard_connections 3\n');
    assert.deepEqual(await (await fetch(`${f.base}/healthz`)).json(), { status: 'ok', jetstream: true });
  });

  it('http monitoring - the gateway counts publishes, errors and open streams', async () => {
    await fetch(`${f.base}/v1/subjects/m.a`, { method: 'POST', headers: auth, body: 'x' });
    await fetch(`${f.base}/v1/subjects/m.a`, { method: 'POST', body: 'x' }); // 401
    const reader = new StreamReader(await fetch(`${f.base}/v1/subjects/m.*`, { headers: auth }));
    const stats = await (await fetch(`${f.base}/v1/monitor/http`, { headers: auth })).json();
    assert.ok(stats.published >= 1);
    assert.ok(stats.errors >= 1);
    assert.equal(stats.active_streams, 1);
    assert.equal(stats.slow_consumers, 0);
    await reader.cancel();
  });
});
