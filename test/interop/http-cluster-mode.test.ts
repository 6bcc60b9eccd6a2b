// HTTP gateway in cluster mode: the same gateway on NatsBroker, in front of
// Debian's nats-server (no Switchboard core at all). Core messaging behaves as
// embedded: publish, request/reply with 503/504, SSE subscribe.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { OpenAuthorizer } from '../../core/auth/authorizer.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { createHttpGateway, type HttpGateway } from '../../gateways/http/http-gateway.ts';
import { startNatsServer, type RunningServer } from '../helpers/servers.ts';
import { StreamReader, waitFor } from './http-fixture.ts';

describe('http cluster mode (nats-server)', { peers: ['nats-server'] }, () => {
  let nats: RunningServer;
  let broker: NatsBroker;
  let http: HttpGateway;
  let nc: NatsConnection;
  before(async () => {
    nats = await startNatsServer();
    broker = await NatsBroker.connect({ servers: nats.url });
    http = createHttpGateway({ broker, authorizer: new OpenAuthorizer(), host: '127.0.0.1', port: 0 });
    await http.start();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc.close();
    await http.stop();
    await broker.close();
    await nats.stop();
  });

  it('http cluster mode - HTTP publish reaches a NATS subscriber; no JetStream means 202', async () => {
    const got: Msg[] = [];
    nc.subscribe('cm.pub', {
      callback: (_e, m) => {
        got.push(m);
      },
    });
    await nc.flush();
    const res = await fetch(`${http.url}/v1/subjects/cm.pub`, { method: 'POST', headers: { 'nats-msg-id': 'x' }, body: 'hi' });
    assert.equal(res.status, 202);
    await waitFor(() => got.length === 1, 'message at nats-server subscriber');
    assert.equal(got[0].headers?.get('Nats-Msg-Id'), 'x');
  });

  it('http cluster mode - request/reply, 503 without responders, 504 on timeout', async () => {
    nc.subscribe('cm.svc', {
      callback: (_e, m) => {
        m.respond(`re:${m.string()}`);
      },
    });
    nc.subscribe('cm.silent', { callback: () => {} });
    await nc.flush();
    const ok = await fetch(`${http.url}/v1/subjects/cm.svc?request=1`, { method: 'POST', body: 'q' });
    assert.equal(await ok.text(), 're:q');
    assert.equal((await fetch(`${http.url}/v1/subjects/cm.none?request=1`, { method: 'POST', body: 'q' })).status, 503);
    assert.equal((await fetch(`${http.url}/v1/subjects/cm.silent?request=1&timeout=200`, { method: 'POST', body: 'q' })).status, 504);
  });

  it('http cluster mode - NATS publishes reach an SSE subscriber; stream end unsubscribes', async () => {
    const controller = new AbortController();
    const reader = new StreamReader(await fetch(`${http.url}/v1/subjects/cm.ev.*`, { signal: controller.signal }));
    nc.publish('cm.ev.a', 'one');
    await nc.flush();
    assert.equal(JSON.parse((await reader.nextEvent())?.data ?? '{}').data, 'one');
    controller.abort();
    await waitFor(() => http.stats.activeStreams === 0, 'stream closed');
    await broker.flush(); // the UNSUB has reached nats-server
    assert.equal((await fetch(`${http.url}/v1/subjects/cm.ev.a?request=1&timeout=300`, { method: 'POST', body: 'x' })).status, 503);
  });
});
