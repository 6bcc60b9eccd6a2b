// Priority groups for pull consumers (ADR-42; nats-server 2.11-2.12):
// `priority_groups`, `priority_policy` (overflow, pinned_client, prioritized),
// `priority_timeout`, the pull request's group / min_pending / min_ack_pending
// / id / priority, Nats-Pin-Id, 423, CONSUMER.UNPIN, consumer info
// `priority_groups` and the PINNED/UNPINNED advisories. Against Switchboard
// and a current nats-server (NATS_SERVER_NEW), through the official
// @nats-io/jetstream client (consume/fetch with a group, unpin) and raw
// requests shaped as nats-server's jetstream_consumer_test.go sends them
// (TestJetStreamConsumerPinned, ...UnpinNoMessages, ...PinnedTTL,
// ...Overflow, ...Prioritized, ...WithPriorityGroups, ...PriorityPullRequests).

import assert from 'node:assert/strict';
import { createInbox, headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AckPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { describe, it } from '../helpers/peer-test.ts';
import { currentJetStreamTargets, useJetStream } from '../helpers/jetstream.ts';
import { eventually, sleep, toRaw, type RawDelivery } from '../helpers/jetstream-consumers.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';
const SECOND = 1_000_000_000;

/** A pull request left waiting: everything the server sends to its inbox, as it arrives. */
interface OpenPull {
  readonly got: RawDelivery[];
  readonly messages: () => RawDelivery[];
  readonly statuses: () => RawDelivery[];
  close(): void;
}

function openPull(nc: NatsConnection, stream: string, consumer: string, request: Record<string, unknown>): OpenPull {
  const inbox = createInbox();
  const got: RawDelivery[] = [];
  const sub: Subscription = nc.subscribe(inbox, { callback: (_err, m) => void got.push(toRaw(m)) });
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(request), { reply: inbox });
  return {
    got,
    messages: () => got.filter((d) => d.status === 0),
    statuses: () => got.filter((d) => d.status !== 0),
    close: () => sub.unsubscribe(),
  };
}

/** The standby request `p` took over once the pin `old` ended: its one message carries another pin. */
async function pinnedAnew(p: OpenPull, old: string | undefined, data: string): Promise<void> {
  await eventually(() => p.messages().length === 1, 8000);
  const pin = p.messages()[0].headers['Nats-Pin-Id'];
  assert.ok(pin !== undefined && pin !== old, `${pin} after ${old}`);
  assert.equal(p.messages()[0].data, data);
}

