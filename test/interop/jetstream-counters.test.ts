// ADR-49 counters (`allow_msg_counter`, `Nats-Incr`) with the official
// @nats-io/jetstream client. Counters arrived in nats-server 2.12; Debian's
// nats-server is 2.9, which has no such setting, so this suite runs against
// Switchboard only. Expected texts and err_codes are nats-server 2.12's
// (server/errors.json, stream.go).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type PubAck } from '@nats-io/jetstream';
import { rejectsWithCode, startSwitchboardJetStream } from '../helpers/jetstream.ts';

const MESSAGE_INCR_DISABLED = 10168;
const MESSAGE_INCR_MISSING = 10169;
const MESSAGE_INCR_PAYLOAD = 10170;
const MESSAGE_INCR_INVALID = 10171;
const MESSAGE_COUNTER_BROKEN = 10172;
const STREAM_INVALID_CONFIG = 10052;

const incr = (value: string, extra: Record<string, string> = {}): MsgHdrs => {
  const h = headers();
  h.set('Nats-Incr', value);
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return h;
};

describe('jetstream counters (switchboard; nats-server 2.9 has no counters)', () => {
  let server: Awaited<ReturnType<typeof startSwitchboardJetStream>>;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let js: JetStreamClient;
  before(async () => {
    server = await startSwitchboardJetStream();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    const si = await jsm.streams.add({ name: 'COUNTS', subjects: ['counts.>'], allow_msg_counter: true, allow_direct: true });
    assert.equal(si.config.allow_msg_counter, true);
    await jsm.streams.add({ name: 'PLAIN', subjects: ['plain.>'] });
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
  });

  const add = (subject: string, value: string, extra: Record<string, string> = {}): Promise<PubAck & { val?: string }> =>
    js.publish(subject, undefined, { headers: incr(value, extra) });
  const stored = async (subject: string): Promise<{ body: string; incr: string | undefined }> => {
    const m = await jsm.streams.getMessage('COUNTS', { last_by_subj: subject });
    assert.ok(m, `a message on ${subject}`);
    return { body: m.string(), incr: m.header.get('Nats-Incr') };
  };

  it('counters - Nats-Incr adds to the last value; the PubAck and the stored body carry the total', async () => {
    const a1 = await add('counts.hits', '+1');
    assert.equal(a1.val, '1');
    assert.equal(a1.stream, 'COUNTS');
    const a2 = await add('counts.hits', '10');
    assert.equal(a2.val, '11');
    assert.equal(a2.seq, a1.seq + 1);
    assert.equal((await add('counts.hits', '-20')).val, '-9');
    assert.equal((await add('counts.hits', '0')).val, '-9');
    assert.deepEqual(await stored('counts.hits'), { body: '{"val":"-9"}', incr: '0' });
    // subjects count independently
    assert.equal((await add('counts.other', '5')).val, '5');
    assert.equal((await add('counts.hits', '1')).val, '-8');
  });

  it('counters - big integers keep every digit', async () => {
    const big = '123456789012345678901234567890';
    assert.equal((await add('counts.big', big)).val, big);
    assert.equal((await add('counts.big', '+9007199254740993')).val, (BigInt(big) + 9007199254740993n).toString());
    assert.equal((await add('counts.big', `-${big}`)).val, '9007199254740993');
    assert.equal((await stored('counts.big')).body, '{"val":"9007199254740993"}');
  });

  it('counters - refused: no increment, a body, a non-numeric increment, expected-* and rollup headers', async () => {
    await rejectsWithCode(js.publish('counts.x', 'body'), MESSAGE_INCR_MISSING, 'message counter increment is missing');
    await rejectsWithCode(js.publish('counts.x', 'body', { headers: incr('1') }), MESSAGE_INCR_PAYLOAD, 'message counter has payload');
    for (const bad of ['one', '1.5', '--1', '1e3', '0x10']) {
      await rejectsWithCode(add('counts.x', bad), MESSAGE_INCR_INVALID, 'message counter increment is invalid');
    }
    for (const header of ['Nats-Rollup', 'Nats-Expected-Stream', 'Nats-Expected-Last-Msg-Id', 'Nats-Expected-Last-Sequence', 'Nats-Expected-Last-Subject-Sequence']) {
      const value = header === 'Nats-Rollup' ? 'sub' : header === 'Nats-Expected-Stream' ? 'COUNTS' : header.endsWith('Msg-Id') ? 'id' : '0';
      await rejectsWithCode(add('counts.x', '1', { [header]: value }), MESSAGE_INCR_INVALID);
    }
    // nothing was stored for the refused publishes
    assert.equal(await jsm.streams.getMessage('COUNTS', { last_by_subj: 'counts.x' }), null);
    assert.equal((await add('counts.x', '2')).val, '2');
  });

  it('counters - Nats-Incr on a stream without allow_msg_counter is refused; plain publishes still work there', async () => {
    await rejectsWithCode(add('plain.a', '1'), MESSAGE_INCR_DISABLED, 'message counters is disabled');
    await rejectsWithCode(add('plain.a', 'nope'), MESSAGE_INCR_INVALID);
    const ack = (await js.publish('plain.a', 'text')) as PubAck & { val?: string };
    assert.equal(ack.val, undefined);
  });

  it('counters - a purge resets a counter; a Nats-Msg-Id duplicate is not counted twice', async () => {
    await add('counts.reset', '7');
    await jsm.streams.purge('COUNTS', { filter: 'counts.reset' });
    assert.equal((await add('counts.reset', '1')).val, '1');
    const first = await add('counts.dedupe', '3', { 'Nats-Msg-Id': 'once' });
    const again = await add('counts.dedupe', '3', { 'Nats-Msg-Id': 'once' });
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    assert.equal((await stored('counts.dedupe')).body, '{"val":"3"}');
  });

  it('counters - the counter setting cannot be switched on an existing stream', async () => {
    await rejectsWithCode(
      jsm.streams.update('PLAIN', { subjects: ['plain.>'], allow_msg_counter: true } as never),
      STREAM_INVALID_CONFIG,
      'stream configuration update can not change message counter setting',
    );
  });

  it('counters - a last value that is not a counter body is reported broken (10172)', async () => {
    // No client can store such a body on a counter stream; the fixture writes it into the store directly.
    server.engine.stream('COUNTS').store.append('counts.broken', null, Buffer.from('not json'));
    await rejectsWithCode(add('counts.broken', '1'), MESSAGE_COUNTER_BROKEN, 'message counter is broken');
  });

  it('counters - config rules: no discard new, limits retention only', async () => {
    await rejectsWithCode(jsm.streams.add({ name: 'C_NEW', subjects: ['cnew'], allow_msg_counter: true, discard: 'new' as never }), STREAM_INVALID_CONFIG, 'counter stream cannot use discard new');
    await rejectsWithCode(
      jsm.streams.add({ name: 'C_WQ', subjects: ['cwq'], allow_msg_counter: true, retention: 'workqueue' as never }),
      STREAM_INVALID_CONFIG,
      'counter stream can only use limits retention',
    );
  });
});
