// Unit tests for the consumer building blocks: ack subjects and payloads, pull
// request parsing, the shared deadline heap, and the consumer config mapper's
// defaults and err_codes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckKind, ackSubject, nanosText, parseAckPayload, parseAckSubject, parseDeliveryReply } from '../../core/jetstream/consumer/ack-subjects.ts';
import { consumerConfigFromWire, consumerConfigToWire } from '../../core/jetstream/consumer/consumer-config.ts';
import { DeadlineScheduler } from '../../core/jetstream/consumer/deadline-scheduler.ts';
import { parsePullRequest, PullRequestError, PullRequestQueue } from '../../core/jetstream/consumer/pull-requests.ts';
import { JetStreamApiError } from '../../core/protocol/jetstream-api-error.ts';
import { streamConfigFromWire } from '../../core/jetstream/stream-config.ts';

const stream = streamConfigFromWire({ name: 'S', subjects: ['s.>'] });
const wq = streamConfigFromWire({ name: 'W', subjects: ['w.>'], retention: 'workqueue' });

function errCode(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof JetStreamApiError) return err.errCode;
    throw err;
  }
  return 0;
}

describe('consumer - ack subjects', () => {
  it('consumer - ack subject round-trips; nanosecond time stays exact past 2^53', () => {
    const subject = ackSubject('$JS.ACK.S.C.', 2, 17, 40, 1_795_436_611_551.901367, 3);
    assert.equal(subject, '$JS.ACK.S.C.2.17.40.1795436611551901367.3');
    assert.deepEqual(parseAckSubject(subject), { stream: 'S', consumer: 'C', deliveries: 2, streamSeq: 17, consumerSeq: 40 });
    assert.equal(nanosText(1000.5), '1000500000');
    // Fractions of few digits are zero-padded; a repeated millisecond (its text is remembered) and a return to an earlier one stay right.
    assert.deepEqual([1000.000001, 1000.25, 1001, 1000].map(nanosText), ['1000000001', '1000250000', '1001000000', '1000000000']);
    // Times near 1e9 ms keep nanoseconds exact in a double, so the text can be checked against integer arithmetic.
    for (let i = 0; i < 1000; i++) {
      const ms = 1_000_000_000 + Math.floor(i / 7);
      const frac = (i * 7919) % 1_000_000;
      assert.equal(nanosText(ms + frac / 1e6), String(BigInt(ms) * 1_000_000n + BigInt(frac)), `${ms} + ${frac} ns`);
    }
    assert.deepEqual(parseAckSubject('$JS.ACK.dom.hash.S.C.1.2.3.4.5.rand'), { stream: 'S', consumer: 'C', deliveries: 1, streamSeq: 2, consumerSeq: 3 });
    assert.equal(parseAckSubject('$JS.ACK.S.C.x.2.3.4.5'), null);
    assert.equal(parseAckSubject('$JS.ACK.S.C.1.2'), null);
  });

  it('consumer - a delivery reply read by a sourcing link: ack fields, origin time in ms and pending, v1 and v2', () => {
    assert.deepEqual(parseDeliveryReply('$JS.ACK.S.C.1.17.40.1795436611551901367.3'), { stream: 'S', consumer: 'C', deliveries: 1, streamSeq: 17, consumerSeq: 40, timeMs: 1_795_436_611_551.901367, pending: 3 });
    assert.deepEqual(parseDeliveryReply('$JS.ACK.hub.hash.S.C.1.2.3.1000500000.0.rand'), { stream: 'S', consumer: 'C', deliveries: 1, streamSeq: 2, consumerSeq: 3, timeMs: 1000.5, pending: 0 });
    assert.equal(parseDeliveryReply('$JS.ACK.S.C.1.2.3.notanumber.0'), null);
    assert.equal(parseDeliveryReply('$JS.ACK.S.C.1.2.3.1000500000.x'), null);
    assert.equal(parseDeliveryReply('$JS.FC.S.C.abcd'), null);
  });

  it('consumer - ack payloads: empty and +ACK ack, -NAK delay in ms, +NXT request, +TERM reason, others ignored', () => {
    assert.equal(parseAckPayload(Buffer.alloc(0))?.kind, AckKind.Ack);
    assert.equal(parseAckPayload(Buffer.from('+ACK'))?.kind, AckKind.Ack);
    assert.equal(parseAckPayload(Buffer.from('+WPI'))?.kind, AckKind.Progress);
    assert.deepEqual([parseAckPayload(Buffer.from('-NAK'))?.kind, parseAckPayload(Buffer.from('-NAK'))?.delayMs], [AckKind.Nak, 0]);
    assert.equal(parseAckPayload(Buffer.from('-NAK {"delay":250000000}'))?.delayMs, 250);
    assert.equal(parseAckPayload(Buffer.from('+NXT {"batch":5}'))?.next.toString(), '{"batch":5}');
    assert.equal(parseAckPayload(Buffer.from('+TERM poison message'))?.reason, 'poison message');
    assert.equal(parseAckPayload(Buffer.from('hello')), null);
  });
});

