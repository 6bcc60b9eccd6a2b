// The Subscriber seam's contract (DESIGN seam 2: what the router delivers to),
// one suite for every implementation (CONVENTIONS 2): a NATS client, an MQTT
// session, an HTTP stream, JetStream's stream capture and the Kafka bridge.
// Each is driven through its own protocol client, while a NATS client
// publishes into the core, so the suite proves that every one of them honours
// the same promises: what matches arrives, in order, payload and headers byte
// for byte; wildcards match as NATS defines them; a queue group shares the
// messages out, each to one member; unsubscribing stops delivery.

import assert from 'node:assert/strict';
import { after, before, describe, it } from './peer-test.ts';
import type { Peer } from './peers.ts';

/** A message as the implementation's own client saw it, mapped back to NATS terms. */
export interface Delivered {
  readonly subject: string;
  readonly payload: Buffer;
  /** Header name and value pairs, in order; names as delivered. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export interface SubscriberHandle {
  /** How many messages arrived so far (cheap: polled while waiting). */
  count(): Promise<number>;
  /** Every message that arrived so far, in arrival order. */
  messages(): Promise<Delivered[]>;
  unsubscribe(): Promise<void>;
}

export interface SubscriberTarget {
  /** Publish into the core with a NATS client; resolves once the core has it. */
  publish(subject: string, payload: Buffer, headers?: ReadonlyArray<readonly [string, string]>): Promise<void>;
  /** Subscribe on a NATS subject (wildcards allowed) the implementation's way; resolves once live. */
  subscribe(subject: string, queue?: string): Promise<SubscriberHandle>;
  dispose(): Promise<void>;
}

export interface SubscriberCapabilities {
  /** The implementation can join a queue group. */
  readonly queue: boolean;
  /** The implementation carries NATS headers through (MQTT 5 user properties, Kafka headers...). */
  readonly headers: boolean;
}

/** Valid UTF-8 with the bytes text protocols get wrong: NUL, CR LF, multi-byte characters. */
const AWKWARD = Buffer.from('nul\u0000 crlf\r\n tab\t é € 𝄞 end', 'utf8');

let prefixes = 0;
/** A subject prefix of its own for each test, so tests never see each other's messages. */
function fresh(): string {
  return `sc${process.pid}x${++prefixes}`;
}

async function eventually(handle: SubscriberHandle, count: number, what: string, timeoutMs = 10_000): Promise<Delivered[]> {
  const deadline = Date.now() + timeoutMs;
  let seen = await handle.count();
  while (seen < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen = await handle.count();
  }
  assert.ok(seen >= count, `${what}: ${seen} of ${count} messages arrived`);
  return handle.messages();
}

