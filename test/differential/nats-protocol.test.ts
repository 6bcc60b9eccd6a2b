// Wire-level behaviour, byte for byte, run against Switchboard and Debian's
// nats-server. If the reference fails a case here, the case is wrong.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { natsTargets, type RunningServer } from '../helpers/servers.ts';

const QUIET = 'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\n';

for (const target of natsTargets()) {
  describe(`nats protocol (${target.name})`, { peers: target.peers }, () => {
    let server: RunningServer;
    const clients: RawClient[] = [];
    before(async () => {
      server = await target.start();
    });
    after(async () => {
      for (const c of clients) c.close();
      await server.stop();
    });
    async function client(connect = QUIET): Promise<RawClient> {
      const c = await RawClient.connect(server.port);
      clients.push(c);
      if (connect) c.send(connect);
      return c;
    }

    it('protocol - INFO announces headers, proto 1 and max_payload', async () => {
      const c = await RawClient.connect(server.port, { readInfo: false });
      clients.push(c);
      const line = await c.readUntil('\r\n');
      assert.match(line, /^INFO \{.*\} ?\r\n$/);
      const info = JSON.parse(line.slice(5));
      assert.equal(info.proto, 1);
      assert.equal(info.headers, true);
      assert.equal(info.max_payload, 1024 * 1024);
      assert.equal(typeof info.server_id, 'string');
      assert.equal(typeof info.client_id, 'number');
      assert.equal(info.port, server.port);
    });

    it('protocol - pub/sub delivers MSG with sid, reply and size', async () => {
      const c = await client();
      assert.equal(await c.roundTrip('SUB foo.* 7\r\n'), '');
      assert.equal(await c.roundTrip('PUB foo.bar inbox.1 5\r\nhello\r\n'), 'MSG foo.bar 7 inbox.1 5\r\nhello\r\n');
      assert.equal(await c.roundTrip('pub foo.baz 0\r\n\r\n'), 'MSG foo.baz 7 0\r\n\r\n');
    });

    it('protocol - HPUB arrives as HMSG byte for byte, multi-value and case preserved', async () => {
      const c = await client();
      const hdr = 'NATS/1.0\r\nX-Key: a\r\nx-key: b\r\nX-Key: c\r\n\r\n';
      const total = hdr.length + 2;
      await c.roundTrip('SUB h 1\r\n');
      const got = await c.roundTrip(`HPUB h ${hdr.length} ${total}\r\n${hdr}hi\r\n`);
      assert.equal(got, `HMSG h 1 ${hdr.length} ${total}\r\n${hdr}hi\r\n`);
    });

    it('protocol - a client without header support gets only the body of a message with headers', async () => {
      const plain = await client('CONNECT {"verbose":false,"pedantic":false}\r\n');
      await plain.roundTrip('SUB h2 1\r\n');
      const pub = await client();
      const hdr = 'NATS/1.0\r\nA: b\r\n\r\n';
      await pub.roundTrip(`HPUB h2 ${hdr.length} ${hdr.length + 4}\r\n${hdr}body\r\n`);
      assert.equal(await plain.readUntil('body\r\n'), 'MSG h2 1 4\r\nbody\r\n');
    });

    it('protocol - verbose mode acknowledges each operation with +OK', async () => {
      const c = await client('CONNECT {"verbose":true,"pedantic":false}\r\n');
      assert.equal(await c.roundTrip('SUB v 1\r\nPUB v 1\r\nx\r\n'), '+OK\r\n+OK\r\n+OK\r\nMSG v 1 1\r\nx\r\n');
    });

    it('protocol - invalid subscription subjects get -ERR Invalid Subject and the connection stays', async () => {
      const c = await client();
      for (const subject of ['a..b', '.a', 'a.', '>.a', 'a.>.b']) {
        assert.equal(await c.roundTrip(`SUB ${subject} 1\r\n`), "-ERR 'Invalid Subject'\r\n", subject);
      }
      assert.equal(await c.roundTrip('SUB ok 2\r\nPUB ok 1\r\n1\r\n'), 'MSG ok 2 1\r\n1\r\n');
    });

    it('protocol - wildcards only count as whole tokens', async () => {
      const c = await client();
      await c.roundTrip('SUB a*b 1\r\n');
      assert.equal(await c.roundTrip('PUB axb 1\r\nx\r\nPUB a*b 1\r\ny\r\n'), 'MSG a*b 1 1\r\ny\r\n');
    });

    it('protocol - pedantic mode rejects a wildcard publish subject and keeps the connection', async () => {
      const c = await client('CONNECT {"verbose":false,"pedantic":true}\r\n');
      assert.equal(await c.roundTrip('PUB a.* 1\r\nx\r\n'), "-ERR 'Invalid Publish Subject'\r\n");
      assert.equal(c.closed, false);
    });

    it('protocol - UNSUB with max stops delivery inside the server after max messages', async () => {
      const c = await client();
      await c.roundTrip('SUB m 1\r\nUNSUB 1 2\r\n');
      const got = await c.roundTrip('PUB m 1\r\na\r\nPUB m 1\r\nb\r\nPUB m 1\r\nc\r\n');
      assert.equal(got, 'MSG m 1 1\r\na\r\nMSG m 1 1\r\nb\r\n');
      assert.equal(await c.roundTrip('PUB m 1\r\nd\r\n'), '');
    });

    it('protocol - request with no responders gets an immediate 503 status message', async () => {
      const c = await client();
      await c.roundTrip('SUB _INBOX.r 1\r\n');
      assert.equal(await c.roundTrip('PUB nobody.home _INBOX.r 0\r\n\r\n'), 'HMSG _INBOX.r 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n');
    });

    it('protocol - echo off suppresses a connection\'s own messages', async () => {
      const c = await client('CONNECT {"verbose":false,"pedantic":false,"echo":false}\r\n');
      await c.roundTrip('SUB e 1\r\n');
      assert.equal(await c.roundTrip('PUB e 1\r\nx\r\n'), '');
      const other = await client();
      await other.roundTrip('PUB e 1\r\ny\r\n');
      assert.equal(await c.readUntil('y\r\n'), 'MSG e 1 1\r\ny\r\n');
    });

    it('protocol - a queue group gets each message once, spread across members', async () => {
      const members = [await client(), await client(), await client()];
      for (const m of members) await m.roundTrip('SUB work workers 1\r\n');
      const pub = await client();
      const n = 60;
      let batch = '';
      for (let i = 0; i < n; i++) batch += 'PUB work 1\r\nx\r\n';
      await pub.roundTrip(batch);
      const counts = await Promise.all(members.map(async (m) => (await m.roundTrip()).split('MSG work').length - 1));
      assert.equal(counts.reduce((a, b) => a + b, 0), n);
      for (const count of counts) assert.ok(count > 0, `every member gets some: ${counts}`);
    });

    it('protocol - PING before CONNECT works and ops are case-insensitive', async () => {
      const c = await client('');
      c.send('ping\r\n');
      assert.equal(await c.readUntil('\r\n'), 'PONG\r\n');
    });

    it('errors - an unknown operation gets -ERR Unknown Protocol Operation and closes', async () => {
      const c = await client();
      c.send('FOO bar\r\n');
      assert.equal(await c.waitClosed(), "-ERR 'Unknown Protocol Operation'\r\n");
    });

    it('errors - a payload not ended by CRLF is a protocol violation and closes', async () => {
      const c = await client();
      c.send('PUB a 5\r\nhelloXX\r\n');
      assert.equal(await c.waitClosed(), "-ERR 'Unknown Protocol Operation'\r\n");
    });

    it('errors - a payload over max_payload gets -ERR Maximum Payload Violation and closes', async () => {
      const c = await client();
      c.send('PUB big 2000000\r\n');
      assert.equal(await c.waitClosed(), "-ERR 'Maximum Payload Violation'\r\n");
    });

    it('errors - a control line over 4 KiB gets -ERR Maximum Control Line Exceeded and closes', async () => {
      const c = await client();
      c.send(`SUB ${'a'.repeat(5000)} 1\r\n`);
      const got = await c.waitClosed();
      // nats-server 2.9 sends this one text in lower case; the protocol docs capitalise it.
      assert.equal(got.toLowerCase(), "-err 'maximum control line exceeded'\r\n");
    });

    for (const bad of ['PUB a\r\n', 'PUB a x\r\n', 'PUB a b c d 2\r\n', 'SUB a\r\n', 'HPUB a 5 3\r\nxxxxx\r\n', 'UNSUB\r\n']) {
      it(`errors - malformed arguments close the connection: ${JSON.stringify(bad)}`, async () => {
        const c = await client();
        c.send(bad);
        const got = await c.waitClosed();
        assert.ok(got === '' || got.startsWith('-ERR '), `only an -ERR line may precede the close, got ${JSON.stringify(got)}`);
      });
    }
  });
}
