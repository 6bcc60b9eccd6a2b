// Stream ingest limits (nats-server 2.11): a stream with more messages waiting
// than jetstream `max_buffered_msgs` refuses a publish with a 429 status line
// and JSStreamTooManyRequests (10167) rather than growing memory
// (nats-server stream.go queueInbound). Switchboard counts what waits for its
// write; a burst arriving in one event-loop turn fills that. A current
// nats-server (NATS_SERVER_NEW) with max_buffered_msgs 1 answers the same way
// under a burst; how many it refuses depends on timing, so that side checks
// the shape of the refusal and that every publish was either stored or refused.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, it } from '../helpers/peer-test.ts';
import { rejectsWithCode, startSwitchboardJetStream, type JetStreamServer } from '../helpers/jetstream.ts';
import { startNewNatsServer } from '../helpers/servers.ts';

const TOO_MANY_REQUESTS = 10167;

/** A current nats-server whose streams buffer at most one inbound message. */
async function startNewNatsServerBuffering(maxBufferedMsgs: number): Promise<JetStreamServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ns-ingest-'));
  const conf = join(dir, 'server.conf');
  writeFileSync(conf, `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))}, max_buffered_msgs: ${maxBufferedMsgs} }\n`);
  const running = await startNewNatsServer(['-c', conf]);
  return {
    ...running,
    storeDir: dir,
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Burst {
  stored: number;
  refused: Msg[];
}

/** `n` publishes sent at once, each a request; answers sorted into PubAcks and refusals. */
async function burst(nc: NatsConnection, subject: string, n: number): Promise<Burst> {
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => nc.request(subject, `m${i}`, { timeout: 10_000 })));
  const refused = answers.filter((m) => m.string().includes('"error"'));
  return { stored: answers.length - refused.length, refused };
}

function assertRefusal(m: Msg, stream: string): void {
  assert.equal(m.headers?.code, 429);
  assert.equal(m.headers?.description, 'Too Many Requests');
  assert.deepEqual(m.json(), { error: { code: 429, err_code: TOO_MANY_REQUESTS, description: 'too many requests' }, stream, seq: 0 });
}

describe('jetstream ingest limits (switchboard, max_buffered_msgs 10)', () => {
  it('ingest limits - past max_buffered_msgs unwritten messages a publish gets 429 10167; once written the stream takes more', async () => {
    const server = await startSwitchboardJetStream({ maxBufferedMsgs: 10 });
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: 'INGEST', subjects: ['ingest.>'] });
      const first = await burst(nc, 'ingest.a', 200);
      assert.ok(first.refused.length > 0, 'a burst of 200 in one turn passes a backlog of 10');
      assert.ok(first.stored >= 10, `at least the backlog's worth is stored (${first.stored})`);
      for (const m of first.refused) assertRefusal(m, 'INGEST');
      const state = (await (await jetstreamManager(nc)).streams.info('INGEST')).state;
      assert.equal(state.messages, first.stored, 'a refused publish is not stored');
      // The official client sees the refusal as an API error; awaited one by one, nothing waits and all are taken.
      const js = jetstream(nc);
      for (let i = 0; i < 20; i++) assert.ok((await js.publish('ingest.b', 'x')).seq > 0);
      const again = await burst(nc, 'ingest.c', 200);
      assert.ok(again.refused.length > 0);
      await rejectsWithCode(Promise.all(Array.from({ length: 200 }, () => js.publish('ingest.d', 'x'))), TOO_MANY_REQUESTS, 'too many requests');
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});

describe('jetstream ingest limits (nats-server-new, max_buffered_msgs 1)', { peers: ['nats-server-new'] }, () => {
  it('ingest limits - nats-server refuses a burst past its inbound queue with the same 429 answer', async () => {
    const server = await startNewNatsServerBuffering(1);
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: 'INGEST', subjects: ['ingest.>'] });
      let refused: Msg[] = [];
      let stored = 0;
      for (let round = 0; round < 10 && refused.length === 0; round++) {
        const b = await burst(nc, 'ingest.a', 2000);
        refused = b.refused;
        stored += b.stored;
      }
      assert.ok(refused.length > 0, 'nats-server refused part of a burst');
      for (const m of refused) assertRefusal(m, 'INGEST');
      assert.equal((await (await jetstreamManager(nc)).streams.info('INGEST')).state.messages, stored);
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
