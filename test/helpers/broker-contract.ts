// One contract suite for the Broker port, run against every implementation
// (CONVENTIONS 2). Each fixture also exposes a NATS URL so the suite checks
// that broker traffic and plain NATS clients see each other.

import assert from 'node:assert/strict';
import { after, before, describe, it, type PeerTestOptions } from './peer-test.ts';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Broker, BrokerMessage } from '../../core/broker/broker.ts';
import { BrokerError, InvalidSubjectError, NoRespondersError, RequestTimeoutError } from '../../core/broker/errors.ts';
import { MessageHeaders } from '../../core/protocol/headers.ts';

export interface BrokerFixture {
  broker: Broker;
  /** A second, independent broker on the same core. */
  peer: Broker;
  natsUrl: string;
  stop(): Promise<void>;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (m: BrokerMessage): string => new TextDecoder().decode(m.data);

/**
 * A responder on a raw socket that answers every request on `subject` with
 * `HPUB <reply>` and exactly `headerBlock` (possibly one nats.js refuses to
 * read), which no well-behaved client library would send.
 */
async function rawResponder(natsUrl: string, subject: string, headerBlock: string): Promise<Socket> {
  const { hostname, port } = new URL(natsUrl.replace(/^nats:/, 'http:'));
  const socket = createConnection({ host: hostname, port: Number(port) });
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    for (let match = /MSG \S+ \d+ (\S+) (\d+)\r\n/.exec(buffered); match !== null; match = /MSG \S+ \d+ (\S+) (\d+)\r\n/.exec(buffered)) {
      buffered = buffered.slice(match.index + match[0].length + Number(match[2]) + 2);
      socket.write(`HPUB ${match[1]} ${headerBlock.length} ${headerBlock.length}\r\n${headerBlock}\r\n`);
    }
  });
  await once(socket, 'connect');
  socket.write(`CONNECT {"verbose":false,"headers":true}\r\nSUB ${subject} 1\r\nPING\r\n`);
  while (!buffered.includes('PONG')) await once(socket, 'data');
  return socket;
}

/** Wait until `check` holds, flushing both brokers between looks (bounded). */
async function eventually(fixture: BrokerFixture, check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) {
    await fixture.broker.flush();
    await fixture.peer.flush();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(check(), what);
}

