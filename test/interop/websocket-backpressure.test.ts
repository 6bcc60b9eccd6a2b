// Backpressure through the WebSocket gateway: a browser tab that stops reading
// is cut off by the core's own slow-consumer rules (pending bytes over
// max_pending, or a write blocked past the write deadline), because the
// WebSocket Connection reports its queue as writableLength. Drain signalling
// itself is part of the Connection contract suite (connection-contract.test.ts).

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { until } from '../helpers/mqtt.ts';
import { connectWs, RawWebSocket } from '../helpers/websocket-clients.ts';
import { startSwitchboardWs, type SwitchboardWs } from '../helpers/websocket-targets.ts';

const PAYLOAD = new Uint8Array(16 * 1024);

/** A raw WebSocket NATS client subscribed to `subject`, past the handshake. */
async function rawSubscriber(url: string, subject: string): Promise<RawWebSocket> {
  const raw = await RawWebSocket.open(url);
  await raw.until((t) => t.includes('\r\n'));
  raw.frame(`CONNECT {"verbose":false}\r\nSUB ${subject} 1\r\nPING\r\n`);
  await raw.until((t) => t.includes('PONG'));
  return raw;
}

describe('websocket gateway backpressure', () => {
  let setup: SwitchboardWs | undefined;
  after(() => setup?.stop());

  it('websocket - a client that stops reading is cut off at max_pending; others are unharmed', async () => {
    const maxPending = 512 * 1024;
    setup = await startSwitchboardWs({}, { maxPending, writeDeadlineMs: 30_000 });
    const publisher = await connect({ servers: setup.tcpUrl });
    const healthy = await connectWs(setup.wsUrl);
    const slow = await rawSubscriber(setup.wsUrl, 'firehose');
    try {
      let received = 0;
      healthy.subscribe('firehose', { callback: () => void received++ });
      await healthy.flush();
      // The tab stops reading: its socket is no longer drained.
      slow.socket.pause();
      let sent = 0;
      // Bounded: at most 64 MiB, far past loopback buffers plus max_pending.
      for (let round = 0; round < 256 && setup.nats.stats.slowConsumers === 0; round++) {
        // Half of max_pending per round, so the healthy reader never nears the limit.
        for (let i = 0; i < 16; i++) publisher.publish('firehose', PAYLOAD);
        sent += 16;
        await publisher.flush();
        await healthy.flush();
      }
      assert.equal(setup.nats.stats.slowConsumers, 1, 'the paused WebSocket client was cut off');
      assert.ok(sent * PAYLOAD.length > maxPending, `cut off after ${sent} messages`);
      await until(() => received === sent, `healthy client got ${received}/${sent}`, 5_000);
      // The healthy WebSocket client is still connected and working.
      const later: string[] = [];
      healthy.subscribe('still.there', { callback: (_e, m) => void later.push(m.string()) });
      await healthy.flush();
      publisher.publish('still.there', 'yes');
      await publisher.flush();
      await until(() => later.length === 1, 'a message after the cut-off');
      assert.equal(setup.nats.clients.size, 2, 'publisher and healthy client remain');
    } finally {
      slow.close();
      await healthy.close();
      await publisher.close();
    }
    await setup.stop();
    setup = undefined;
  });

  it('websocket - a write blocked past the write deadline cuts the client off, below max_pending', async () => {
    const maxPending = 64 * 1024 * 1024;
    setup = await startSwitchboardWs({}, { maxPending, writeDeadlineMs: 300 });
    const publisher: NatsConnection = await connect({ servers: setup.tcpUrl });
    const slow = await rawSubscriber(setup.wsUrl, 'stuck');
    try {
      slow.socket.pause();
      // Enough to fill the loopback buffers and back the WebSocket queue up, far below max_pending.
      let sent = 0;
      for (let round = 0; round < 64 && setup.nats.stats.slowConsumers === 0; round++) {
        for (let i = 0; i < 32; i++) publisher.publish('stuck', PAYLOAD);
        sent += 32;
        await publisher.flush();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await until(() => setup!.nats.stats.slowConsumers === 1, 'the write deadline to cut the client', 5_000);
      assert.ok(sent * PAYLOAD.length < maxPending, 'cut by the deadline, not by max_pending');
      // The paused client cannot read the close; the server has dropped it all the same.
      assert.equal(setup.nats.clients.size, 1, 'only the publisher remains');
    } finally {
      slow.close();
      await publisher.close();
    }
    await setup.stop();
    setup = undefined;
  });
});
