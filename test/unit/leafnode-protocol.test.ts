// The leafnode wire without sockets: the parser over nats-server's operation
// layouts (whole, a byte at a time, split at every offset), the encoders
// read back by the parser, the JetStream ack '@' rule, the reconnect delays
// and the `leafnodes` config block.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createUser, fromPublic } from '@nats-io/nkeys';
import { buildConfig } from '../../core/config/switchboard-config.ts';
import { LeafParser, type LeafOpHandler, type LeafProtocolError } from '../../core/leafnode/leaf-parser.ts';
import { dialLeaf, reconnectDelay } from '../../core/leafnode/leaf-remote.ts';
import { ackSubjectIndex, encodeMsgLine, encodeSub, encodeUnsub, interestDenied, messageDenied, DENY_ACROSS_LEAF } from '../../core/leafnode/leaf-wire.ts';
import { mapDomainSubject } from '../../core/leafnode/js-domain-mapping.ts';

type Op = [string, ...unknown[]];

function recorder(): { ops: Op[]; handler: LeafOpHandler } {
  const ops: Op[] = [];
  const handler: LeafOpHandler = {
    onInfo: (json) => ops.push(['INFO', JSON.parse(json)]),
    onConnect: (json) => ops.push(['CONNECT', JSON.parse(json)]),
    onPing: () => ops.push(['PING']),
    onPong: () => ops.push(['PONG']),
    onError: (text) => ops.push(['ERR', text]),
    onSub: (subject, queue, weight) => ops.push(['LS+', subject, queue, weight]),
    onUnsub: (subject, queue) => ops.push(['LS-', subject, queue]),
    onMsg: (subject, reply, queues, headerSize, message) => ops.push(['MSG', subject, reply, [...queues], headerSize, message.toString()]),
    onParseError: (error: LeafProtocolError) => ops.push(['PARSE-ERROR', error.detail]),
  };
  return { ops, handler };
}

const LIMITS = { maxControlLine: 4096, maxPayload: 1024 * 1024 };

/** nats-server's operations as a hub or a leaf sends them (server/leafnode.go, client.go msgHeaderForRouteOrLeaf). */
const FIXTURE =
  'INFO {"server_id":"NABC","leafnode_urls":["127.0.0.1:7422"],"client_id":4,"nonce":"xyz"}\r\n' +
  'CONNECT {"name":"edge","headers":true,"jetstream":true,"domain":"edge1"}\r\n' +
  'PING\r\nPONG\r\n+OK\r\n' +
  "-ERR 'Loop detected for leafnode account=\"$G\"'\r\n" +
  'LS+ foo.>\r\n' +
  'LS+ work.* workers 3\r\n' +
  'LS- foo.>\r\n' +
  'LS- work.* workers\r\n' +
  'LMSG foo.bar 5\r\nhello\r\n' +
  'LMSG foo.bar _INBOX.x.1 2\r\nhi\r\n' +
  'LMSG work.a + _INBOX.y q1 q2 3\r\nabc\r\n' +
  'LMSG work.b | q1 0\r\n\r\n' +
  'HMSG $JS.S.abc $JS.ACK.S.C.1.2.3.4.0@sensors.t 12 14\r\nNATS/1.0\r\n\r\nok\r\n';

const EXPECTED: Op[] = [
  ['INFO', { server_id: 'NABC', leafnode_urls: ['127.0.0.1:7422'], client_id: 4, nonce: 'xyz' }],
  ['CONNECT', { name: 'edge', headers: true, jetstream: true, domain: 'edge1' }],
  ['PING'],
  ['PONG'],
  ['ERR', 'Loop detected for leafnode account="$G"'],
  ['LS+', 'foo.>', null, 1],
  ['LS+', 'work.*', 'workers', 3],
  ['LS-', 'foo.>', null],
  ['LS-', 'work.*', 'workers'],
  ['MSG', 'foo.bar', null, [], -1, 'hello'],
  ['MSG', 'foo.bar', '_INBOX.x.1', [], -1, 'hi'],
  ['MSG', 'work.a', '_INBOX.y', ['q1', 'q2'], -1, 'abc'],
  ['MSG', 'work.b', null, ['q1'], -1, ''],
  ['MSG', '$JS.S.abc', '$JS.ACK.S.C.1.2.3.4.0@sensors.t', [], 12, 'NATS/1.0\r\n\r\nok'],
];

