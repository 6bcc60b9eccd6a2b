// A leaf link forwards a message under the subject it was routed by
// (Router.routedBy) and tells one message's deliveries from the next by the
// router's round. Both are router-wide: a subscriber earlier in the same
// routing that publishes while it is being delivered to (an in-process
// responder on the embedded broker answers a request during publish()) must
// not change what the link sends for the message being routed. Two
// Switchboards, edge and hub, official nats.js clients on both.

import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { createCore, type Core } from '../../core/create-core.ts';
import { eventually, sleep } from '../helpers/jetstream-consumers.ts';
import { after, describe, it } from '../helpers/peer-test.ts';

function leafSubjects(core: Core): string[] {
  const res = core.monitor?.respond('/leafz', new URLSearchParams('subs=1'));
  assert.ok(res !== undefined && res.status === 200, 'leafz');
  const body = JSON.parse(res.body) as { leafs: Array<{ subscriptions_list?: string[] }> };
  return body.leafs.flatMap((l) => l.subscriptions_list ?? []);
}

describe('leafnode - a publish made while another is routed', () => {
  const cores: Core[] = [];
  const conns: NatsConnection[] = [];

  after(async () => {
    for (const nc of conns) await nc.close();
    for (const c of cores) await c.stop();
  });

  async function startHub(): Promise<Core> {
    const hub = createCore({ server: { port: 0 }, monitor: { host: '127.0.0.1', port: 0 }, leafnodes: { listener: { host: '127.0.0.1', port: 0, authTimeoutMs: 2000 }, remotes: [] } });
    cores.push(hub);
    await hub.start();
    return hub;
  }

  /** An edge linked to `hub`, and a client on each. */
  async function startEdge(hub: Core): Promise<{ ec: NatsConnection; hc: NatsConnection }> {
    const edge = createCore({ server: { port: 0 }, leafnodes: { remotes: [{ urls: [`nats-leaf://127.0.0.1:${hub.leafnodes?.port}`], reconnectDelayMs: 100 }] } });
    cores.push(edge);
    await edge.start();
    const ec = await connect({ servers: `127.0.0.1:${edge.nats.port}` });
    const hc = await connect({ servers: `127.0.0.1:${hub.nats.port}` });
    conns.push(ec, hc);
    return { ec, hc };
  }

  it('leafnode - a request answered in-process on the hub still crosses to the edge under its own subject, once', async () => {
    const hub = await startHub();
    // The in-process responder subscribes first, so the router delivers to it before the leaf link.
    await hub.broker.subscribe('svc.echo', (m) => {
      if (m.reply !== undefined && m.reply !== null) void hub.broker.publish(m.reply, Buffer.from(`echo:${Buffer.from(m.data).toString()}`));
    });
    const { ec, hc } = await startEdge(hub);
    // The edge listens to the service's requests, plainly and in a queue group (one message, both kinds of interest).
    const seen: Array<{ subject: string; data: string }> = [];
    const queued: string[] = [];
    ec.subscribe('svc.echo', { callback: (_e, m) => void seen.push({ subject: m.subject, data: m.string() }) });
    ec.subscribe('svc.echo', { queue: 'audit', callback: (_e, m) => void queued.push(m.string()) });
    await ec.flush();
    await eventually(() => leafSubjects(hub).includes('svc.echo') && leafSubjects(hub).includes('svc.echo audit'), 15_000, 25);

    for (let i = 0; i < 5; i++) assert.equal((await hc.request('svc.echo', `r${i}`, { timeout: 5000 })).string(), `echo:r${i}`);
    await eventually(() => seen.length >= 5 && queued.length >= 5, 10_000);
    await sleep(300);
    assert.deepEqual(seen, Array.from({ length: 5 }, (_, i) => ({ subject: 'svc.echo', data: `r${i}` })), 'each request reaches the edge once, under svc.echo');
    assert.deepEqual(queued, Array.from({ length: 5 }, (_, i) => `r${i}`));
  });

  it('leafnode - a message the link holds while an in-process responder answers onto the same link goes out once', async () => {
    const hub = await startHub();
    const { ec, hc } = await startEdge(hub);
    // The edge's interest first (plain, queue, and the replies), so the link's plain subscription comes before the responder.
    const seen: string[] = [];
    const queued: string[] = [];
    const replies: string[] = [];
    ec.subscribe('svc2.echo', { callback: (_e, m) => void seen.push(m.string()) });
    ec.subscribe('svc2.echo', { queue: 'audit', callback: (_e, m) => void queued.push(m.string()) });
    ec.subscribe('replies.>', { callback: (_e, m) => void replies.push(m.string()) });
    await ec.flush();
    await eventually(() => ['svc2.echo', 'svc2.echo audit', 'replies.>'].every((s) => leafSubjects(hub).includes(s)), 15_000, 25);
    await hub.broker.subscribe('svc2.echo', (m) => {
      if (m.reply !== undefined && m.reply !== null) void hub.broker.publish(m.reply, Buffer.from(`echo:${Buffer.from(m.data).toString()}`));
    });
    for (let i = 0; i < 5; i++) hc.publish('svc2.echo', `r${i}`, { reply: `replies.${i}` });
    await hc.flush();
    await eventually(() => seen.length >= 5 && queued.length >= 5 && replies.length >= 5, 10_000);
    await sleep(300);
    assert.deepEqual(seen, Array.from({ length: 5 }, (_, i) => `r${i}`), 'each request reaches the plain subscriber once');
    assert.deepEqual(queued, Array.from({ length: 5 }, (_, i) => `r${i}`));
    assert.deepEqual(replies, Array.from({ length: 5 }, (_, i) => `echo:r${i}`));
  });
});
