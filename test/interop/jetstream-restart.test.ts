// Switchboard JetStream across a restart on the same store directory: stream
// configs, messages, the dedupe window and the last message id come back.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startSwitchboardJetStream, tempStoreDir } from '../helpers/jetstream.ts';

describe('jetstream restart (switchboard)', () => {
  const storeDir = tempStoreDir();
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it('restart - streams, messages, dedupe window and last msg id survive a restart', async () => {
    let server = await startSwitchboardJetStream({ storeDir });
    let nc = await connect({ servers: server.url });
    let jsm = await jetstreamManager(nc);
    let js = jetstream(nc);
    const created = await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'], max_msgs_per_subject: 3, description: 'kept' });
    await jsm.streams.add({ name: 'VOLATILE', subjects: ['vol'], storage: 'memory' as never });
    await js.publish('keep.a', 'one', { msgID: 'a-1' });
    await js.publish('keep.b', 'two', { msgID: 'b-1' });
    await js.publish('vol', 'gone after restart');
    await jsm.streams.deleteMessage('KEEP', 1);
    await nc.close();
    await server.stop();

    server = await startSwitchboardJetStream({ storeDir });
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    const si = await jsm.streams.info('KEEP');
    assert.equal(si.created, created.created);
    assert.equal(si.config.description, 'kept');
    assert.equal(si.config.max_msgs_per_subject, 3);
    assert.deepEqual([si.state.messages, si.state.first_seq, si.state.last_seq], [1, 2, 2]);
    const dup = await js.publish('keep.b', 'two', { msgID: 'b-1' });
    assert.deepEqual([dup.seq, dup.duplicate], [2, true]);
    const next = await js.publish('keep.c', 'three', { msgID: 'c-1', expect: { lastMsgID: 'b-1' } });
    assert.equal(next.seq, 3);
    const vol = await jsm.streams.info('VOLATILE');
    assert.deepEqual([vol.config.storage, vol.state.messages], ['memory', 0]);
    await nc.close();
    await server.stop();
  });

  it('restart - a stream with unreadable metadata is reported and skipped; the others come back', async () => {
    let server = await startSwitchboardJetStream({ storeDir });
    let nc = await connect({ servers: server.url });
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'GOOD', subjects: ['good'] });
    await jsm.streams.add({ name: 'BROKEN', subjects: ['broken'] });
    await nc.close();
    await server.stop();
    writeFileSync(join(storeDir, 'streams', 'BROKEN', 'meta.json'), '{ not json');
    server = await startSwitchboardJetStream({ storeDir });
    assert.deepEqual(server.engine.recoveryErrors.map((e) => e.stream), ['BROKEN']);
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    assert.equal((await jsm.streams.info('GOOD')).config.name, 'GOOD');
    await nc.close();
    await server.stop();
  });
});