describe('leafnode protocol', () => {
  it('leaf parser - every operation of the fixture, whole', () => {
    const { ops, handler } = recorder();
    new LeafParser(handler, LIMITS).parse(Buffer.from(FIXTURE));
    assert.deepEqual(ops, EXPECTED);
  });

  it('leaf parser - the fixture one byte at a time', () => {
    const { ops, handler } = recorder();
    const parser = new LeafParser(handler, LIMITS);
    const bytes = Buffer.from(FIXTURE);
    for (let i = 0; i < bytes.length; i++) parser.parse(bytes.subarray(i, i + 1));
    assert.deepEqual(ops, EXPECTED);
  });

  it('leaf parser - the fixture split in two at every offset', () => {
    const bytes = Buffer.from(FIXTURE);
    for (let at = 1; at < bytes.length; at++) {
      const { ops, handler } = recorder();
      const parser = new LeafParser(handler, LIMITS);
      parser.parse(bytes.subarray(0, at));
      parser.parse(bytes.subarray(at));
      assert.deepEqual(ops, EXPECTED, `split at ${at}`);
    }
  });

  it('leaf parser - malformed operations stop the parser with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['NOPE\r\n', /unknown operation/],
      ['LS+ a b\r\n', /takes 1 or 3/],
      ['LS+ a q x\r\n', /bad queue weight/],
      ['LMSG a ? b 1\r\nx\r\n', /reply indicator/],
      ['LMSG a 3\r\nabcd\r\n', /not followed by CRLF/],
      ['HMSG a 5 3\r\nabc\r\n', /bad sizes/],
      [`LMSG a ${2 * 1024 * 1024}\r\n`, /max_payload/],
      [`LS+ ${'a'.repeat(5000)}\r\n`, /control line/],
    ];
    for (const [input, reason] of cases) {
      const { ops, handler } = recorder();
      const parser = new LeafParser(handler, LIMITS);
      parser.parse(Buffer.from(input + 'PING\r\n'));
      assert.equal(ops.length, 1, input);
      assert.equal(ops[0][0], 'PARSE-ERROR', input);
      assert.match(String(ops[0][1]), reason, input);
    }
  });

  it('leaf wire - what the encoders write, the parser reads back', () => {
    const { ops, handler } = recorder();
    const lines = [
      encodeSub('a.>', null, 1),
      encodeSub('b.*', 'g', 2),
      encodeUnsub('b.*', 'g'),
      encodeMsgLine('a.b', null, [], -1, 1) + 'x\r\n',
      encodeMsgLine('a.b', 'r.1', ['g', 'h'], -1, 1) + 'y\r\n',
      encodeMsgLine('a.b', null, ['g'], 2, 3) + 'hhz\r\n',
    ];
    new LeafParser(handler, LIMITS).parse(Buffer.from(lines.join('')));
    assert.deepEqual(ops, [
      ['LS+', 'a.>', null, 1],
      ['LS+', 'b.*', 'g', 2],
      ['LS-', 'b.*', 'g'],
      ['MSG', 'a.b', null, [], -1, 'x'],
      ['MSG', 'a.b', 'r.1', ['g', 'h'], -1, 'y'],
      ['MSG', 'a.b', null, ['g'], 2, 'hhz'],
    ]);
    assert.equal(encodeMsgLine('a', 'r', ['q'], 2, 5), 'HMSG a + r q 2 5\r\n');
  });

  it('leaf wire - the stored subject rides after @ only in a $JS.ACK reply of eight dots', () => {
    assert.equal(ackSubjectIndex('$JS.ACK.S.C.1.2.3.4.0@sensors.t'), 21);
    assert.equal(ackSubjectIndex('$JS.ACK.S.C.1.2.3.4.0'), -1);
    assert.equal(ackSubjectIndex('_INBOX.a@b'), -1);
    assert.equal(ackSubjectIndex('$JS.ACK.S@x'), -1);
  });

  it('leaf wire - $JS.API, $KV and $OBJ never cross; a domain maps to the local API', () => {
    assert.equal(interestDenied('$JS.API.>', DENY_ACROSS_LEAF), true);
    assert.equal(interestDenied('$JS.API.STREAM.INFO.X', DENY_ACROSS_LEAF), true);
    assert.equal(interestDenied('>', DENY_ACROSS_LEAF), false, 'a full wildcard still carries interest; its $JS.API messages are dropped one by one');
    assert.equal(messageDenied('$JS.API.INFO', DENY_ACROSS_LEAF), true);
    assert.equal(messageDenied('$JS.edge1.API.INFO', DENY_ACROSS_LEAF), false);
    assert.equal(messageDenied('$KV.b.k', DENY_ACROSS_LEAF), true);
    assert.equal(mapDomainSubject('STREAM.INFO.X'), '$JS.API.STREAM.INFO.X');
    assert.equal(mapDomainSubject('$KV.bucket.key'), '$KV.bucket.key');
  });

  it('leaf remote - reconnect delays double to the ceiling, with jitter within a quarter', () => {
    assert.equal(reconnectDelay(0, 1000, 30_000, () => 0.5), 1000);
    assert.equal(reconnectDelay(3, 1000, 30_000, () => 0.5), 8000);
    assert.equal(reconnectDelay(10, 1000, 30_000, () => 0.5), 30_000);
    assert.equal(reconnectDelay(0, 1000, 30_000, () => 0), 750);
    assert.equal(reconnectDelay(0, 1000, 30_000, () => 0.998), 1249);
  });

  it('leafnodes config - nats-server keys, remotes with credentials and tls, flags; bad keys are named', () => {
    const config = buildConfig({
      jetstream: { domain: 'edge1' },
      leafnodes: {
        port: 7433,
        authorization: { user: 'leaf', password: 'secret', timeout: 3 },
        remotes: [{ urls: ['nats-leaf://a:7422', 'nats-leaf://b:7422'], user: 'u', password: 'p', reconnect: '250ms' }],
      },
    });
    assert.equal(config.jetstream.domain, 'edge1');
    assert.equal(config.leafnodes?.listener?.port, 7433);
    assert.equal(config.leafnodes?.listener?.authTimeoutMs, 3000);
    assert.equal(config.leafnodes?.listener?.authorization?.users[0]?.user, 'leaf');
    assert.deepEqual(config.leafnodes?.remotes, [{ urls: ['nats-leaf://a:7422', 'nats-leaf://b:7422'], user: 'u', password: 'p', reconnectDelayMs: 250 }]);
    const flags = buildConfig({ leafnode_remote: ['nats-leaf://h1:7422,nats-leaf://h2:7422'], leafnode_port: '0', js_domain: 'x' });
    assert.deepEqual(flags.leafnodes?.remotes.map((r) => r.urls), [['nats-leaf://h1:7422'], ['nats-leaf://h2:7422']]);
    assert.equal(flags.leafnodes?.listener?.port, 0);
    assert.equal(flags.jetstream.domain, 'x');
    assert.equal(buildConfig({}).leafnodes, null);
    assert.throws(() => buildConfig({ leafnodes: { remotes: [{ url: 'ws://h:1' }] } }), /leafnodes\.remotes\[0\]\.url.*scheme/);
    assert.throws(() => buildConfig({ leafnodes: { remotes: [{}] } }), /leafnodes\.remotes\[0\].*needs url/);
    assert.throws(() => buildConfig({ leafnodes: { bogus: 1 } }), /leafnodes\.bogus.*unknown key/);
    assert.throws(() => buildConfig({ jetstream: { domain: 'a.b' } }), /jetstream\.domain.*one subject token/);
  });
});