export function describeSubscriber(name: string, makeTarget: () => Promise<SubscriberTarget>, capabilities: SubscriberCapabilities, peers: readonly Peer[] = []): void {
  describe(`subscriber contract (${name})`, { peers }, () => {
    let target: SubscriberTarget;
    before(async () => {
      target = await makeTarget();
    });
    after(() => target.dispose());

    it('subscriber - receives what it subscribed to, in publish order, payload byte for byte', async () => {
      const p = fresh();
      const handle = await target.subscribe(`${p}.orders`);
      const payloads = Array.from({ length: 50 }, (_, i) => Buffer.concat([Buffer.from(`#${i} `), AWKWARD]));
      for (const payload of payloads) await target.publish(`${p}.orders`, payload);
      const got = await eventually(handle, payloads.length, 'ordered delivery');
      assert.deepEqual(got.map((m) => m.subject), payloads.map(() => `${p}.orders`));
      assert.deepEqual(got.map((m) => m.payload), payloads);
      await handle.unsubscribe();
    });

    it('subscriber - an empty payload is delivered as empty', async () => {
      const p = fresh();
      const handle = await target.subscribe(`${p}.empty`);
      await target.publish(`${p}.empty`, Buffer.alloc(0));
      await target.publish(`${p}.empty`, Buffer.from('after'));
      const got = await eventually(handle, 2, 'empty then non-empty');
      assert.deepEqual(got.map((m) => m.payload.toString()), ['', 'after']);
      await handle.unsubscribe();
    });

    // One wildcard per test: JetStream streams may not overlap, and these would.
    it('subscriber - * matches exactly one token', async () => {
      const p = fresh();
      const star = await target.subscribe(`${p}.*.x`);
      for (const subject of [`${p}.a.x`, `${p}.b.x`, `${p}.a.x.y`, `${p}.x`, `${p}.a.b.x`, `${p}x.a.x`]) await target.publish(subject, Buffer.from(subject));
      // A sentinel last: once it is in, anything that matched would be too (publish order).
      await target.publish(`${p}.end.x`, Buffer.from('end'));
      const got = await eventually(star, 3, `${p}.*.x`);
      // Sorted: order is promised per subject (Kafka keeps it per key, hence per partition).
      assert.deepEqual(got.map((m) => m.subject).sort(), [`${p}.a.x`, `${p}.b.x`, `${p}.end.x`].sort());
      await star.unsubscribe();
    });

    it('subscriber - > matches one or more tokens, not the parent', async () => {
      const p = fresh();
      const tail = await target.subscribe(`${p}.a.>`);
      for (const subject of [`${p}.a.x`, `${p}.a`, `${p}.b.x`, `${p}.a.x.y`, `${p}.a.b.c.d`, `${p}x.a.x`]) await target.publish(subject, Buffer.from(subject));
      await target.publish(`${p}.a.end`, Buffer.from('end'));
      const got = await eventually(tail, 4, `${p}.a.>`);
      assert.deepEqual(got.map((m) => m.subject).sort(), [`${p}.a.x`, `${p}.a.x.y`, `${p}.a.b.c.d`, `${p}.a.end`].sort());
      await tail.unsubscribe();
    });

    it('subscriber - unsubscribe stops delivery', async () => {
      const p = fresh();
      const gone = await target.subscribe(`${p}.t`);
      const witness = await target.subscribe(`${p}.w`);
      await target.publish(`${p}.t`, Buffer.from('before'));
      await eventually(gone, 1, 'before unsubscribe');
      await gone.unsubscribe();
      await target.publish(`${p}.t`, Buffer.from('after'));
      // Published after 'after': once the witness has it, 'after' had every chance to arrive.
      await target.publish(`${p}.w`, Buffer.from('witness'));
      await eventually(witness, 1, 'the witness');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual((await gone.messages()).map((m) => m.payload.toString()), ['before']);
      await witness.unsubscribe();
    });

    if (capabilities.headers) {
      it('subscriber - headers arrive with their values byte for byte, repeats in order', async () => {
        const p = fresh();
        const handle = await target.subscribe(`${p}.h`);
        const headers: Array<[string, string]> = [['X-Trace', 'abc-123'], ['X-Multi', 'one'], ['X-Multi', 'two'], ['X-Text', 'é € spaces  inside']];
        await target.publish(`${p}.h`, AWKWARD, headers);
        const [got] = await eventually(handle, 1, 'a message with headers');
        assert.deepEqual(got.payload, AWKWARD);
        for (const name of ['X-Trace', 'X-Multi', 'X-Text']) {
          const values = got.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
          assert.deepEqual(values, headers.filter(([k]) => k === name).map(([, v]) => v), name);
        }
        await handle.unsubscribe();
      });
    }

    if (capabilities.queue) {
      it('subscriber - a queue group gives each message to exactly one member', async () => {
        const p = fresh();
        const members = [await target.subscribe(`${p}.q`, 'workers'), await target.subscribe(`${p}.q`, 'workers')];
        const plain = await target.subscribe(`${p}.q`);
        const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
        for (const text of sent) await target.publish(`${p}.q`, Buffer.from(text));
        // Every message reaches the plain subscriber, and one member of the group.
        await eventually(plain, sent.length, 'the plain subscriber');
        const deadline = Date.now() + 10_000;
        let total = 0;
        while (Date.now() < deadline) {
          total = (await members[0].count()) + (await members[1].count());
          if (total >= sent.length) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        const got = [...(await members[0].messages()), ...(await members[1].messages())].map((m) => m.payload.toString());
        assert.deepEqual([...got].sort(), [...sent].sort(), 'each message once across the group');
        assert.ok((await members[0].count()) > 0 && (await members[1].count()) > 0, 'both members got some');
        for (const h of [...members, plain]) await h.unsubscribe();
      });
    }
  });
}
