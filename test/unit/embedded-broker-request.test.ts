import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { NoRespondersError, RequestTimeoutError } from '../../core/broker/errors.ts';
import { MessageHeaders } from '../../core/protocol/headers.ts';
import { Router } from '../../core/server/router.ts';

const text = (s: string): Buffer => Buffer.from(s);

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('embedded broker requests', () => {
  it('embedded broker - each request times out at its own deadline, whatever was asked before it', async () => {
    const broker = new EmbeddedBroker(new Router());
    await broker.subscribe('svc.silent', () => {});
    const began = Date.now();
    // The long one's deadline is far enough that no busy machine reaches it first.
    const long = broker.request('svc.silent', text('x'), { timeoutMs: 60_000 });
    const short = broker.request('svc.silent', text('x'), { timeoutMs: 50 });
    await assert.rejects(short, (error: unknown) => error instanceof RequestTimeoutError && error.timeoutMs === 50);
    assert.ok(Date.now() - began < 30_000, 'the short request waited for the long one');
    await broker.close();
    void long.catch(() => undefined);
  });

  it('embedded broker - answered requests hold no timer; the next one arms it again', async () => {
    const broker = new EmbeddedBroker(new Router());
    await broker.subscribe('svc.echo', (m) => {
      if (m.reply) void broker.publish(m.reply, m.data, { headers: m.headers ?? undefined });
    });
    const before = timers();
    const headers = new MessageHeaders().append('A', '1');
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => broker.request('svc.echo', text(String(i)), { timeoutMs: 5_000, headers })));
    assert.deepEqual(replies.map((r) => Buffer.from(r.data).toString()), Array.from({ length: 50 }, (_, i) => String(i)));
    assert.equal(replies[0].headers?.get('A'), '1');
    assert.equal(timers(), before, 'a timer outlived every pending request');
    await assert.rejects(broker.request('svc.nobody', text('x'), { timeoutMs: 5_000 }), NoRespondersError);
    assert.equal(timers(), before);
    await broker.subscribe('svc.silent', () => {});
    await assert.rejects(broker.request('svc.silent', text('x'), { timeoutMs: 20 }), RequestTimeoutError);
    assert.equal(timers(), before);
    await broker.close();
  });

  it('embedded broker - a subscription excluding reserved subjects is no responder there and sees no reply', async () => {
    const router = new Router();
    const broker = new EmbeddedBroker(router);
    const seen: string[] = [];
    await broker.subscribe('>', (m) => seen.push(m.subject), { excludeReserved: true });
    await broker.subscribe('svc.echo', (m) => {
      if (m.reply) void broker.publish(m.reply, m.data);
    });
    // The request's reply comes back on the broker's inbox, which the '>' does not see either.
    assert.equal(Buffer.from((await broker.request('svc.echo', text('hi'), { timeoutMs: 2_000 })).data).toString(), 'hi');
    await assert.rejects(broker.request('$MQTT.handover.x', text('?'), { timeoutMs: 5_000 }), NoRespondersError);
    await assert.rejects(broker.request('_INBOX.other.1', text('?'), { timeoutMs: 5_000 }), NoRespondersError);
    assert.equal(router.hasInterest('$JS.API.INFO'), false);
    assert.equal(router.hasInterest('a.b'), true);
    assert.deepEqual(seen, ['svc.echo']);
    // A plain '>' is a responder everywhere, as in NATS.
    await broker.subscribe('>', () => {});
    await assert.rejects(broker.request('$MQTT.handover.x', text('?'), { timeoutMs: 20 }), RequestTimeoutError);
    await broker.close();
  });
});
