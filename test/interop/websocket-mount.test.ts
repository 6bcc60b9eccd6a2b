// The WebSocket endpoints mounted on a fastify app that has HTTP routes of its
// own (as the HTTP gateway's app would host them): NATS on a fixed path, the
// app's routes untouched, other paths not upgraded.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/nats-core';
import type { NatsServer } from '../../core/server/nats-server.ts';
import { websocketRoutes } from '../../gateways/websocket/websocket-routes.ts';
import { startSwitchboard } from '../helpers/servers.ts';
import { connectWs, RawWebSocket } from '../helpers/websocket-clients.ts';

describe('websocket routes mounted on a shared fastify app', () => {
  let nats: NatsServer;
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    nats = (await startSwitchboard()).server;
    app = Fastify({ logger: false });
    app.get('/health', async () => 'ok');
    app.get('/v1/things/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    await app.register(websocketRoutes, { nats: (connection) => nats.accept(connection), natsPath: '/nats' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app?.close();
    await nats?.stop();
  });

  it('websocket - NATS answers on the mounted path next to the HTTP routes', async () => {
    const nc: NatsConnection = await connectWs(`ws://${base}/nats`);
    try {
      const sub = nc.subscribe('mounted', { max: 1 });
      nc.publish('mounted', 'over the shared port');
      // Collected, then compared: a loop of asserts would pass if the connection dropped before the first message.
      const got: string[] = [];
      for await (const msg of sub) got.push(msg.string());
      assert.deepEqual(got, ['over the shared port']);
    } finally {
      await nc.close();
    }
    assert.equal(await (await fetch(`http://${base}/health`)).text(), 'ok');
    assert.deepEqual(await (await fetch(`http://${base}/v1/things/7`)).json(), { id: '7' });
  });

  it('websocket - other paths are not upgraded; a plain GET on the NATS path is a 400', async () => {
    assert.equal(await RawWebSocket.refusedStatus(`ws://${base}/health/x`), 404);
    assert.equal(await RawWebSocket.refusedStatus(`ws://${base}/mqtt`, {}, ['mqtt']), 404);
    const plain = await fetch(`http://${base}/nats`);
    assert.equal(plain.status, 400);
  });
});
