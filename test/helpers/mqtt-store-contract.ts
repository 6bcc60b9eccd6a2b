// The MQTT gateway's state stores' contract (gateways/mqtt/store.ts), one suite
// for every implementation, as aedes-persistence's abstract.js is for aedes'
// back ends (CONVENTIONS 2): retained messages set, replaced, cleared and
// matched by wildcard; session records saved, loaded, listed and deleted with
// their subscriptions and queued messages byte for byte; and, where the store
// has them, the message log, the watch, and state kept across a reopen.

import assert from 'node:assert/strict';
import { after, before, describe, it } from './peer-test.ts';
import type { Peer } from './peers.ts';
import type { MqttMessage } from '../../gateways/mqtt/message.ts';
import type { MqttSessionStore, RetainedStore, SessionRecord } from '../../gateways/mqtt/store.ts';

export interface MqttStores {
  readonly retained: RetainedStore;
  readonly sessions: MqttSessionStore;
}

/** A running back end; `stores()` gives the stores opened on it most recently. */
export interface MqttStoreTarget {
  stores(): MqttStores;
  /** Stop the back end and open the stores again on the same state (durable targets). */
  reopen?(): Promise<void>;
  dispose(): Promise<void>;
}

export interface MqttStoreCapabilities {
  /** Sessions and retained messages survive reopen(); the target must offer reopen(). */
  readonly durable: boolean;
  /** The session store logs queued messages once (MqttSessionStore.messageLog) and has watch(). */
  readonly messageLog: boolean;
}

function message(topic: string, payload: string | Buffer, extra: Partial<MqttMessage> = {}): MqttMessage {
  return {
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    qos: 1,
    retain: true,
    properties: {},
    receivedAt: Date.now(),
    origin: null,
    ...extra,
  };
}

/** Every byte value, so a store that treats payloads as text shows it. */
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/**
 * The record as the gateway reads it: a field set to undefined and a field left
 * out mean the same, so a store that writes JSON may drop them.
 */
function normalised(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalised);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, normalised(v)]));
}

function topicsOf(messages: readonly MqttMessage[]): string[] {
  return messages.map((m) => m.topic).sort();
}

function sessionRecord(clientId: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    clientId,
    expiryInterval: 3600,
    subscriptions: [
      { topicFilter: 'sensors/+/temp', qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 0, identifier: 7 },
      { topicFilter: '$share/g/jobs/#', qos: 2, noLocal: true, retainAsPublished: false, retainHandling: 2, identifier: undefined, since: 12 },
    ],
    inboundQos2: [3, 9],
    outbound: [
      {
        message: message('sensors/a/temp', BINARY, {
          qos: 2,
          retain: false,
          receivedAt: 1_700_000_000_123,
          origin: 'publisher-1',
          properties: { contentType: 'application/octet-stream', correlationData: Buffer.from([0, 1, 0xff]), responseTopic: 'replies/a', userProperties: { k: ['v1', 'v2'] }, messageExpiryInterval: 60, payloadFormatIndicator: false },
        }),
        qos: 2,
        retain: false,
        subscriptionIds: [7],
        packetId: 41,
        state: 'pubrel',
      },
      { storeSeq: 5, qos: 1, retain: false, subscriptionIds: undefined, packetId: 0, state: 'publish' },
    ],
    disconnectedAt: 1_700_000_001_000,
    logCursor: 5,
    owner: 'gw-1',
    ...extra,
  };
}

