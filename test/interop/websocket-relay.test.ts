// Cluster mode's NATS-over-WebSocket relay: each browser connection is piped to
// one server of the cluster; with one server down, every connection still lands
// on a live one. Official wsconnect() clients through the WebSocket gateway, a
// real nats-server behind it, and a port nobody listens on in front of it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { createWebSocketGateway, type WebSocketGateway } from '../../gateways/websocket/websocket-gateway.ts';
import { natsTcpRelay } from '../../gateways/websocket/nats-tcp-relay.ts';
import { connectWs } from '../helpers/websocket-clients.ts';
import { freePort, startNatsServer, type RunningServer } from '../helpers/servers.ts';

describe('websocket relay to a cluster (nats-server)', { peers: ['nats-server'] }, () => {
  let server: RunningServer;
  let gateway: WebSocketGateway;
  const refused: string[] = [];
  before(async () => {
    server = await startNatsServer();
    const dead = `nats://127.0.0.1:${await freePort()}`;
    gateway = createWebSocketGateway({ nats: natsTcpRelay({ servers: [dead, server.url], onError: (url) => refused.push(url) }), host: '127.0.0.1', port: 0 });
    await gateway.start();
  });
  after(async () => {
    await gateway.stop();
    await server.stop();
  });

  it('websocket relay - with the first server down, every connection reaches the live one and messages flow', { timeout: 20_000 }, async () => {
    // Four connections: the relay starts two of them at the dead server.
    const clients = [];
    for (let i = 0; i < 4; i++) clients.push(await connectWs(`ws://127.0.0.1:${gateway.port}/`, { reconnect: false, timeout: 5_000 }));
    try {
      const [subscriber, ...publishers] = clients;
      const got: string[] = [];
      subscriber.subscribe('relay.test', { callback: (_e, m) => void got.push(m.string()) });
      await subscriber.flush();
      for (const [i, publisher] of publishers.entries()) {
        publisher.publish('relay.test', `from ${i}`);
        await publisher.flush();
      }
      const deadline = Date.now() + 5_000;
      while (got.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(got.sort(), ['from 0', 'from 1', 'from 2']);
      assert.equal(refused.length, 2, 'two connections were first sent to the dead server and moved on');
    } finally {
      for (const client of clients) await client.close();
    }
  });
});