describe('consumer - pull requests', () => {
  it('consumer - empty body is batch 1; a number is a batch; JSON gives expires, bytes, no_wait, heartbeat', () => {
    assert.equal(parsePullRequest('r', Buffer.alloc(0), 0).batch, 1);
    assert.equal(parsePullRequest('r', Buffer.from('7'), 0).batch, 7);
    const r = parsePullRequest('r', Buffer.from('{"batch":10,"expires":2000000000,"max_bytes":512,"no_wait":true,"idle_heartbeat":500000000}'), 1000);
    assert.deepEqual([r.batch, r.expiresAt, r.maxBytes, r.noWait, r.heartbeatMs], [10, 3000, 512, true, 500]);
    assert.throws(() => parsePullRequest('r', Buffer.from('{bad'), 0), (e: unknown) => e instanceof PullRequestError && e.status === 400);
    assert.throws(() => parsePullRequest('r', Buffer.from('{"expires":100,"idle_heartbeat":100}'), 0), /heartbeat value too large/);
  });

  it('consumer - the queue serves requests round-robin and drops satisfied ones', () => {
    const q = new PullRequestQueue();
    const a = parsePullRequest('a', Buffer.from('2'), 0);
    const b = parsePullRequest('b', Buffer.from('1'), 0);
    q.push(a);
    q.push(b);
    const order: string[] = [];
    for (let r = q.peek(); r !== undefined; r = q.peek()) {
      order.push(r.reply);
      r.batch--;
      q.rotate();
    }
    assert.deepEqual(order, ['a', 'b', 'a']);
    assert.ok(a.done && b.done);
  });

  it('consumer - prioritized: the queue keeps priority order, round-robin within one priority, bare numbers last (NS insertAtPosition)', () => {
    const q = new PullRequestQueue(true);
    const req = (reply: string, body: string) => parsePullRequest(reply, Buffer.from(body), 0);
    q.push(req('bare', '1'));
    q.push(req('p3', '{"batch":1,"group":"A","priority":3}'));
    q.push(req('p1a', '{"batch":2,"group":"A","priority":1}'));
    q.push(req('p1b', '{"batch":1,"group":"A","priority":1}'));
    q.push(req('p0', '{"batch":1,"group":"A"}'));
    const order: string[] = [];
    for (let r = q.peek(); r !== undefined; r = q.peek()) {
      order.push(r.reply);
      r.batch--;
      q.rotate();
    }
    assert.deepEqual(order, ['p0', 'p1a', 'p1b', 'p1a', 'p3', 'bare']);
  });

  it('consumer - pull request group fields: present (zero-valued) for any JSON request, absent for a bare number', () => {
    assert.equal(parsePullRequest('r', Buffer.from('5'), 0).group, null);
    assert.deepEqual(parsePullRequest('r', Buffer.from('{"batch":1}'), 0).group, { group: '', minPending: 0, minAckPending: 0, id: '', priority: 0 });
    assert.deepEqual(
      parsePullRequest('r', Buffer.from('{"group":"A","min_pending":10,"min_ack_pending":5,"id":"PIN","priority":2}'), 0).group,
      { group: 'A', minPending: 10, minAckPending: 5, id: 'PIN', priority: 2 },
    );
  });
});

describe('consumer - deadline scheduler', () => {
  it('consumer - deadlines fire in time order from one timer', async () => {
    const s = new DeadlineScheduler();
    const fired: number[] = [];
    const now = Date.now();
    for (const ms of [60, 10, 40, 20]) s.add({ at: now + ms, fire: () => fired.push(ms) });
    assert.equal(s.size, 4);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(fired, [10, 20, 40, 60]);
    assert.equal(s.size, 0);
    s.stop();
  });
});

describe('consumer - config', () => {
  it('consumer - defaults as nats-server: ack_wait 30s, max_ack_pending 1000, max_waiting 512, max_deliver -1; backoff sets ack_wait', () => {
    const c = consumerConfigFromWire({ durable_name: 'd', ack_policy: 'explicit' }, stream);
    assert.deepEqual([c.ackWait, c.maxAckPending, c.maxWaiting, c.maxDeliver, c.inactiveThreshold], [30e9, 1000, 512, -1, 0]);
    const e = consumerConfigFromWire({ ack_policy: 'explicit', backoff: [1e9, 5e9] }, stream);
    assert.deepEqual([e.ackWait, e.inactiveThreshold], [1e9, 5e9]);
    const w = consumerConfigToWire(consumerConfigFromWire({ durable_name: 'p', deliver_subject: 'out', ack_policy: 'none' }, stream));
    assert.deepEqual([w.max_waiting, w.max_ack_pending, w.ack_wait], [undefined, undefined, undefined]);
  });

  it('consumer - invalid configs answer with nats-server err_codes', () => {
    const bad = (w: Record<string, unknown>, s = stream): number => errCode(() => consumerConfigFromWire(w, s));
    assert.equal(bad({ deliver_subject: 'out.*' }), 10079);
    assert.equal(bad({ deliver_subject: 's.x' }), 10081);
    assert.equal(bad({ deliver_subject: 'out', max_waiting: 5 }), 10080);
    assert.equal(bad({ deliver_subject: 'out', idle_heartbeat: 50e6 }), 10083);
    assert.equal(bad({ idle_heartbeat: 1e9 }), 10088);
    assert.equal(bad({ flow_control: true }), 10089);
    assert.equal(bad({ deliver_subject: 'out', flow_control: true }), 10108);
    assert.equal(bad({ filter_subject: 'a', filter_subjects: ['b'] }), 10136);
    assert.equal(bad({ filter_subjects: ['s.a', 's.*'] }), 10138);
    assert.equal(bad({ filter_subjects: [''] }), 10139);
    assert.equal(bad({ filter_subject: 'other' }), 10093);
    assert.equal(bad({ deliver_policy: 'by_start_time' }), 10094);
    assert.equal(bad({ deliver_policy: 'all', opt_start_seq: 3 }), 10094);
    assert.equal(bad({ ack_policy: 'maybe' }), 10181);
    assert.equal(bad({ ack_wait: -1 }), 10183);
    assert.equal(bad({ name: 'a', durable_name: 'b' }), 10132);
    assert.equal(bad({ ack_policy: 'none' }, wq), 10084);
    assert.equal(bad({ ack_policy: 'explicit', deliver_policy: 'new' }, wq), 10101);
  });
});
