// Queue groups share load, each group on its own, with the official nats.js client, run against
// Switchboard and Debian's nats-server (which picks a member at random per message).

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { natsTargets, type RunningServer } from '../helpers/servers.ts';

/** Messages a member has received, counted as they arrive. */
function counting(sub: Subscription): { count: number } {
  const tally = { count: 0 };
  void (async () => {
    for await (const _ of sub) tally.count++;
  })();
  return tally;
}

for (const target of natsTargets()) {
  describe(`queue groups (${target.name})`, { peers: target.peers }, () => {
    let server: RunningServer;
    const connections: NatsConnection[] = [];
    before(async () => {
      server = await target.start();
    });
    after(async () => {
      for (const nc of connections) await nc.close();
      await server.stop();
    });
    async function client(): Promise<NatsConnection> {
      const nc = await connect({ servers: server.url });
      connections.push(nc);
      return nc;
    }

    it('queue groups - two groups on one subject each spread their share across every member', async () => {
      const three = await Promise.all([0, 1, 2].map(async () => counting((await client()).subscribe('jobs', { queue: 'three' }))));
      const two = await Promise.all([0, 1].map(async () => counting((await client()).subscribe('jobs', { queue: 'two' }))));
      for (const nc of connections) await nc.flush();
      const pub = await client();
      const n = 300;
      for (let i = 0; i < n; i++) pub.publish('jobs', `job ${i}`);
      await pub.flush();
      const total = (group: { count: number }[]): number => group.reduce((sum, m) => sum + m.count, 0);
      await eventually(() => total(three) >= n && total(two) >= n, 10_000).catch(() => {});
      assert.equal(total(three), n, 'the group of three got every message once');
      assert.equal(total(two), n, 'the group of two got every message once');
      // Random picks (p < 1e-6 of a member falling under these) or a rotation per group both pass;
      // a shared cursor that always lands on one member of the pair does not.
      for (const m of three) assert.ok(m.count >= 50, `each of three gets a share: ${three.map((x) => x.count)}`);
      for (const m of two) assert.ok(m.count >= 100, `each of two gets a share: ${two.map((x) => x.count)}`);
    });

    it('queue groups - a member that leaves mid-stream costs the group nothing', async () => {
      const stayNc = await client();
      const leaveNc = await client();
      const stay = counting(stayNc.subscribe('work', { queue: 'w' }));
      const leavingSub = leaveNc.subscribe('work', { queue: 'w' });
      const leaving = counting(leavingSub);
      await stayNc.flush();
      await leaveNc.flush();
      const pub = await client();
      for (let i = 0; i < 200; i++) pub.publish('work', 'x');
      await pub.flush();
      await leaveNc.flush();
      // Drain: the server stops sending to it and everything already sent to it is still read.
      await leavingSub.drain();
      for (let i = 0; i < 200; i++) pub.publish('work', 'y');
      await pub.flush();
      await eventually(() => stay.count + leaving.count >= 400, 10_000).catch(() => {});
      assert.equal(stay.count + leaving.count, 400, `every message reached one member (${stay.count} + ${leaving.count})`);
      assert.ok(leaving.count > 0 && leaving.count <= 200, `the leaver had its share before it left: ${leaving.count}`);
    });
  });
}
