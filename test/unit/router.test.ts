// Router.deliverAs, the path JetStream consumers deliver by: routed by the pull inbox or deliver
// subject, shown under the stored subject, with publish's rules. In process, with recording
// subscribers (the router is what is under test).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from '../../core/server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../../core/server/subscription.ts';

interface Received {
  subject: string;
  reply: string | null;
}

function recorder(): Subscriber & { got: Received[] } {
  const got: Received[] = [];
  return { id: nextInternalSubscriberId(), echo: true, got, deliver: (_sub, subject, reply) => void got.push({ subject, reply }), subscriptionEnded() {} };
}

describe('router - deliverAs', () => {
  it('router - deliverAs routes by one subject, shows another, and is not counted as inbound', () => {
    const router = new Router();
    const inbox = recorder();
    const other = recorder();
    router.subscribe(new Subscription(inbox, '_INBOX.abc.*', null, '1'));
    router.subscribe(new Subscription(other, 'orders.new', null, '2'));
    assert.equal(router.deliverAs('_INBOX.abc.7', 'orders.new', '$JS.ACK.S.C.1.1.1.0.0', -1, Buffer.from('x'), null), 1);
    assert.deepEqual(inbox.got, [{ subject: 'orders.new', reply: '$JS.ACK.S.C.1.1.1.0.0' }]);
    assert.equal(other.got.length, 0, 'the shown subject does not route');
    assert.equal(router.stats.inMsgs, 0);
    assert.equal(router.deliverAs('_INBOX.nobody.1', 'orders.new', 'r', -1, Buffer.from('x'), null), 0);
  });

  it('router - deliverAs gives each queue group one member, every member of two groups a share, and ends a subscription at its max', () => {
    const router = new Router();
    const groups = [['a', 2], ['b', 2]] as const;
    const members = groups.flatMap(([queue, size]) => Array.from({ length: size }, (_, i) => {
      const r = recorder();
      router.subscribe(new Subscription(r, 'deliver.x', queue, `${queue}${i}`));
      return { queue, r };
    }));
    const n = 1_000;
    for (let i = 0; i < n; i++) assert.equal(router.deliverAs('deliver.x', 'stored', null, -1, Buffer.from('x'), null), 2);
    for (const [queue] of groups) {
      const counts = members.filter((m) => m.queue === queue).map((m) => m.r.got.length);
      assert.equal(counts.reduce((a, b) => a + b, 0), n);
      for (const c of counts) assert.ok(c >= 0.2 * n && c <= 0.8 * n, `group ${queue}: ${counts}`);
    }
    const once = recorder();
    const sub = new Subscription(once, 'deliver.y', null, 'y');
    sub.max = 1;
    router.subscribe(sub);
    router.deliverAs('deliver.y', 'stored', null, -1, Buffer.from('x'), null);
    assert.equal(router.deliverAs('deliver.y', 'stored', null, -1, Buffer.from('x'), null), 0);
    assert.equal(once.got.length, 1);
  });

  it('router - deliverAs to an _INBOX skips a subscription that hides reserved subjects (an MQTT #)', () => {
    const router = new Router();
    const hash = recorder();
    const hiding = new Subscription(hash, '>', null, 'h');
    hiding.hidesReserved = true;
    router.subscribe(hiding);
    assert.equal(router.deliverAs('_INBOX.abc.1', 'stored', null, -1, Buffer.from('x'), null), 0);
    assert.equal(hash.got.length, 0);
  });
});

describe('router - messages forwarded by another server', () => {
  it('router - a peer-forwarded message serves only the queue groups it names, and a queue group prefers local members to remote interest', () => {
    const router = new Router();
    const plain = recorder();
    const local = recorder();
    const remote = recorder();
    const other = recorder();
    router.subscribe(new Subscription(plain, 'jobs.x', null, 'p'));
    const remoteSub = new Subscription(remote, 'jobs.x', 'workers', 'r');
    remoteSub.remote = true;
    router.subscribe(remoteSub);
    const localSub = new Subscription(local, 'jobs.x', 'workers', 'l');
    router.subscribe(localSub);
    router.subscribe(new Subscription(other, 'jobs.x', 'auditors', 'o'));
    // Named no group (a leaf LMSG without queues): plain subscribers only.
    assert.equal(router.publish('jobs.x', null, -1, Buffer.from('1'), null, []), 1);
    // Named `workers`: that group too, not `auditors`; the local member every time.
    for (let i = 0; i < 20; i++) router.publish('jobs.x', null, -1, Buffer.from('2'), null, ['workers']);
    assert.deepEqual([plain.got.length, local.got.length, remote.got.length, other.got.length], [21, 20, 0, 0]);
    // Without a local member, the remote interest takes it.
    router.unsubscribe(localSub);
    router.publish('jobs.x', null, -1, Buffer.from('3'), null);
    assert.deepEqual([remote.got.length, other.got.length], [1, 1]);
  });
});