export function describeMqttStores(name: string, makeTarget: () => Promise<MqttStoreTarget>, capabilities: MqttStoreCapabilities, peers: readonly Peer[] = []): void {
  describe(`mqtt store contract (${name})`, { peers }, () => {
    let target: MqttStoreTarget;
    before(async () => {
      target = await makeTarget();
    });
    after(() => target.dispose());
    const retained = (): RetainedStore => target.stores().retained;
    const sessions = (): MqttSessionStore => target.stores().sessions;

    it('store - declares its durability and message log honestly', () => {
      assert.equal(sessions().durable, capabilities.durable);
      assert.equal(sessions().messageLog !== null, capabilities.messageLog);
      assert.equal(sessions().watch !== undefined, capabilities.messageLog);
      assert.equal(target.reopen !== undefined, capabilities.durable, 'a durable target can be reopened');
    });

    it('retained - set then match by exact topic gives the message back byte for byte', async () => {
      const properties = { contentType: 'text/plain', correlationData: Buffer.from([0, 0xfe]), responseTopic: 'r/1', userProperties: { a: '1', b: ['x', 'y'] }, payloadFormatIndicator: true };
      await retained().set(message('exact/one', BINARY, { qos: 2, properties }));
      const [got, ...rest] = await retained().match('exact/one');
      assert.deepEqual(rest, []);
      assert.equal(got.topic, 'exact/one');
      assert.deepEqual(got.payload, BINARY);
      assert.equal(got.qos, 2);
      assert.equal(got.retain, true);
      assert.deepEqual(got.properties, properties);
    });

    it('retained - a second set replaces the first, one message per topic', async () => {
      await retained().set(message('replace/t', 'first'));
      await retained().set(message('replace/t', 'second', { qos: 0 }));
      const got = await retained().match('replace/t');
      assert.deepEqual(got.map((m) => [m.payload.toString(), m.qos]), [['second', 0]]);
    });

    it('retained - an empty payload clears the topic [MQTT-3.3.1-10]', async () => {
      await retained().set(message('clear/t', 'x'));
      await retained().set(message('clear/t', ''));
      assert.deepEqual(await retained().match('clear/t'), []);
      assert.deepEqual(await retained().match('clear/#'), []);
      // Clearing what is not there is no error.
      await retained().set(message('clear/never', ''));
    });

    it('retained - match by + and # wildcards, # including the parent level', async () => {
      for (const topic of ['w/a', 'w/a/x', 'w/a/x/y', 'w/b/x', 'other/a/x']) await retained().set(message(topic, topic));
      assert.deepEqual(topicsOf(await retained().match('w/+/x')), ['w/a/x', 'w/b/x']);
      assert.deepEqual(topicsOf(await retained().match('w/a/#')), ['w/a', 'w/a/x', 'w/a/x/y']);
      assert.deepEqual(topicsOf(await retained().match('w/+')), ['w/a']);
      assert.deepEqual(topicsOf(await retained().match('+/a/x')), ['other/a/x', 'w/a/x']);
      assert.deepEqual(await retained().match('w/c/#'), []);
    });

    it('retained - topics a subject cannot carry verbatim round-trip exactly', async () => {
      const odd = ['odd/a.b', 'odd/sp ace', 'odd/%25', 'odd/*', 'odd/>', 'odd//empty', 'odd/ünï/€'];
      for (const topic of odd) await retained().set(message(topic, topic));
      assert.deepEqual(topicsOf(await retained().match('odd/#')), [...odd].sort());
      for (const topic of odd) assert.deepEqual((await retained().match(topic)).map((m) => m.payload.toString()), [topic], topic);
      assert.deepEqual(topicsOf(await retained().match('odd/+/empty')), ['odd//empty']);
    });

    it('retained - a leading wildcard does not match $ topics, a $ filter does [MQTT-4.7.2-1]', async () => {
      await retained().set(message('$SYS/dollar/x', 'sys'));
      assert.ok(!topicsOf(await retained().match('#')).includes('$SYS/dollar/x'));
      assert.ok(!topicsOf(await retained().match('+/dollar/x')).includes('$SYS/dollar/x'));
      assert.deepEqual(topicsOf(await retained().match('$SYS/dollar/+')), ['$SYS/dollar/x']);
    });

    it('retained - keeps when the message was received, so its expiry counts from then [MQTT-3.3.2-5]', async () => {
      const receivedAt = Date.now() - 30_000;
      await retained().set(message('expiry/t', 'x', { receivedAt, properties: { messageExpiryInterval: 10 } }));
      const [got] = await retained().match('expiry/t');
      assert.equal(got.properties.messageExpiryInterval, 10);
      assert.equal(got.receivedAt, receivedAt);
    });

    it('sessions - load of an unknown client id is null', async () => {
      assert.equal(await sessions().load('nobody'), null);
    });

    it('sessions - save then load gives the record back, queued messages byte for byte', async () => {
      const record = sessionRecord('client-full');
      await sessions().save(record);
      assert.deepEqual(normalised(await sessions().load('client-full')), normalised(record));
    });

    it('sessions - a save replaces the record; delete removes it', async () => {
      await sessions().save(sessionRecord('client-swap'));
      const connected = sessionRecord('client-swap', { subscriptions: [], outbound: [], inboundQos2: [], disconnectedAt: null });
      await sessions().save(connected);
      assert.deepEqual(normalised(await sessions().load('client-swap')), normalised(connected));
      await sessions().delete('client-swap');
      assert.equal(await sessions().load('client-swap'), null);
      // Deleting what is not there is no error.
      await sessions().delete('client-swap');
    });

    it('sessions - list gives every stored session once, any UTF-8 client id', async () => {
      const ids = ['list-1', 'list 2/+#', 'list.*.>', 'ліст-€'];
      for (const id of ids) await sessions().save(sessionRecord(id));
      await sessions().save(sessionRecord('list-gone'));
      await sessions().delete('list-gone');
      const listed = (await sessions().list()).map((r) => r.clientId).filter((id) => id.startsWith('list') || id.startsWith('ліст'));
      assert.deepEqual(listed.sort(), [...ids].sort());
      for (const id of ids) assert.equal((await sessions().load(id))?.clientId, id);
    });

    if (capabilities.messageLog) {
      it('message log - append returns rising sequences; get and after find them by subject', async () => {
        const log = sessions().messageLog;
        assert.ok(log !== null);
        const start = await log.lastSeq();
        const seqA = await log.append(message('log/a', BINARY, { retain: false, receivedAt: 1_700_000_000_000, origin: 'p', properties: { userProperties: { h: 'v' } } }));
        const seqB = await log.append(message('log/b', 'b', { retain: false, qos: 2 }));
        const seqA2 = await log.append(message('log/a', 'a2', { retain: false }));
        assert.ok(start < seqA && seqA < seqB && seqB < seqA2, `${start} < ${seqA} < ${seqB} < ${seqA2}`);
        assert.equal(await log.lastSeq(), seqA2);
        const a = await log.get(seqA);
        assert.ok(a !== null);
        assert.equal(a.topic, 'log/a');
        assert.deepEqual(a.payload, BINARY);
        assert.equal(a.receivedAt, 1_700_000_000_000);
        assert.equal(a.origin, 'p');
        assert.deepEqual(a.properties.userProperties, { h: 'v' });
        assert.equal((await log.get(seqB))?.qos, 2);
        assert.deepEqual((await log.after(start, 'log.a', seqA2, 10)).map((e) => [e.seq, e.message.payload.length]), [[seqA, 256], [seqA2, 2]]);
        assert.deepEqual((await log.after(start, 'log.*', seqB, 10)).map((e) => e.seq), [seqA, seqB], 'up to upTo');
        assert.deepEqual((await log.after(start, 'log.>', seqA2, 1)).map((e) => e.seq), [seqA], 'at most limit');
        assert.deepEqual(await log.after(seqA2, 'log.>', seqA2 + 10, 10), []);
      });

      it('sessions - watch reports saves and deletes, a delete as null', async () => {
        const seen: Array<[string, string | null]> = [];
        const watch = await sessions().watch?.((clientId, record) => void seen.push([clientId, record === null ? null : record.owner ?? '']));
        assert.ok(watch !== undefined);
        try {
          await sessions().save(sessionRecord('watched', { owner: 'gw-w' }));
          await sessions().delete('watched');
          const deadline = Date.now() + 3_000;
          while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
          assert.deepEqual(seen, [['watched', 'gw-w'], ['watched', null]]);
        } finally {
          watch.stop();
        }
      });
    }

    if (capabilities.durable) {
      it('store - sessions, retained messages and the message log survive a reopen', async () => {
        const record = sessionRecord('durable-1');
        await sessions().save(record);
        await sessions().save(sessionRecord('durable-deleted'));
        await sessions().delete('durable-deleted');
        await retained().set(message('durable/t', BINARY));
        const log = sessions().messageLog;
        const seq = log === null ? 0 : await log.append(message('durable/log', 'kept', { retain: false }));
        await target.reopen?.();
        assert.deepEqual(normalised(await sessions().load('durable-1')), normalised(record));
        assert.equal(await sessions().load('durable-deleted'), null);
        assert.ok(!(await sessions().list()).some((r) => r.clientId === 'durable-deleted'));
        assert.deepEqual((await retained().match('durable/#')).map((m) => m.payload), [BINARY]);
        if (log !== null) assert.equal((await sessions().messageLog?.get(seq))?.payload.toString(), 'kept');
      });
    }
  });
}
