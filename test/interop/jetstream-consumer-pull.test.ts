// Pull consumers with @nats-io/jetstream: fetch, next, consume, the status
// replies of MSG.NEXT (404, 408, 409) and the CONSUMER.* admin API, against
// Switchboard and, as the differential reference, Debian's nats-server -js.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { jetStreamTargets, rejectsWithCode } from '../helpers/jetstream.ts';
import { openFixture, rawApi, rawPull, type ConsumerFixture } from '../helpers/jetstream-consumers.ts';


for (const target of jetStreamTargets()) {
  describe(`jetstream consumers - pull (${target.name})`, { peers: target.peers }, () => {
    let f: ConsumerFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(async () => {
      await f?.close();
    });

    async function fill(stream: string, subjects: string[], n: number): Promise<void> {
      await f.jsm.streams.add({ name: stream, subjects });
      for (let i = 0; i < n; i++) await f.js.publish(subjects[0].replace('>', String(i % 3)).replace('*', String(i % 3)), `m${i}`);
    }

    it('pull - fetch a batch, each message carries the ack reply and metadata', async () => {
      await fill('PF', ['pf.>'], 10);
      await f.jsm.consumers.add('PF', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      const c = await f.js.consumers.get('PF', 'D');
      const seen: number[] = [];
      for await (const m of await c.fetch({ max_messages: 4, expires: 2000 })) {
        assert.match((m as unknown as { reply: string }).reply ?? '', /^\$JS\.ACK\.PF\.D\.1\.\d+\.\d+\.\d+\.\d+$/);
        assert.equal(m.info.stream, 'PF');
        assert.equal(m.info.consumer, 'D');
        assert.equal(m.info.pending, 10 - m.seq);
        assert.equal(m.string(), `m${m.seq - 1}`);
        seen.push(m.seq);
        m.ack();
      }
      assert.deepEqual(seen, [1, 2, 3, 4]);
      const m = await c.next({ expires: 2000 });
      assert.equal(m?.seq, 5);
      assert.equal(await m?.ackAck(), true);
      const info = await c.info();
      assert.deepEqual(info.delivered, { consumer_seq: 5, stream_seq: 5, ...(info.delivered.last_active ? { last_active: info.delivered.last_active } : {}) });
      assert.equal(info.ack_floor.stream_seq, 5);
      assert.equal(info.num_pending, 5);
      assert.equal(info.num_ack_pending, 0);
    });

    it('pull - stored headers and body arrive intact, from the record cache and from disk (file and memory streams)', async () => {
      // 12 messages of ~900 KiB exceed Switchboard's 8 MiB record cache: the first ones are read back from the segment file.
      for (const storage of ['file', 'memory'] as const) {
        const name = `PH${storage}`;
        await f.jsm.streams.add({ name, subjects: [`ph.${storage}`], storage: storage as never });
        const bodies: string[] = [];
        for (let i = 0; i < 12; i++) {
          const h = headers();
          h.set('X-Index', String(i));
          bodies.push(String.fromCharCode(97 + i).repeat(900 * 1024 + i));
          await f.js.publish(`ph.${storage}`, bodies[i], { headers: h });
        }
        await f.jsm.consumers.add(name, { durable_name: 'D', ack_policy: AckPolicy.None });
        const c = await f.js.consumers.get(name, 'D');
        let n = 0;
        for await (const m of await c.fetch({ max_messages: 12, expires: 5000 })) {
          assert.equal(m.headers?.get('X-Index'), String(n), `${storage} #${n}`);
          assert.equal(m.string(), bodies[n], `${storage} #${n}`);
          n++;
        }
        assert.equal(n, 12);
      }
    });

    it('pull - consume keeps pulling until the stream is drained', async () => {
      await fill('PC', ['pc.>'], 50);
      await f.jsm.consumers.add('PC', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
      const c = await f.js.consumers.get('PC', 'C');
      const msgs = await c.consume({ max_messages: 7 });
      const seqs: number[] = [];
      for await (const m of msgs) {
        seqs.push(m.seq);
        m.ack();
        if (m.info.pending === 0) break;
      }
      assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => i + 1));
      const info = await c.info();
      assert.equal(info.num_pending, 0);
    });

    it('pull - fetch on an empty consumer ends empty after expires; filter and deliver policies pick the start', async () => {
      await fill('PE', ['pe.>'], 9);
      await f.jsm.consumers.add('PE', { durable_name: 'last', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.Last });
      await f.jsm.consumers.add('PE', { durable_name: 'f1', ack_policy: AckPolicy.Explicit, filter_subject: 'pe.1' });
      await f.jsm.consumers.add('PE', { durable_name: 'seq', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 8 });
      await f.jsm.consumers.add('PE', { durable_name: 'lps', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: 'pe.>' });
      const take = async (name: string, n: number): Promise<number[]> => {
        const out: number[] = [];
        const c = await f.js.consumers.get('PE', name);
        for await (const m of await c.fetch({ max_messages: n, expires: 1000 })) {
          out.push(m.seq);
          m.ack();
        }
        return out;
      };
      assert.deepEqual(await take('last', 5), [9]);
      assert.deepEqual(await take('f1', 5), [2, 5, 8]);
      assert.deepEqual(await take('seq', 5), [8, 9]);
      assert.deepEqual(await take('lps', 5), [7, 8, 9]);
      assert.deepEqual(await take('f1', 5), []);
    });

    it('pull - update changes the filter and limits of a live consumer', async () => {
      await fill('PU', ['pu.>'], 6);
      await f.jsm.consumers.add('PU', { durable_name: 'U', ack_policy: AckPolicy.Explicit, filter_subject: 'pu.0' });
      const ci = await f.jsm.consumers.update('PU', 'U', { filter_subject: 'pu.1', max_ack_pending: 7 });
      assert.deepEqual([ci.config.filter_subject, ci.config.max_ack_pending], ['pu.1', 7]);
      const c = await f.js.consumers.get('PU', 'U');
      const seqs: number[] = [];
      for await (const m of await c.fetch({ max_messages: 5, expires: 1000 })) seqs.push(m.seq);
      assert.deepEqual(seqs, [2, 5]);
    });

    it('pull - status replies: 404 No Messages (no_wait), 408 Request Timeout with pending headers, 409 max bytes', async () => {
      await fill('PS', ['ps.>'], 2);
      await f.jsm.consumers.add('PS', { durable_name: 'S', ack_policy: AckPolicy.Explicit });
      const two = await rawPull(f.nc, 'PS', 'S', { batch: 5, no_wait: true }, 2000, (g) => g.some((d) => d.status !== 0));
      // A no_wait request that got some messages ends with 404 No Messages in current nats-server
      // (processWaiting at end of stream); 2.9 ended it with 408 Request Timeout. Clients accept both.
      const end = target.name === 'nats-server' ? [408, 'Request Timeout'] : [404, 'No Messages'];
      assert.deepEqual(two.map((d) => [d.status, d.description]), [[0, ''], [0, ''], end]);
      const none = await rawPull(f.nc, 'PS', 'S', { batch: 1, no_wait: true }, 2000, (g) => g.length > 0);
      assert.deepEqual(none.map((d) => [d.status, d.description]), [[404, 'No Messages']]);
      const timeout = await rawPull(f.nc, 'PS', 'S', { batch: 3, expires: 300_000_000 }, 3000, (g) => g.length > 0);
      assert.deepEqual(timeout.map((d) => [d.status, d.description]), [[408, 'Request Timeout']]);
      assert.equal(timeout[0].headers['Nats-Pending-Messages'], '3');
      assert.equal(timeout[0].headers['Nats-Pending-Bytes'], '0');
      await f.js.publish('ps.big', 'x'.repeat(2000));
      const tooBig = await rawPull(f.nc, 'PS', 'S', { batch: 1, max_bytes: 100, expires: 1_000_000_000 }, 3000, (g) => g.length > 0);
      assert.deepEqual(tooBig.map((d) => [d.status, d.description]), [[409, 'Message Size Exceeds MaxBytes']]);
    });

    it('pull - a pull request to a push consumer gets 409 Consumer is push based', async () => {
      await f.jsm.streams.add({ name: 'PP', subjects: ['pp'] });
      await f.jsm.consumers.add('PP', { durable_name: 'push', ack_policy: AckPolicy.Explicit, deliver_subject: 'deliver.pp' });
      const got = await rawPull(f.nc, 'PP', 'push', { batch: 1, no_wait: true }, 2000, (g) => g.length > 0);
      assert.deepEqual(got.map((d) => [d.status, d.description]), [[409, 'Consumer is push based']]);
    });

    it('pull - admin: info, names, list, delete, and create errors with err_codes', async () => {
      await f.jsm.streams.add({ name: 'PA', subjects: ['pa.>'] });
      // metadata arrived in nats-server 2.10; the 2.9 reference (and its client feature check) goes without.
      const meta = target.name === 'switchboard' ? { metadata: { team: 'x' } } : {};
      const ci = await f.jsm.consumers.add('PA', { durable_name: 'one', ack_policy: AckPolicy.Explicit, ...meta });
      assert.equal(ci.config.ack_wait, 30_000_000_000);
      assert.equal(ci.config.max_ack_pending, 1000);
      assert.equal(ci.config.max_waiting, 512);
      assert.equal(ci.config.max_deliver, -1);
      if (target.name === 'switchboard') assert.equal(ci.config.metadata?.team, 'x');
      await f.jsm.consumers.add('PA', { name: 'eph', ack_policy: AckPolicy.Explicit });
      const names = await f.jsm.consumers.list('PA').next();
      assert.deepEqual(names.map((c) => c.name).sort(), ['eph', 'one']);
      assert.equal((await f.jsm.streams.info('PA')).state.consumer_count, 2);
      assert.equal(await f.jsm.consumers.delete('PA', 'eph'), true);
      await rejectsWithCode(f.jsm.consumers.info('PA', 'eph'), 10014);
      await rejectsWithCode(f.jsm.consumers.add('NOPE', { durable_name: 'x', ack_policy: AckPolicy.Explicit }), 10059);
      await rejectsWithCode(f.jsm.consumers.add('PA', { durable_name: 'bad', ack_policy: AckPolicy.Explicit, filter_subject: 'other.>' }), 10093);
      await rejectsWithCode(f.jsm.consumers.add('PA', { durable_name: 'bad', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence }), 10094);
      await rejectsWithCode(f.jsm.consumers.add('PA', { durable_name: 'bad', ack_policy: AckPolicy.Explicit, backoff: [1e9, 2e9], max_deliver: 1 }), 10116);
      const mismatch = await rawApi(f.nc, '$JS.API.CONSUMER.CREATE.PA.a', { stream_name: 'PA', config: { durable_name: 'b', ack_policy: 'explicit' } });
      assert.equal(mismatch.error.err_code, 10017);
      const ephDurable = await rawApi(f.nc, '$JS.API.CONSUMER.CREATE.PA', { stream_name: 'PA', config: { durable_name: 'b', ack_policy: 'explicit' } });
      assert.equal(ephDurable.error.err_code, 10020);
      const legacy = await rawApi(f.nc, '$JS.API.CONSUMER.DURABLE.CREATE.PA.leg', { stream_name: 'PA', config: { ack_policy: 'explicit' } });
      assert.equal(legacy.error.err_code, 10018);
      const filtered = await rawApi(f.nc, '$JS.API.CONSUMER.CREATE.PA.flt.pa.x', { stream_name: 'PA', config: { name: 'flt', ack_policy: 'explicit', filter_subject: 'pa.y' } });
      assert.equal(filtered.error.err_code, 10131);
      // The create/update `action` field is nats-server 2.10; 2.9 ignores it, so only Switchboard is checked here.
      if (target.name === 'switchboard') {
        const changed = await rawApi(f.nc, '$JS.API.CONSUMER.CREATE.PA.one', { stream_name: 'PA', action: 'create', config: { durable_name: 'one', ack_policy: 'explicit', max_deliver: 3 } });
        assert.equal(changed.error.err_code, 10148);
        const same = await rawApi(f.nc, '$JS.API.CONSUMER.CREATE.PA.one', { stream_name: 'PA', action: 'create', config: { durable_name: 'one', ack_policy: 'explicit', ...meta } });
        assert.equal(same.error, undefined);
        const update = await rawApi(f.nc, '$JS.API.CONSUMER.CREATE.PA.none', { stream_name: 'PA', action: 'update', config: { durable_name: 'none', ack_policy: 'explicit' } });
        assert.equal(update.error.err_code, 10149);
      }
      const info = await rawApi(f.nc, '$JS.API.CONSUMER.INFO.PA.one', '');
      assert.equal(info.type, 'io.nats.jetstream.api.v1.consumer_info_response');
      assert.equal(info.stream_name, 'PA');
      const names2 = await rawApi(f.nc, '$JS.API.CONSUMER.NAMES.PA', '');
      assert.equal(names2.type, 'io.nats.jetstream.api.v1.consumer_names_response');
      assert.deepEqual(names2.consumers, ['one']);
      assert.equal((await f.jsm.getAccountInfo()).consumers >= 1, true);
    });
  });
}
