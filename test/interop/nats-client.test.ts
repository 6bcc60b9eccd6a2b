// The official @nats-io/transport-node client against Switchboard, and the same
// suite against Debian's nats-server as the reference.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, headers, type NatsConnection, type Msg } from '@nats-io/transport-node';
import { natsTargets, type RunningServer } from '../helpers/servers.ts';

function collect(nc: NatsConnection, subject: string, opts: { queue?: string } = {}): Msg[] {
  const got: Msg[] = [];
  nc.subscribe(subject, { ...opts, callback: (_err, msg) => {
    got.push(msg);
  } });
  return got;
}

for (const target of natsTargets()) {
  describe(`nats.js client (${target.name})`, { peers: target.peers }, () => {
    let server: RunningServer;
    const conns: NatsConnection[] = [];
    before(async () => {
      server = await target.start();
    });
    after(async () => {
      for (const nc of conns) if (!nc.isClosed()) await nc.close();
      await server.stop();
    });
    async function open(options: Parameters<typeof connect>[0] = {}): Promise<NatsConnection> {
      const nc = await connect({ servers: server.url, ...options });
      conns.push(nc);
      return nc;
    }

    it('client - publish and subscribe, with * and > wildcards', async () => {
      const nc = await open();
      const exact = collect(nc, 'factory.line1.temp');
      const star = collect(nc, 'factory.*.temp');
      const tail = collect(nc, 'factory.>');
      nc.publish('factory.line1.temp', '21.5');
      nc.publish('factory.line2.temp', '19.0');
      nc.publish('factory.line2.humidity', '40');
      nc.publish('factory', 'not matched by factory.>');
      await nc.flush();
      assert.deepEqual(exact.map((m) => m.string()), ['21.5']);
      assert.deepEqual(star.map((m) => m.subject), ['factory.line1.temp', 'factory.line2.temp']);
      assert.deepEqual(tail.map((m) => m.subject), ['factory.line1.temp', 'factory.line2.temp', 'factory.line2.humidity']);
    });

    it('client - a queue group delivers each message to exactly one member', async () => {
      const a = await open();
      const b = await open();
      const inA = collect(a, 'jobs', { queue: 'workers' });
      const inB = collect(b, 'jobs', { queue: 'workers' });
      const plain = collect(b, 'jobs');
      await a.flush();
      await b.flush();
      const pub = await open();
      for (let i = 0; i < 200; i++) pub.publish('jobs', String(i));
      await pub.flush();
      await a.flush();
      await b.flush();
      const seen = [...inA, ...inB].map((m) => Number(m.string())).sort((x, y) => x - y);
      assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
      assert.ok(inA.length > 0 && inB.length > 0, `spread: ${inA.length}/${inB.length}`);
      assert.equal(plain.length, 200);
    });

    it('client - request/reply: the first answer wins and the rest are cut off', async () => {
      const svc = await open();
      svc.subscribe('time', { callback: (_e, m) => {
        m.respond('fast');
      } });
      svc.subscribe('time', { callback: (_e, m) => {
        setTimeout(() => m.respond('slow'), 20);
      } });
      await svc.flush();
      const nc = await open();
      const reply = await nc.request('time', 'now?', { timeout: 2000 });
      assert.equal(reply.string(), 'fast');
    });

    it('client - old-style request (inbox with UNSUB 1) gets exactly one reply from the server', async () => {
      const svc = await open();
      for (let i = 0; i < 3; i++) svc.subscribe('multi', { callback: (_e, m) => {
        m.respond(`r${i}`);
      } });
      await svc.flush();
      const nc = await open();
      const inbox = `_INBOX.${Date.now()}`;
      const got: string[] = [];
      const sub = nc.subscribe(inbox, { max: 1, callback: (_e, m) => {
        got.push(m.string());
      } });
      nc.publish('multi', 'q', { reply: inbox });
      await sub.closed;
      await nc.flush();
      assert.equal(got.length, 1);
    });

    it('client - headers round-trip with multiple values and case preserved', async () => {
      const nc = await open();
      const got = collect(nc, 'hdr');
      const h = headers();
      h.append('X-Trace', 'one');
      h.append('X-Trace', 'two');
      h.append('lower-case', 'v');
      nc.publish('hdr', 'body', { headers: h });
      await nc.flush();
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].headers?.values('X-Trace'), ['one', 'two']);
      assert.equal(got[0].headers?.get('lower-case'), 'v');
      assert.ok(got[0].headers?.keys().includes('lower-case'));
      assert.equal(got[0].string(), 'body');
    });

    it('client - a request nobody listens to fails fast with no responders', async () => {
      const nc = await open();
      // "Fast" is "before the timeout": a timeout rejects with a timeout error, so the
      // no-responders error proves it, and a long timeout leaves a busy machine room.
      await assert.rejects(nc.request('nobody.listens', 'x', { timeout: 60_000 }), /no responders/i);
    });

    it('client - echo false suppresses own messages', async () => {
      const nc = await open({ noEcho: true });
      const got = collect(nc, 'echo.test');
      const other = await open();
      await nc.flush();
      nc.publish('echo.test', 'mine');
      other.publish('echo.test', 'theirs');
      await other.flush();
      await nc.flush();
      assert.deepEqual(got.map((m) => m.string()), ['theirs']);
    });

    it('client - drain delivers what is in flight, then closes', async () => {
      const nc = await open();
      const got: string[] = [];
      nc.subscribe('drain.me', { callback: (_e, m) => {
        got.push(m.string());
      } });
      await nc.flush();
      const pub = await open();
      for (let i = 0; i < 100; i++) pub.publish('drain.me', String(i));
      await pub.flush();
      await nc.drain();
      assert.equal(got.length, 100);
      assert.ok(nc.isClosed());
    });

    it('client - reconnects after a server restart and resubscribes', async () => {
      const port = server.port;
      const nc = await open({ reconnectTimeWait: 100, maxReconnectAttempts: -1 });
      const got = collect(nc, 'after.restart');
      await nc.flush();
      const reconnected = (async () => {
        for await (const s of nc.status()) if (s.type === 'reconnect') return;
      })();
      await server.stop();
      server = await target.start({ port });
      await reconnected;
      await nc.flush();
      const pub = await open();
      pub.publish('after.restart', 'back');
      await pub.flush();
      await nc.flush();
      assert.deepEqual(got.map((m) => m.string()), ['back']);
    });
  });
}