export function describeBroker(name: string, makeFixture: () => Promise<BrokerFixture>, options: Pick<PeerTestOptions, 'peers'> = {}): void {
  describe(`broker contract (${name})`, options, () => {
    let f: BrokerFixture;
    let nc: NatsConnection;
    before(async () => {
      f = await makeFixture();
      nc = await connect({ servers: f.natsUrl });
    });
    after(async () => {
      await nc.close();
      await f.stop();
    });

    it('broker - publish reaches wildcard subscribers with headers intact', async () => {
      const got: BrokerMessage[] = [];
      const sub = await f.peer.subscribe('sensor.*.temp', (m) => got.push(m));
      await f.peer.flush();
      const h = new MessageHeaders().append('X-Unit', 'C').append('X-Unit', 'K').append('trace-id', 'abc');
      await f.broker.publish('sensor.a.temp', text('21'), { headers: h });
      await f.broker.publish('sensor.b.humidity', text('no'));
      await eventually(f, () => got.length === 1, 'one matching message');
      assert.equal(got[0].subject, 'sensor.a.temp');
      assert.equal(str(got[0]), '21');
      assert.deepEqual(got[0].headers?.values('X-Unit'), ['C', 'K']);
      assert.equal(got[0].headers?.get('trace-id'), 'abc');
      sub.unsubscribe();
    });

    it('broker - a queue group shares the load, each message once', async () => {
      const a: string[] = [];
      const b: string[] = [];
      await f.broker.subscribe('work', (m) => a.push(str(m)), { queue: 'g' });
      await f.peer.subscribe('work', (m) => b.push(str(m)), { queue: 'g' });
      await f.broker.flush();
      await f.peer.flush();
      for (let i = 0; i < 100; i++) await f.broker.publish('work', text(String(i)));
      await eventually(f, () => a.length + b.length === 100, 'all 100 delivered');
      assert.deepEqual([...a, ...b].map(Number).sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    });

    it('broker - max ends a subscription after that many messages', async () => {
      const got: string[] = [];
      const sub = await f.peer.subscribe('limited', (m) => got.push(str(m)), { max: 2 });
      await f.peer.flush();
      for (const x of ['1', '2', '3']) await f.broker.publish('limited', text(x));
      await sub.closed;
      await f.broker.flush();
      assert.deepEqual(got, ['1', '2']);
    });

    it('broker - unsubscribe stops delivery', async () => {
      const got: string[] = [];
      const sub = await f.peer.subscribe('stop.me', (m) => got.push(str(m)));
      await f.peer.flush();
      await f.broker.publish('stop.me', text('a'));
      await eventually(f, () => got.length === 1, 'first message');
      sub.unsubscribe();
      await f.peer.flush();
      await f.broker.publish('stop.me', text('b'));
      await f.broker.flush();
      await f.peer.flush();
      assert.deepEqual(got, ['a']);
    });

    it('broker - excludeReserved: a first-token wildcard sees no $... or _INBOX... subject; a literal first token does', async () => {
      const wild: string[] = [];
      const star: string[] = [];
      const literal: string[] = [];
      const plain: string[] = [];
      const subs = [
        await f.peer.subscribe('>', (m) => wild.push(m.subject), { excludeReserved: true }),
        await f.peer.subscribe('*.rsv', (m) => star.push(m.subject), { excludeReserved: true, queue: 'q' }),
        await f.peer.subscribe('$X.>', (m) => literal.push(m.subject), { excludeReserved: true }),
        await f.peer.subscribe('*.rsv', (m) => plain.push(m.subject)),
      ];
      await f.peer.flush();
      for (const subject of ['$X.rsv', '_INBOX.rsv', 'a.rsv', '_INBOXES.rsv']) await f.broker.publish(subject, text('x'));
      await eventually(f, () => wild.length === 2 && star.length === 2 && literal.length === 1 && plain.length === 4, 'every copy');
      await f.broker.flush();
      assert.deepEqual(wild, ['a.rsv', '_INBOXES.rsv']);
      assert.deepEqual(star, ['a.rsv', '_INBOXES.rsv']);
      assert.deepEqual(literal, ['$X.rsv']);
      assert.deepEqual(plain, ['$X.rsv', '_INBOX.rsv', 'a.rsv', '_INBOXES.rsv']);
      for (const sub of subs) sub.unsubscribe();
    });

    it('broker - request gets the first reply; no responders and timeouts are typed errors', async () => {
      await f.peer.subscribe('svc.echo', (m) => {
        if (m.reply) void f.peer.publish(m.reply, text(`echo:${str(m)}`));
      });
      await f.peer.flush();
      const reply = await f.broker.request('svc.echo', text('hi'), { timeoutMs: 2000 });
      assert.equal(str(reply), 'echo:hi');
      await assert.rejects(f.broker.request('svc.nobody', text('x'), { timeoutMs: 2000 }), NoRespondersError);
      await f.peer.subscribe('svc.silent', () => {});
      await f.peer.flush();
      await assert.rejects(f.broker.request('svc.silent', text('x'), { timeoutMs: 100 }), RequestTimeoutError);
    });

    it('broker - concurrent requests each get their own reply, headers included, and two answers count once', async () => {
      await f.peer.subscribe('svc.twice', (m) => {
        if (!m.reply) return;
        const headers = new MessageHeaders().append('Echo-Of', str(m));
        void f.peer.publish(m.reply, text(`first:${str(m)}`), { headers });
        void f.peer.publish(m.reply, text(`second:${str(m)}`));
      });
      await f.peer.flush();
      const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => f.broker.request('svc.twice', text(String(i)), { timeoutMs: 5000 })));
      assert.deepEqual(replies.map(str), Array.from({ length: 300 }, (_, i) => `first:${i}`));
      assert.deepEqual(replies.map((m) => m.headers?.get('Echo-Of')), Array.from({ length: 300 }, (_, i) => String(i)));
      // A slow request and a quick one: the quick one's timeout does not end the other.
      await f.peer.subscribe('svc.slow', (m) => {
        if (m.reply) setTimeout(() => void f.peer.publish(m.reply as string, text('late but in time')), 300);
      });
      await f.peer.subscribe('svc.silent2', () => {});
      await f.peer.flush();
      const [slow, quick] = await Promise.allSettled([f.broker.request('svc.slow', text('x'), { timeoutMs: 3000 }), f.broker.request('svc.silent2', text('x'), { timeoutMs: 50 })]);
      assert.equal(slow.status === 'fulfilled' ? str(slow.value) : slow.reason, 'late but in time');
      assert.ok(quick.status === 'rejected' && quick.reason instanceof RequestTimeoutError);
    });

    it('broker - a reply the client cannot read fails that request only; the next one is answered', async () => {
      const raw = await rawResponder(f.natsUrl, 'svc.badheader', 'NATS/1.0\r\nBad Key: v\r\n\r\n');
      try {
        await f.peer.subscribe('svc.echo2', (m) => {
          if (m.reply) void f.peer.publish(m.reply, text(`echo:${str(m)}`));
        });
        await f.peer.flush();
        // The embedded broker reads the key as it is; nats.js refuses it: an answer or a BrokerError, never a hang.
        const odd = await f.broker.request('svc.badheader', text('x'), { timeoutMs: 2000 }).catch((error: unknown) => error);
        assert.ok(!(odd instanceof RequestTimeoutError) && (odd instanceof BrokerError || (odd as BrokerMessage).subject !== undefined), String(odd));
        assert.equal(str(await f.broker.request('svc.echo2', text('after'), { timeoutMs: 2000 })), 'echo:after');
      } finally {
        raw.destroy();
      }
    });

    it('broker - a handler that throws does not stop delivery to others or later messages', async () => {
      const got: string[] = [];
      const originalWrite = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        await f.peer.subscribe('boom', () => {
          throw new Error('handler failure');
        });
        await f.peer.subscribe('boom', (m) => got.push(str(m)));
        await f.peer.flush();
        await f.broker.publish('boom', text('1'));
        await f.broker.publish('boom', text('2'));
        await eventually(f, () => got.length === 2, 'both messages reach the healthy handler');
      } finally {
        process.stderr.write = originalWrite;
      }
      assert.deepEqual(got, ['1', '2']);
    });

    it('broker - invalid subjects are rejected with InvalidSubjectError', async () => {
      await assert.rejects(f.broker.publish('a..b', text('x')), InvalidSubjectError);
      await assert.rejects(f.broker.publish('a.*', text('x')), InvalidSubjectError);
      await assert.rejects(f.broker.subscribe('a.>.b', () => {}), InvalidSubjectError);
    });

    it('broker - traffic crosses to and from plain NATS clients', async () => {
      const fromBroker: string[] = [];
      nc.subscribe('cross.to.nats', { callback: (_e, m) => { fromBroker.push(m.string()); } });
      await nc.flush();
      const fromNats: string[] = [];
      await f.broker.subscribe('cross.to.broker', (m) => fromNats.push(str(m)));
      await f.broker.flush();
      await f.broker.publish('cross.to.nats', text('b2n'));
      nc.publish('cross.to.broker', 'n2b');
      await nc.flush();
      await eventually(f, () => fromNats.length === 1, 'NATS → broker');
      for (let i = 0; i < 50 && fromBroker.length === 0; i++) await nc.flush();
      assert.deepEqual(fromBroker, ['b2n']);
      assert.deepEqual(fromNats, ['n2b']);
      // A NATS service answers a broker request.
      nc.subscribe('cross.svc', { callback: (_e, m) => { m.respond(`svc:${m.string()}`); } });
      await nc.flush();
      assert.equal(str(await f.broker.request('cross.svc', text('q'), { timeoutMs: 2000 })), 'svc:q');
    });
  });
}