for (const target of currentJetStreamTargets()) {
  describe(`jetstream priority groups (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const next = (stream: string, consumer: string) => `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    /** The one status a refused pull request gets. */
    async function refusal(stream: string, consumer: string, request: Record<string, unknown>): Promise<string> {
      const m = await ctx.nc.request(next(stream, consumer), JSON.stringify(request), { timeout: 2000 });
      return `${m.headers?.code} ${m.headers?.description}`;
    }
    async function addConsumer(stream: string, config: Record<string, unknown>): Promise<Record<string, any>> {
      return ctx.api(`$JS.API.CONSUMER.CREATE.${stream}.${String(config.durable_name)}`, { stream_name: stream, config, action: 'create' });
    }
    /** A stream on `subject` with pull consumer C, pinned_client in group A. */
    async function addPinned(stream: string, subject: string, priorityTimeout: number): Promise<void> {
      await ctx.jsm.streams.add({ name: stream, subjects: [subject] });
      await addConsumer(stream, { durable_name: 'C', ack_policy: 'explicit', priority_policy: 'pinned_client', priority_groups: ['A'], priority_timeout: priorityTimeout });
    }

    it('priority groups - config checks answer with nats-server err_codes; pinned_client defaults priority_timeout to 2m', async () => {
      await ctx.jsm.streams.add({ name: 'PGCFG', subjects: ['pgcfg.>'] });
      const base = { ack_policy: 'explicit', filter_subject: 'pgcfg.>' };
      const cases: Array<[string, Record<string, unknown>, number]> = [
        ['no group', { priority_policy: 'pinned_client' }, 10159],
        ['overflow without group', { priority_policy: 'overflow', priority_groups: [] }, 10159],
        ['empty group', { priority_policy: 'pinned_client', priority_groups: [''] }, 10161],
        ['bad group', { priority_policy: 'overflow', priority_groups: ['group name'] }, 10162],
        ['long group', { priority_policy: 'overflow', priority_groups: ['group-name-that-is-too-long'] }, 10162],
        ['groups without policy', { priority_policy: 'none', priority_groups: ['A'] }, 10196],
        ['timeout without policy', { priority_timeout: 10 * SECOND }, 10197],
        ['push', { priority_policy: 'overflow', priority_groups: ['A'], deliver_subject: 'pgcfg-push' }, 10178],
        ['unknown policy', { priority_policy: 'sticky', priority_groups: ['A'] }, 10025],
      ];
      for (const [name, extra, code] of cases) {
        const r = await addConsumer('PGCFG', { durable_name: 'bad', ...base, ...extra });
        assert.equal(r.error?.err_code, code, `${name}: ${JSON.stringify(r.error)}`);
      }
      const pinned = await addConsumer('PGCFG', { durable_name: 'pinned', ...base, priority_policy: 'pinned_client', priority_groups: ['A'] });
      assert.equal(pinned.error, undefined, JSON.stringify(pinned.error));
      assert.deepEqual([pinned.config.priority_policy, pinned.config.priority_groups, pinned.config.priority_timeout], ['pinned_client', ['A'], 120 * SECOND]);
      assert.deepEqual(pinned.priority_groups, [{ group: 'A', pinned_ts: ZERO_TIME }]);
      const overflow = await addConsumer('PGCFG', { durable_name: 'overflow', ...base, priority_policy: 'overflow', priority_groups: ['jobs/x=1'] });
      assert.deepEqual([overflow.config.priority_policy, overflow.config.priority_timeout], ['overflow', undefined]);
      const plain = await addConsumer('PGCFG', { durable_name: 'plain', ...base, priority_policy: 'none' });
      assert.deepEqual([plain.config.priority_policy, plain.priority_groups], [undefined, undefined]);
    });

    it('priority groups - pull requests with the wrong group fields are refused with nats-server 400s and not queued', async () => {
      await ctx.jsm.streams.add({ name: 'PGREQ', subjects: ['pgreq.>'] });
      for (let i = 0; i < 5; i++) await ctx.js.publish('pgreq.a', String(i));
      await addConsumer('PGREQ', { durable_name: 'PINNED', ack_policy: 'explicit', priority_policy: 'pinned_client', priority_groups: ['A'], priority_timeout: 10 * SECOND });
      await addConsumer('PGREQ', { durable_name: 'OVERFLOW', ack_policy: 'explicit', priority_policy: 'overflow', priority_groups: ['A'] });
      await addConsumer('PGREQ', { durable_name: 'STANDARD', ack_policy: 'explicit' });
      const r = { batch: 1, expires: 2 * SECOND };
      assert.equal(await refusal('PGREQ', 'PINNED', { ...r }), '400 Bad Request - Priority Group missing');
      assert.equal(await refusal('PGREQ', 'PINNED', { ...r, group: 'Bad' }), '400 Bad Request - Invalid Priority Group');
      assert.equal(await refusal('PGREQ', 'OVERFLOW', { ...r, group: 'A', id: 'PINNED-ID' }), '400 Bad Request - Not a Pinned Client Priority consumer');
      assert.equal(await refusal('PGREQ', 'STANDARD', { ...r, group: 'A', id: 'PINNED-ID' }), '400 Bad Request - Not a Pinned Client Priority consumer');
      assert.equal(await refusal('PGREQ', 'PINNED', { ...r, group: 'A', min_pending: 10 }), '400 Bad Request - Not a Overflow Priority consumer');
      assert.equal(await refusal('PGREQ', 'STANDARD', { ...r, min_pending: 1 }), '400 Bad Request - Not a Overflow Priority consumer');
      assert.equal(await refusal('PGREQ', 'STANDARD', { ...r, priority: 10 }), '400 Bad Request - Priority must be between 0 and 9');
      assert.equal((await ctx.jsm.consumers.info('PGREQ', 'STANDARD')).num_waiting, 0);
      assert.equal((await ctx.jsm.consumers.info('PGREQ', 'STANDARD')).num_pending, 5);
    });

    it('pinned_client - the first puller is pinned (Nats-Pin-Id), the other stands by; a wrong id gets 423; the pin shows in info', async () => {
      await addPinned('PIN', 'pin.>', 10 * SECOND);
      for (let i = 0; i < 10; i++) await ctx.js.publish(`pin.${i}`, `msg-${i}`, i % 2 === 0 ? { headers: headersOf({ 'Some-Header': 'Value' }) } : undefined);
      const one = openPull(ctx.nc, 'PIN', 'C', { batch: 3, expires: 5 * SECOND, group: 'A' });
      await ctx.nc.flush();
      const two = openPull(ctx.nc, 'PIN', 'C', { batch: 3, expires: 5 * SECOND, group: 'A' });
      try {
        await eventually(() => one.messages().length === 3);
        const pin = one.messages()[0].headers['Nats-Pin-Id'];
        assert.match(pin ?? '', /^\w{22}$/);
        assert.deepEqual(one.messages().map((m) => [m.data, m.headers['Nats-Pin-Id'], m.headers['Some-Header']]), [['msg-0', pin, 'Value'], ['msg-1', pin, undefined], ['msg-2', pin, 'Value']]);
        await sleep(300);
        assert.deepEqual(two.got, [], 'the standby request gets nothing');
        const info = await ctx.jsm.consumers.info('PIN', 'C');
        const state = (info as unknown as { priority_groups: Array<Record<string, string>> }).priority_groups;
        assert.equal(state.length, 1);
        assert.deepEqual([state[0].group, state[0].pinned_client_id], ['A', pin]);
        assert.ok(Math.abs(Date.parse(state[0].pinned_ts) - Date.now()) < 10_000, state[0].pinned_ts);
        assert.equal(await refusal('PIN', 'C', { batch: 3, expires: SECOND, group: 'A', id: 'WRONG' }), '423 Nats-Pin-Id mismatch');
        const good = openPull(ctx.nc, 'PIN', 'C', { batch: 3, expires: 2 * SECOND, group: 'A', id: pin });
        await eventually(() => good.messages().length === 3);
        assert.deepEqual(good.messages().map((m) => [m.data, m.headers['Nats-Pin-Id']]), [['msg-3', pin], ['msg-4', pin], ['msg-5', pin]]);
        good.close();
        assert.deepEqual(two.got, []);
      } finally {
        one.close();
        two.close();
      }
    });

    it('pinned_client - unpin: the standby is pinned with the next message, the old pin gets 423 Nats-Wrong-Pin-Id; advisories tell', async () => {
      await addPinned('UNPIN', 'unpin', 30 * SECOND);
      const advisories: Array<{ subject: string; body: Record<string, unknown> }> = [];
      const adv = ctx.nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.*.UNPIN.C', { callback: (_e, m) => void advisories.push({ subject: m.subject, body: m.json() }) });
      const one = openPull(ctx.nc, 'UNPIN', 'C', { batch: 30, expires: 20 * SECOND, group: 'A' });
      await ctx.nc.flush();
      const two = openPull(ctx.nc, 'UNPIN', 'C', { batch: 30, expires: 20 * SECOND, group: 'A' });
      try {
        await ctx.nc.flush();
        await sleep(100);
        assert.equal(one.got.length + two.got.length, 0, 'no message, no pin');
        assert.equal((await ctx.jsm.consumers.info('UNPIN', 'C') as unknown as { priority_groups: Array<Record<string, string>> }).priority_groups[0].pinned_client_id, undefined);
        await ctx.js.publish('unpin', 'data');
        await ctx.js.publish('unpin', 'data');
        await eventually(() => one.messages().length === 2);
        const pin = one.messages()[0].headers['Nats-Pin-Id'];
        await eventually(() => advisories.some((a) => a.subject.includes('.PINNED.')));
        const pinned = advisories.find((a) => a.subject.includes('.PINNED.'));
        assert.deepEqual([pinned?.subject, pinned?.body.type, pinned?.body.group, pinned?.body.pinned_id], ['$JS.EVENT.ADVISORY.CONSUMER.PINNED.UNPIN.C', 'io.nats.jetstream.advisory.v1.consumer_group_pinned', 'A', pin]);
        assert.deepEqual(two.got, []);
        const r = await ctx.api('$JS.API.CONSUMER.UNPIN.UNPIN.C', { group: 'A' });
        assert.deepEqual(r, { type: 'io.nats.jetstream.api.v1.consumer_unpin_response' });
        await eventually(() => advisories.some((a) => a.subject.includes('.UNPINNED.')));
        const unpinned = advisories.find((a) => a.subject.includes('.UNPINNED.'));
        assert.deepEqual([unpinned?.body.type, unpinned?.body.group, unpinned?.body.reason], ['io.nats.jetstream.advisory.v1.consumer_group_unpinned', 'A', 'admin']);
        // Without a message nothing happens yet: the old pin learns of it with the next one.
        await sleep(200);
        assert.equal(one.statuses().length, 0);
        // The standby (now at the head of the queue) is pinned; the old pin is dropped when it comes up for the next message.
        await ctx.js.publish('unpin', 'data');
        await ctx.js.publish('unpin', 'data');
        await eventually(() => one.statuses().length === 1 && two.messages().length === 2);
        assert.equal(one.messages().length, 2);
        assert.deepEqual([one.statuses()[0].status, one.statuses()[0].description], [423, 'Nats-Wrong-Pin-Id']);
        assert.equal(one.statuses()[0].headers['Nats-Pending-Messages'], '28');
        const newPin = two.messages()[0].headers['Nats-Pin-Id'];
        assert.ok(newPin !== undefined && newPin !== pin, `${newPin} after ${pin}`);
      } finally {
        adv.unsubscribe();
        one.close();
        two.close();
      }
    });

    it('pinned_client - a pin lasts priority_timeout without a pull renewing it, then a waiting request is pinned', async () => {
      await addPinned('PINTTL', 'pinttl', SECOND);
      for (let i = 0; i < 10; i++) await ctx.js.publish('pinttl', String(i));
      const first = openPull(ctx.nc, 'PINTTL', 'C', { batch: 1, expires: 10 * SECOND, group: 'A' });
      await eventually(() => first.messages().length === 1);
      const pin = first.messages()[0].headers['Nats-Pin-Id'];
      const second = openPull(ctx.nc, 'PINTTL', 'C', { batch: 1, expires: 10 * SECOND, group: 'A' });
      try {
        await sleep(300);
        assert.deepEqual(second.got, [], 'still pinned to the first');
        await pinnedAnew(second, pin, '1');
      } finally {
        first.close();
        second.close();
      }
    });

    it('pinned_client - when the pinned client goes away, the standby gets heartbeats until the pin times out, then the pin', async () => {
      await addPinned('PINGONE', 'pingone', SECOND);
      await ctx.js.publish('pingone', 'one');
      const request = { batch: 3, expires: 5 * SECOND, idle_heartbeat: SECOND / 4, group: 'A' };
      const one = openPull(ctx.nc, 'PINGONE', 'C', request);
      await ctx.nc.flush();
      const two = openPull(ctx.nc, 'PINGONE', 'C', request);
      try {
        await eventually(() => one.messages().length === 1);
        const pin = one.messages()[0].headers['Nats-Pin-Id'];
        one.close();
        await ctx.js.publish('pingone', 'two');
        await pinnedAnew(two, pin, 'two');
        assert.ok(two.statuses().some((d) => d.status === 100), 'heartbeats while standing by');
      } finally {
        one.close();
        two.close();
      }
    });

    it('pinned_client - a request refused for max_bytes gives back the pin it was just given; a standby keeps its byte budget', async () => {
      await addPinned('PINBYTES', 'pinbytes.>', 30 * SECOND);
      await ctx.js.publish('pinbytes.big', new Uint8Array(200));
      const small = openPull(ctx.nc, 'PINBYTES', 'C', { batch: 1, max_bytes: 10, expires: 30 * SECOND, group: 'A' });
      const a = openPull(ctx.nc, 'PINBYTES', 'C', { batch: 100, expires: 30 * SECOND, group: 'A' });
      const b = openPull(ctx.nc, 'PINBYTES', 'C', { batch: 100, max_bytes: 500, expires: 30 * SECOND, group: 'A' });
      try {
        await eventually(() => small.statuses().length === 1 && a.messages().length === 1);
        assert.deepEqual([small.statuses()[0].status, small.statuses()[0].description], [409, 'Message Size Exceeds MaxBytes']);
        assert.equal(a.messages()[0].data.length, 200);
        assert.match(a.messages()[0].headers['Nats-Pin-Id'] ?? '', /^\w{22}$/);
        for (let i = 0; i < 10; i++) await ctx.js.publish('pinbytes.more', new Uint8Array(200));
        await eventually(() => a.messages().length === 11);
        await sleep(300);
        assert.deepEqual(b.got, [], 'the standby neither got messages nor lost its max_bytes to the pinned traffic');
      } finally {
        for (const p of [small, a, b]) p.close();
      }
    });

    it('pinned_client - the official client: consume() with a group follows the pin, and jsm.consumers.unpin moves it', async () => {
      await ctx.jsm.streams.add({ name: 'PINJS', subjects: ['pinjs'] });
      await ctx.jsm.consumers.add('PINJS', { durable_name: 'C', ack_policy: AckPolicy.Explicit, priority_policy: 'pinned_client', priority_groups: ['A'], priority_timeout: 30 * SECOND } as never);
      const c = await ctx.js.consumers.get('PINJS', 'C');
      const got: Array<Array<string>> = [[], []];
      const runs: ConsumerMessages[] = [];
      const pinnedIds: string[] = [];
      for (const i of [0, 1]) {
        const it = await c.consume({ group: 'A', max_messages: 10, expires: 2000 } as never);
        runs.push(it);
        void (async () => {
          for await (const s of it.status()) if (s.type === 'consumer_pinned') pinnedIds.push(String((s as { id?: string }).id));
        })();
        void (async () => {
          for await (const m of it) {
            got[i].push(m.string());
            m.ack();
          }
        })();
        await ctx.nc.flush();
        await sleep(100);
      }
      try {
        for (let i = 0; i < 5; i++) await ctx.js.publish('pinjs', `a${i}`);
        await eventually(() => got[0].length + got[1].length === 5);
        const holder = got[0].length === 5 ? 0 : 1;
        assert.equal(got[holder].length, 5, `one client takes every message: ${JSON.stringify(got)}`);
        assert.equal(pinnedIds.length, 1);
        await ctx.jsm.consumers.unpin('PINJS', 'C', 'A');
        for (let i = 0; i < 5; i++) await ctx.js.publish('pinjs', `b${i}`);
        await eventually(() => got[0].length + got[1].length === 10, 8000);
        await eventually(() => pinnedIds.length === 2);
        assert.notEqual(pinnedIds[1], pinnedIds[0]);
      } finally {
        for (const r of runs) await r.close();
      }
    });

    it('overflow - a request with min_pending / min_ack_pending waits until either threshold is reached', async () => {
      await ctx.jsm.streams.add({ name: 'OVER', subjects: ['over.>'] });
      await addConsumer('OVER', { durable_name: 'C', ack_policy: 'explicit', filter_subject: 'over.>', priority_policy: 'overflow', priority_groups: ['A'] });
      await ctx.js.publish('over.1', 'msg-1');
      const ackPending1 = openPull(ctx.nc, 'OVER', 'C', { batch: 1, expires: 90 * SECOND, min_ack_pending: 1, group: 'A' });
      const pending1 = openPull(ctx.nc, 'OVER', 'C', { batch: 1, expires: 90 * SECOND, min_pending: 1, group: 'A' });
      const all = [ackPending1, pending1];
      try {
        await eventually(() => pending1.messages().length === 1);
        await sleep(200);
        assert.deepEqual(ackPending1.got, [], 'nothing awaits an ack yet');
        await ctx.js.publish('over.1', 'msg-2');
        await ctx.js.publish('over.1', 'msg-3');
        // msg-1 awaits its ack now: ackPending1 takes msg-2.
        await eventually(() => ackPending1.messages().length === 1);
        const pending10 = openPull(ctx.nc, 'OVER', 'C', { batch: 1, expires: 90 * SECOND, min_pending: 10, group: 'A' });
        all.push(pending10);
        await sleep(300);
        assert.deepEqual(pending10.got, [], 'one pending, below 10');
        const plain = openPull(ctx.nc, 'OVER', 'C', { batch: 1, expires: 90 * SECOND, group: 'A' });
        all.push(plain);
        await eventually(() => plain.messages().length === 1);
        assert.equal(plain.messages()[0].data, 'msg-3');
        for (let i = 0; i < 20; i++) await ctx.js.publish('over.1', `more-${i}`);
        await eventually(() => pending10.messages().length === 1);
        assert.equal(pending10.messages()[0].data, 'more-0');
      } finally {
        for (const p of all) p.close();
      }
    });

    it('overflow - the official client: fetch({ group, min_pending }) gets nothing below the threshold and messages above it', async () => {
      await ctx.jsm.streams.add({ name: 'OVERJS', subjects: ['overjs'] });
      await ctx.jsm.consumers.add('OVERJS', { durable_name: 'C', ack_policy: AckPolicy.Explicit, priority_policy: 'overflow', priority_groups: ['A'] } as never);
      const c = await ctx.js.consumers.get('OVERJS', 'C');
      const fetchAll = async (): Promise<string[]> => {
        const out: string[] = [];
        for await (const m of await c.fetch({ group: 'A', min_pending: 5, max_messages: 3, expires: 1000 } as never)) {
          out.push(m.string());
          m.ack();
        }
        return out;
      };
      for (let i = 0; i < 3; i++) await ctx.js.publish('overjs', String(i));
      assert.deepEqual(await fetchAll(), []);
      for (let i = 3; i < 8; i++) await ctx.js.publish('overjs', String(i));
      assert.deepEqual(await fetchAll(), ['0', '1', '2']);
    });

    it('prioritized - the lowest priority number is served first, round-robin within one priority', async () => {
      await ctx.jsm.streams.add({ name: 'PRIO', subjects: ['prio'] });
      await addConsumer('PRIO', { durable_name: 'C', ack_policy: 'none', filter_subject: 'prio', priority_policy: 'prioritized', priority_groups: ['A'] });
      const p3 = openPull(ctx.nc, 'PRIO', 'C', { batch: 1, expires: 10 * SECOND, group: 'A', priority: 3 });
      const p1 = openPull(ctx.nc, 'PRIO', 'C', { batch: 1, expires: 10 * SECOND, group: 'A', priority: 1 });
      const p2 = openPull(ctx.nc, 'PRIO', 'C', { batch: 2, expires: 10 * SECOND, group: 'A', priority: 2 });
      try {
        await eventually(async () => (await ctx.jsm.consumers.info('PRIO', 'C')).num_waiting === 3);
        const counts = (): number[] => [p1, p2, p3].map((p) => p.messages().length);
        await ctx.js.publish('prio', 'm1');
        await eventually(() => counts().join() === '1,0,0');
        await ctx.js.publish('prio', 'm2');
        await eventually(() => counts().join() === '1,1,0');
        await ctx.js.publish('prio', 'm3');
        await eventually(() => counts().join() === '1,2,0');
        await ctx.js.publish('prio', 'm4');
        await eventually(() => counts().join() === '1,2,1');
      } finally {
        for (const p of [p1, p2, p3]) p.close();
      }
    });

    it('prioritized - the official client: fetch({ group, priority }) of a better priority is served before a waiting worse one', async () => {
      await ctx.jsm.streams.add({ name: 'PRIOJS', subjects: ['priojs'] });
      await ctx.jsm.consumers.add('PRIOJS', { durable_name: 'C', ack_policy: AckPolicy.Explicit, priority_policy: 'prioritized', priority_groups: ['A'] } as never);
      const c = await ctx.js.consumers.get('PRIOJS', 'C');
      const fetchOne = async (priority: number): Promise<string[]> => {
        const out: string[] = [];
        for await (const m of await c.fetch({ group: 'A', priority, max_messages: 1, expires: 3000 } as never)) {
          out.push(m.string());
          m.ack();
        }
        return out;
      };
      const worse = fetchOne(5);
      await eventually(async () => (await ctx.jsm.consumers.info('PRIOJS', 'C')).num_waiting === 1);
      const better = fetchOne(0);
      await eventually(async () => (await ctx.jsm.consumers.info('PRIOJS', 'C')).num_waiting === 2);
      await ctx.js.publish('priojs', 'first');
      await ctx.js.publish('priojs', 'second');
      assert.deepEqual([await better, await worse], [['first'], ['second']]);
    });

    it('unpin - errors in nats-server order: group name, stream, consumer, group of the consumer', async () => {
      await ctx.jsm.streams.add({ name: 'UPERR', subjects: ['uperr'] });
      await addConsumer('UPERR', { durable_name: 'C', ack_policy: 'explicit', priority_policy: 'pinned_client', priority_groups: ['A'] });
      const code = async (subject: string, body: unknown): Promise<number | undefined> => (await ctx.api(subject, body)).error?.err_code;
      assert.equal(await code('$JS.API.CONSUMER.UNPIN.UPERR.C', { group: 'B' }), 10160);
      assert.equal(await code('$JS.API.CONSUMER.UNPIN.NOPE.C', { group: 'A' }), 10059);
      assert.equal(await code('$JS.API.CONSUMER.UNPIN.UPERR.NOPE', { group: 'A' }), 10014);
      assert.deepEqual((await ctx.api('$JS.API.CONSUMER.UNPIN.UPERR.C', { group: '' })).error, { code: 400, err_code: 10025, description: 'invalid JSON: consumer group not specified' });
      assert.equal(await code('$JS.API.CONSUMER.UNPIN.UPERR.C', { group: 'group    name\r\n' }), 10162);
      assert.equal(await code('$JS.API.CONSUMER.UNPIN.NOPE.C', { group: 'bad name' }), 10162);
      assert.equal((await ctx.api('$JS.API.CONSUMER.UNPIN.UPERR.C', { group: 'A' })).error, undefined);
    });
  });
}

function headersOf(entries: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(entries)) h.set(k, v);
  return h;
}