describe('leafnode remote handshake', () => {
  /** A listener that sends a leafnode INFO with a nonce and hands back the CONNECT it gets. */
  async function hubStub(): Promise<{ port: number; connect: Promise<Record<string, unknown>>; close(): void }> {
    let resolveConnect!: (c: Record<string, unknown>) => void;
    const connect = new Promise<Record<string, unknown>>((r) => (resolveConnect = r));
    const server = createServer((socket) => {
      socket.write('INFO {"server_id":"NHUB","nonce":"the-nonce","client_id":1,"leafnode_urls":[]}\r\n');
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        const line = /^CONNECT (.*)\r\n/m.exec(text);
        if (line !== null) resolveConnect(JSON.parse(line[1]) as Record<string, unknown>);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return { port, connect, close: () => server.close() };
  }

  const identity = { serverId: 'NEDGE', name: 'edge', version: '2.10.0', jetstream: true, domain: 'edge1' };

  it('leaf remote - a creds file: its JWT goes in CONNECT and its seed signs the hub nonce', async () => {
    const stub = await hubStub();
    const user = createUser();
    const dir = mkdtempSync(join(tmpdir(), 'leaf-creds-'));
    const creds = join(dir, 'edge.creds');
    writeFileSync(creds, `-----BEGIN NATS USER JWT-----\neyJhbGciOi.fake.jwt\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`);
    try {
      const dialed = await dialLeaf(`nats-leaf://127.0.0.1:${stub.port}`, { urls: [], credentials: creds }, identity);
      dialed.connection.write([Buffer.from(`CONNECT ${JSON.stringify(dialed.connect)}\r\n`)]);
      const connect = await stub.connect;
      assert.equal(connect.jwt, 'eyJhbGciOi.fake.jwt');
      assert.equal(connect.domain, 'edge1');
      assert.equal(connect.remote_account, '$G');
      const signature = Buffer.from(connect.sig as string, 'base64url');
      assert.ok(fromPublic(user.getPublicKey()).verify(new TextEncoder().encode('the-nonce'), signature), 'the signature verifies with the user key');
      dialed.connection.destroy();
    } finally {
      stub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaf remote - user:pass in the URL, a lone URL user is also the token (nats-server sendLeafConnect)', async () => {
    const stub = await hubStub();
    try {
      const dialed = await dialLeaf(`nats-leaf://tok@127.0.0.1:${stub.port}`, { urls: [] }, identity);
      assert.equal(dialed.connect.user, 'tok');
      assert.equal(dialed.connect.auth_token, 'tok');
      assert.equal(dialed.info.nonce, 'the-nonce');
      dialed.connection.destroy();
      const withPass = await dialLeaf(`nats-leaf://u:p%40ss@127.0.0.1:${stub.port}`, { urls: [] }, identity);
      assert.deepEqual([withPass.connect.user, withPass.connect.pass, withPass.connect.auth_token], ['u', 'p@ss', undefined]);
      withPass.connection.destroy();
    } finally {
      stub.close();
    }
  });
});
