// Direct get in batches and multi_last (ADR-31, nats-server 2.11): `batch`,
// `max_bytes`, `start_time`, `multi_last`, `up_to_seq`, `up_to_time`,
// `no_hdr`, Nats-Num-Pending / Nats-Last-Sequence on every message and the
// `204 EOB` status (with Nats-UpTo-Sequence after multi_last), against
// Switchboard and a current nats-server (NATS_SERVER_NEW). Raw requests take
// the ADR's examples; the official client's getBatch / getLastMessagesFor run
// the same reads. Status texts: nats-server stream.go processDirectGetRequest,
// getDirectRequest and getDirectMulti.

import assert from 'node:assert/strict';
import { createInbox, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { describe, it } from '../helpers/peer-test.ts';
import { currentJetStreamTargets, useJetStream } from '../helpers/jetstream.ts';
import { toRaw, type RawDelivery } from '../helpers/jetstream-consumers.ts';

/** Everything one direct get answers, up to its closing status (EOB, 404, 408, ...). */
async function directGet(nc: NatsConnection, subject: string, body: unknown): Promise<RawDelivery[]> {
  const inbox = createInbox();
  const got: RawDelivery[] = [];
  const sub = nc.subscribe(inbox, { timeout: 3000 });
  nc.publish(subject, body === '' ? '' : JSON.stringify(body), { reply: inbox });
  for await (const m of sub) {
    const d = toRaw(m);
    got.push(d);
    if (d.status !== 0 || (d.headers['Nats-Num-Pending'] === undefined && got.length === 1)) break;
  }
  sub.unsubscribe();
  return got;
}

/** A reply in short: [sequence, Num-Pending, Last-Sequence] per message, then the status line and its headers. */
function summary(replies: RawDelivery[]): Array<Array<string | number | undefined>> {
  return replies.map((r) => r.status === 0
    ? [Number(r.headers['Nats-Sequence']), r.headers['Nats-Num-Pending'], r.headers['Nats-Last-Sequence']]
    : [r.status, r.description, r.headers['Nats-Num-Pending'], r.headers['Nats-Last-Sequence'], r.headers['Nats-UpTo-Sequence']]);
}

function headersOf(key: string, value: string): MsgHdrs {
  const h = headers();
  h.set(key, value);
  return h;
}

for (const target of currentJetStreamTargets()) {
  describe(`jetstream direct get batches (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const get = (body: unknown, stream = 'DG') => directGet(ctx.nc, `$JS.API.DIRECT.GET.${stream}`, body);
    const times: string[] = [];

    it('direct batch - batch, seq, next_by_subj and max_bytes: Num-Pending / Last-Sequence per message, then 204 EOB', async () => {
      await ctx.jsm.streams.add({ name: 'DG', subjects: ['foo.>'], allow_direct: true });
      const h = headersOf('X-Custom', 'kept');
      for (const [i, s] of ['foo.A', 'foo.B', 'foo.A', 'foo.C', 'foo.B'].entries()) await ctx.js.publish(s, `m${i + 1}`, i === 0 ? { headers: h } : undefined);
      const first = await get({ batch: 3, seq: 1, next_by_subj: 'foo.>' });
      assert.deepEqual(summary(first), [[1, '4', '0'], [2, '3', '1'], [3, '2', '2'], [204, 'EOB', '2', '3', undefined]]);
      assert.deepEqual([first[0].data, first[0].headers['X-Custom'], first[0].headers['Nats-Stream'], first[0].headers['Nats-Subject']], ['m1', 'kept', 'DG', 'foo.A']);
      assert.equal(first[3].data, '');
      times.push(...first.slice(0, 3).map((r) => r.headers['Nats-Time-Stamp']));
      assert.deepEqual(summary(await get({ batch: 3, seq: 4, next_by_subj: 'foo.>' })), [[4, '1', '0'], [5, '0', '4'], [204, 'EOB', '0', '5', undefined]]);
      assert.deepEqual(summary(await get({ batch: 10, next_by_subj: 'foo.B' })), [[2, '1', '0'], [5, '0', '2'], [204, 'EOB', '0', '5', undefined]]);
      assert.deepEqual(summary(await get({ batch: 2, seq: 2 })), [[2, '3', '0'], [3, '2', '2'], [204, 'EOB', '2', '3', undefined]]);
      assert.deepEqual(summary(await get({ batch: 3, max_bytes: 1, seq: 1, next_by_subj: 'foo.>' })), [[1, '4', '0'], [204, 'EOB', '4', '1', undefined]]);
      assert.deepEqual(summary(await get({ batch: 2, start_time: times[2], next_by_subj: 'foo.>' })), [[3, '2', '0'], [4, '1', '3'], [204, 'EOB', '1', '4', undefined]]);
      assert.deepEqual(summary(await get({ batch: 2, seq: 9 })), [[404, 'Message Not Found', undefined, undefined, undefined]]);
      // batch 1 is still a batch (an EOB follows); no batch is a plain get.
      assert.deepEqual(summary(await get({ batch: 1, seq: 5 })), [[5, '0', '0'], [204, 'EOB', '0', '5', undefined]]);
      const single = await get({ seq: 2 });
      assert.deepEqual([single.length, single[0].headers['Nats-Sequence'], single[0].headers['Nats-Num-Pending']], [1, '2', undefined]);
    });

    it('direct batch - start_time alone gets the first message at or after it; no_hdr sends the payload only', async () => {
      const r = await get({ start_time: times[1] });
      assert.deepEqual([r.length, r[0].headers['Nats-Sequence'], r[0].data], [1, '2', 'm2']);
      const bare = await get({ seq: 1, no_hdr: true });
      assert.deepEqual([bare.length, bare[0].status, bare[0].headers, bare[0].data], [1, 0, {}, 'm1']);
    });

    it('direct multi_last - the newest message per subject in sequence order, up_to_seq / up_to_time snapshots, pages by seq', async () => {
      await ctx.jsm.streams.add({ name: 'USERS', subjects: ['u.>'], allow_direct: true });
      const stamps: string[] = [];
      for (const [s, v] of [['u.1234.name', 'Bob'], ['u.1234.surname', 'Smith'], ['u.1234.address', '1 Main Street'], ['u.1234.address', '10 Oak Lane']]) {
        await ctx.js.publish(s, v);
        stamps.push((await get({ last_by_subj: s }, 'USERS'))[0].headers['Nats-Time-Stamp']);
      }
      const all = await get({ multi_last: ['u.1234.>'] }, 'USERS');
      assert.deepEqual(summary(all), [[1, '2', '0'], [2, '1', '1'], [4, '0', '2'], [204, 'EOB', '0', '4', '4']]);
      assert.deepEqual(all.slice(0, 3).map((r) => r.data), ['Bob', 'Smith', '10 Oak Lane']);
      const asOf3 = await get({ multi_last: ['u.1234.>'], up_to_seq: 3 }, 'USERS');
      assert.deepEqual(summary(asOf3), [[1, '2', '0'], [2, '1', '1'], [3, '0', '2'], [204, 'EOB', '0', '3', '3']]);
      assert.equal(asOf3[2].data, '1 Main Street');
      // up_to_time: what was stored before that time (the message stored at it is not included).
      assert.deepEqual(summary(await get({ multi_last: ['u.1234.>'], up_to_time: stamps[3] }, 'USERS')), [[1, '2', '0'], [2, '1', '1'], [3, '0', '2'], [204, 'EOB', '0', '3', '3']]);
      assert.deepEqual(summary(await get({ multi_last: ['u.1234.>'], up_to_time: '2000-01-01T00:00:00Z' }, 'USERS')), [[404, 'No Results', undefined, undefined, undefined]]);
      // Two pages of one: the EOB's Last-Sequence + 1 and UpTo-Sequence carry the cursor.
      const names = ['u.1234.name', 'u.1234.address'];
      const page1 = await get({ multi_last: names, batch: 1 }, 'USERS');
      assert.deepEqual(summary(page1), [[1, '1', '0'], [204, 'EOB', '1', '1', '4']]);
      await ctx.js.publish('u.1234.address', 'moved again');
      const page2 = await get({ multi_last: names, batch: 1, seq: 2, up_to_seq: 4 }, 'USERS');
      assert.deepEqual(summary(page2), [[4, '0', '0'], [204, 'EOB', '0', '4', '4']]);
      assert.deepEqual(summary(await get({ multi_last: ['nothing.here'] }, 'USERS')), [[404, 'No Results', undefined, undefined, undefined]]);
    });

    it('direct multi_last - more than 1024 matching subjects is 413 Too Many Results', async () => {
      await ctx.jsm.streams.add({ name: 'MANY', subjects: ['many.>'], allow_direct: true });
      for (let i = 0; i < 1025; i++) ctx.nc.publish(`many.${i}`, 'x');
      await ctx.nc.flush();
      for (let i = 0; i < 100 && (await ctx.jsm.streams.info('MANY')).state.messages < 1025; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(summary(await get({ multi_last: ['many.>'] }, 'MANY')), [[413, 'Too Many Results', undefined, undefined, undefined]]);
      const r = await get({ multi_last: ['many.1', 'many.2'] }, 'MANY');
      assert.deepEqual(r.map((d) => d.headers['Nats-Subject'] ?? d.status), ['many.1', 'many.2', 204]);
    });

    it('direct get - requests are checked as nats-server does: 408 Empty, Malformed and Bad Request, 412 Required Api Level', async () => {
      const status = async (body: unknown, subject = '$JS.API.DIRECT.GET.DG'): Promise<string> => {
        const r = await directGet(ctx.nc, subject, body);
        return `${r[0].status} ${r[0].description}`;
      };
      assert.equal(await status(''), '408 Empty Request');
      assert.equal(await status({}), '408 Empty Request');
      assert.equal(await status({ batch: 2 }), '408 Empty Request');
      assert.equal(await status({ seq: 'x' }), '408 Malformed Request');
      assert.equal(await status({ seq: -1 }), '408 Malformed Request');
      assert.equal(await status({ start_time: 'yesterday' }), '408 Malformed Request');
      assert.equal(await status({ seq: 1, last_by_subj: 'foo.A' }), '408 Bad Request');
      assert.equal(await status({ seq: 1, start_time: times[0] }), '408 Bad Request');
      assert.equal(await status({ last_by_subj: 'foo.A', batch: 2 }), '408 Bad Request');
      assert.equal(await status({ next_by_subj: 'foo.A', multi_last: ['foo.A'] }), '408 Bad Request');
      assert.equal(await status({ multi_last: ['foo.A'], up_to_seq: 1, up_to_time: times[0] }), '408 Bad Request');
      assert.equal(await status({ batch: 2 }, '$JS.API.DIRECT.GET.DG.foo.A'), '408 Bad Request');
      const tooNew = await ctx.nc.request('$JS.API.DIRECT.GET.DG', JSON.stringify({ seq: 1 }), { timeout: 2000, headers: headersOf('Nats-Required-Api-Level', '99') });
      assert.deepEqual([tooNew.headers?.code, tooNew.headers?.description], [412, 'Required Api Level']);
      const appended = await directGet(ctx.nc, '$JS.API.DIRECT.GET.DG.foo.A', {});
      assert.deepEqual([appended.length, appended[0].headers['Nats-Sequence']], [1, '3']);
    });

    it('direct batch - the official client: getBatch and getLastMessagesFor', async () => {
      const batch = await ctx.jsm.direct.getBatch('DG', { seq: 2, batch: 3 });
      const got: Array<[number, string, number]> = [];
      for await (const m of batch) got.push([m.seq, m.string(), m.pending]);
      assert.deepEqual(got, [[2, 'm2', 3], [3, 'm3', 2], [4, 'm4', 1]]);
      const last = await ctx.jsm.direct.getLastMessagesFor('USERS', { multi_last: ['u.1234.>'] });
      const values: string[] = [];
      for await (const m of last) values.push(`${m.subject}=${m.string()}`);
      assert.deepEqual(values, ['u.1234.name=Bob', 'u.1234.surname=Smith', 'u.1234.address=moved again']);
    });
  });
}
