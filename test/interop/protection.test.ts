// The server protects itself: a subscriber that stops reading is cut off while
// a healthy one gets everything, and garbage on the wire never takes the
// process down.

import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { seededRandom as prng } from '../helpers/seeded-random.ts';
import { startSwitchboard, startSwitchboardProcess } from '../helpers/servers.ts';

describe('protection', () => {
  it('slow consumer - a subscriber that never reads is cut off; a healthy one gets every message', async () => {
    const running = await startSwitchboard({ maxPending: 512 * 1024 });
    try {
      const healthy = await connect({ servers: running.url });
      let healthyCount = 0;
      healthy.subscribe('firehose', { callback: () => { healthyCount++; } });
      await healthy.flush();

      const slow = tcpConnect(running.port, '127.0.0.1');
      await once(slow, 'data'); // INFO
      slow.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB firehose 1\r\nPING\r\n');
      await once(slow, 'data'); // PONG: subscribed
      slow.pause(); // from here on it never reads
      slow.on('error', () => {});

      const publisher = await connect({ servers: running.url });
      const payload = new Uint8Array(1024);
      const total = 30_000; // 30 MiB: far beyond kernel buffers plus max_pending
      for (let i = 0; i < total; i++) {
        publisher.publish('firehose', payload);
        // The healthy reader shares this process's event loop with the server, so it
        // keeps pace by draining (PING/PONG) every 200 KiB; the slow one never reads.
        if (i % 200 === 199) {
          await publisher.flush();
          await healthy.flush();
        }
      }
      await publisher.flush();
      const deadline = Date.now() + 10_000;
      while (healthyCount < total && Date.now() < deadline) await healthy.flush();

      assert.equal(healthyCount, total, 'the healthy subscriber received every message');
      assert.equal(running.server.stats.slowConsumers, 1, 'the slow consumer was counted');
      assert.equal(running.server.clients.size, 2, 'only the publisher and the healthy subscriber remain');
      slow.destroy();
      await publisher.close();
      await healthy.close();
    } finally {
      await running.stop();
    }
  });

  it('stall - a reader slower than the publisher is waited for, not cut off, and gets every message', async () => {
    const running = await startSwitchboard({ maxPending: 2 * 1024 * 1024 });
    try {
      const reader = tcpConnect(running.port, '127.0.0.1');
      await once(reader, 'data'); // INFO
      reader.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB burst 1\r\nPING\r\n');
      await once(reader, 'data'); // PONG
      const total = 40_000;
      const frame = `MSG burst 1 1024\r\n`.length + 1024 + 2;
      let received = 0;
      const done = new Promise<void>((resolve) => {
        reader.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= total * frame) resolve();
          // Read slowly: a short nap after every chunk.
          reader.pause();
          setTimeout(() => reader.resume(), 2);
        });
      });
      const writer = tcpConnect(running.port, '127.0.0.1');
      await once(writer, 'data');
      const one = Buffer.from(`PUB burst 1024\r\n${'x'.repeat(1024)}\r\n`);
      const batch = Buffer.concat(Array.from({ length: 100 }, () => one));
      writer.write('CONNECT {"verbose":false,"pedantic":false}\r\n');
      for (let i = 0; i < total / 100; i++) {
        if (!writer.write(batch)) await once(writer, 'drain');
      }
      const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`only ${received / frame} of ${total} arrived`)), 30_000).unref());
      await Promise.race([done, timeout]);
      assert.equal(received, total * frame, 'every message arrived');
      assert.equal(running.server.stats.slowConsumers, 0, 'nobody was cut off');
      const publisher = [...running.server.clients.values()].find((c) => c.stats.inMsgs === total);
      assert.ok(publisher && publisher.stats.stalls > 0, 'the publisher was stalled at least once');
      reader.destroy();
      writer.destroy();
    } finally {
      await running.stop();
    }
  });

  it('fuzz - random and mutated protocol bytes never stop the server from serving others', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    process.stdout.write(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)\n`);
    const random = prng(seed);
    const server = await startSwitchboardProcess();
    const observer = await connect({ servers: server.url });
    observer.subscribe('health', { callback: (_e, m) => { m.respond('ok'); } });
    await observer.flush();
    const valid = [
      'CONNECT {"verbose":false,"headers":true}\r\n', 'PUB a.b 5\r\nhello\r\n', 'HPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\n',
      'SUB a.* q 1\r\n', 'UNSUB 1 3\r\n', 'PING\r\n', 'PONG\r\n', 'SUB > 2\r\n', 'PUB health _R 0\r\n\r\n',
    ].join('');
    try {
      for (let round = 0; round < 200; round++) {
        const bytes = Buffer.from(valid, 'latin1');
        const mode = random();
        let input: Buffer;
        if (mode < 0.3) {
          input = Buffer.alloc(1 + Math.floor(random() * 2048));
          for (let i = 0; i < input.length; i++) input[i] = Math.floor(random() * 256);
        } else {
          input = Buffer.from(bytes);
          const mutations = 1 + Math.floor(random() * 8);
          for (let k = 0; k < mutations; k++) input[Math.floor(random() * input.length)] = Math.floor(random() * 256);
          if (random() < 0.3) input = input.subarray(0, Math.floor(random() * input.length));
        }
        const socket = tcpConnect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.resume();
        await once(socket, 'connect');
        // Send in random pieces so splits land everywhere.
        let at = 0;
        while (at < input.length) {
          const n = 1 + Math.floor(random() * 64);
          socket.write(input.subarray(at, at + n));
          at += n;
        }
        if (round % 20 === 19) {
          const reply = await observer.request('health', '', { timeout: 2000 });
          assert.equal(reply.string(), 'ok', `server still serves after round ${round}`);
        }
        socket.destroy();
      }
      const fresh = await connect({ servers: server.url });
      assert.equal((await fresh.request('health', '', { timeout: 2000 })).string(), 'ok');
      await fresh.close();
      assert.equal(server.child.exitCode, null, 'the server process is still running');
    } finally {
      await observer.close();
      await server.stop();
    }
  });
});
