// The JetStream client library's KV (core/jetstream-client/kv) over the Broker port: embedded (EmbeddedBroker on Switchboard's core
// and engine) and as in cluster mode (NatsBroker to Debian's nats-server -js).
// What it writes, the official @nats-io/kv client reads, and the other way round.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Broker } from '../../core/broker/broker.ts';
import { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { withDefaultReplicas } from '../../core/broker/stream-replicas.ts';
import { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import { KvClient, KvError } from '../../core/jetstream-client/kv/kv-client.ts';
import { KvWatchClosedError, watchBucket, type KvWatchOptions } from '../../core/jetstream-client/kv/kv-watch.ts';
import type { KvEntry } from '../../core/jetstream-client/kv/kv-client.ts';
import { startNatsServerJetStream, startSwitchboardJetStream, type JetStreamServer } from '../helpers/jetstream.ts';
import type { Peer } from '../helpers/peers.ts';

interface KvTarget {
  name: string;
  peers?: readonly Peer[];
  start(): Promise<{ core: JetStreamServer; broker: Broker }>;
  /** One more broker on the same core. */
  connect(core: JetStreamServer): Promise<Broker>;
}

function kvTargets(): KvTarget[] {
  return [
    {
      name: 'embedded',
      start: async () => {
        const core = await startSwitchboardJetStream();
        return { core, broker: core.broker };
      },
      connect: async (core) => new EmbeddedBroker((core as Awaited<ReturnType<typeof startSwitchboardJetStream>>).server.router),
    },
    {
      name: 'nats-server',
      peers: ['nats-server'],
      start: async () => {
        const core = await startNatsServerJetStream();
        return { core, broker: await NatsBroker.connect({ servers: core.url }) };
      },
      connect: (core) => NatsBroker.connect({ servers: core.url }),
    },
  ];
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const show = (e: KvEntry): string => `${e.operation} ${e.key}=${e.value.toString()}`;

for (const target of kvTargets()) {
  describe(`core kv (${target.name})`, { peers: target.peers }, () => {
    let core: JetStreamServer;
    let broker: Broker;
    let js: JetStreamClient;
    let kv: KvClient;
    let nc: NatsConnection;
    let official: KV;
    before(async () => {
      ({ core, broker } = await target.start());
      js = new JetStreamClient(broker);
      kv = new KvClient(js);
      await kv.createBucket('core', { history: 5, storage: 'memory' });
      nc = await connect({ servers: core.url });
      official = await new Kvm(jetstream(nc)).open('core');
    });
    after(async () => {
      await nc?.close();
      await broker?.close();
      await core?.stop();
    });

    /** Run a watch until `count` entries arrived (or 5 s passed), then stop it. */
    async function watched(options: KvWatchOptions, count: number, during: () => Promise<void> = async () => {}): Promise<Array<{ entry: KvEntry; initial: boolean }>> {
      const got: Array<{ entry: KvEntry; initial: boolean }> = [];
      let reached!: () => void;
      const enough = new Promise<void>((resolve) => (reached = resolve));
      const watcher = await watchBucket(broker, js, 'core', options, (entry, initial) => {
        got.push({ entry, initial });
        if (got.length === count) reached();
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        let initialTimer: NodeJS.Timeout | undefined;
        const initialTimeout = new Promise<never>((_, reject) => (initialTimer = setTimeout(() => reject(new Error('the initial set did not finish within 5 s')), 5000)));
        await Promise.race([watcher.initialDone, initialTimeout]).finally(() => clearTimeout(initialTimer));
        await during();
        // a watch expected to stay quiet is given a short window to prove it
        await Promise.race([count === 0 ? new Promise(() => {}) : enough, new Promise((resolve) => (timer = setTimeout(resolve, count === 0 ? 300 : 5000)))]);
      } finally {
        clearTimeout(timer);
        await watcher.stop();
      }
      assert.equal(got.length, count, got.map((g) => show(g.entry)).join(', '));
      return got;
    }

    it('core kv - put, get, create, update (CAS), delete, purge; the official client sees the same entries', async () => {
      const r1 = await kv.put('core', 'k', bytes('one'));
      assert.equal((await official.get('k'))?.string(), 'one');
      const r2 = await official.put('k', 'two');
      const last = await kv.last('core', 'k');
      assert.equal(last?.value.toString(), 'two');
      assert.equal(last?.revision, r2);
      assert.equal((await kv.revision('core', 'k', r1))?.value.toString(), 'one');
      await assert.rejects(kv.put('core', 'k', bytes('stale'), r1), (e: unknown) => e instanceof KvError && e.kind === 'wrong_revision');
      const r3 = await kv.put('core', 'k', bytes('three'), r2);
      await assert.rejects(kv.create('core', 'k', bytes('x')), (e: unknown) => e instanceof KvError && e.kind === 'exists');
      await kv.delete('core', 'k', false);
      assert.equal((await official.get('k'))?.operation, 'DEL');
      assert.ok((await kv.create('core', 'k', bytes('again'))) > r3);
      assert.deepEqual((await kv.history('core', 'k')).map(show), ['PUT k=one', 'PUT k=two', 'PUT k=three', 'DEL k=', 'PUT k=again']);
      await kv.delete('core', 'k', true);
      assert.deepEqual((await kv.history('core', 'k')).map(show), ['PURGE k=']);
    });

    it('core kv - a counter bucket: increment adds atomically and returns the total (BigInt)', { skip: target.name === 'embedded' ? false : 'counters need nats-server 2.12; Debian has 2.9' }, async () => {
      await kv.createBucket('tally', { counter: true, storage: 'memory' });
      assert.equal(await kv.increment('tally', 'page.home', 1n), 1n);
      const totals = await Promise.all(Array.from({ length: 20 }, () => kv.increment('tally', 'page.home', 5n)));
      assert.equal(totals.sort((x, y) => (x < y ? -1 : 1)).at(-1), 101n, 'concurrent increments are all counted');
      assert.equal(await kv.increment('tally', 'page.home', -(2n ** 70n)), 101n - 2n ** 70n);
      const entry = await kv.last('tally', 'page.home');
      assert.equal(entry?.value.toString(), `{"val":"${101n - 2n ** 70n}"}`);
      await assert.rejects(kv.increment('core', 'not-a-counter', 1n), /message counters is disabled/);
    });

    it('core kv - a bucket leaves num_replicas to the deployment, so --stream-replicas applies on a cluster', async () => {
      const creates: Array<{ subject: string; data: Uint8Array }> = [];
      const recording: Broker = {
        jetstream: broker.jetstream,
        publish: (subject, data, options) => broker.publish(subject, data, options),
        subscribe: (subject, handler, options) => broker.subscribe(subject, handler, options),
        request: (subject, data, options) => {
          if (subject.startsWith('$JS.API.STREAM.CREATE.')) creates.push({ subject, data });
          return broker.request(subject, data, options);
        },
        flush: () => broker.flush(),
        close: () => broker.close(),
      };
      const info = await new KvClient(new JetStreamClient(recording)).createBucket('replicated', { storage: 'memory' });
      assert.equal(info.config.num_replicas, 1, 'one server: one replica');
      assert.equal(creates.length, 1);
      const { subject, data } = creates[0];
      assert.equal(JSON.parse(new TextDecoder().decode(withDefaultReplicas(subject, data, 3))).num_replicas, 3);
    });

    it('core kv - keys: live keys, filtered', async () => {
      for (const k of ['list.a', 'list.b', 'list.c.d']) await kv.put('core', k, bytes(k));
      await official.delete('list.b');
      assert.deepEqual((await kv.keys('core', { filter: 'list.>', limit: 100 })).keys, ['list.a', 'list.c.d']);
      assert.deepEqual((await kv.keys('core', { filter: 'list.*', limit: 100 })).keys, ['list.a']);
    });

    it('core kv - watch: last values first, then updates, delete and purge markers', async () => {
      await kv.put('core', 'w.one', bytes('1'));
      await kv.put('core', 'w.one', bytes('1b'));
      await kv.put('core', 'w.two', bytes('2'));
      const got = await watched({ filter: 'w.*' }, 5, async () => {
        await official.put('w.three', '3');
        await official.delete('w.one');
        await official.purge('w.two');
      });
      assert.deepEqual(got.map((g) => show(g.entry)), ['PUT w.one=1b', 'PUT w.two=2', 'PUT w.three=3', 'DEL w.one=', 'PURGE w.two=']);
      assert.deepEqual(got.map((g) => g.initial), [true, true, false, false, false]);
      assert.ok(got.every((g, i) => i === 0 || g.entry.revision > got[i - 1].entry.revision));
      assert.ok(Math.abs(Date.parse(got[0].entry.created) - Date.now()) < 60_000);
    });

    it('core kv - a watch whose broker closes ends with KvWatchClosedError', async () => {
      const other = await target.connect(core);
      const watcher = await watchBucket(other, new JetStreamClient(other), 'core', { include: 'updates' }, () => {});
      await other.close();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        watcher.closed.then(() => 'resolved', (error: unknown) => error),
        new Promise((resolve) => (timer = setTimeout(() => resolve('still open after 5 s'), 5000))),
      ]).finally(() => clearTimeout(timer));
      assert.ok(outcome instanceof KvWatchClosedError, String(outcome));
      await watcher.stop();
    });

    it('core kv - watch with history, and updates only', async () => {
      await kv.put('core', 'h.k', bytes('a'));
      await kv.put('core', 'h.k', bytes('b'));
      const history = await watched({ filter: 'h.k', include: 'history' }, 2);
      assert.deepEqual(history.map((g) => g.entry.value.toString()), ['a', 'b']);
      const updates = await watched({ filter: 'h.*', include: 'updates' }, 1, async () => {
        await kv.put('core', 'h.k', bytes('c'));
      });
      assert.deepEqual(updates.map((g) => [g.entry.value.toString(), g.initial]), [['c', false]]);
      const empty = await watched({ filter: 'nothing.here' }, 0);
      assert.deepEqual(empty, []);
    });
  });
}
