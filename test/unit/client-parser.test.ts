// The client parser must give the same operations however the bytes are cut:
// each fixture whole, one byte at a time, and split in two at every offset.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientParser, type ClientOpHandler } from '../../core/protocol/client-parser.ts';
import type { NatsProtocolError } from '../../core/protocol/errors.ts';

type Op = (string | number | null)[];

class Recorder implements ClientOpHandler {
  readonly ops: Op[] = [];
  onConnect(json: string): void {
    this.ops.push(['CONNECT', json]);
  }
  onPub(subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void {
    this.ops.push(['PUB', subject, reply, headerSize, source.toString('latin1', start, end)]);
  }
  onSub(subject: string, queue: string | null, sid: string): void {
    this.ops.push(['SUB', subject, queue, sid]);
  }
  onUnsub(sid: string, max: number): void {
    this.ops.push(['UNSUB', sid, max]);
  }
  onPing(): void {
    this.ops.push(['PING']);
  }
  onPong(): void {
    this.ops.push(['PONG']);
  }
  onParseError(error: NatsProtocolError): void {
    this.ops.push(['ERR', error.code]);
  }
}

const LIMITS = { maxControlLine: 4096, maxPayload: 1024 * 1024 };

function parseInChunks(input: Buffer, cuts: number[]): Op[] {
  const recorder = new Recorder();
  const parser = new ClientParser(recorder, LIMITS);
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    parser.parse(input.subarray(at, cut));
    at = cut;
  }
  return recorder.ops;
}

const HDR = 'NATS/1.0\r\nA: 1\r\n\r\n';
const FIXTURES: Array<[string, string, Op[]]> = [
  ['CONNECT', 'CONNECT {"verbose":false, "name":"a b"}\r\n', [['CONNECT', '{"verbose":false, "name":"a b"}']]],
  ['PUB', 'PUB foo.bar 5\r\nhello\r\n', [['PUB', 'foo.bar', null, -1, 'hello']]],
  ['PUB with reply', 'PUB foo _INBOX.1 3\r\nabc\r\n', [['PUB', 'foo', '_INBOX.1', -1, 'abc']]],
  ['PUB empty payload', 'PUB foo 0\r\n\r\n', [['PUB', 'foo', null, -1, '']]],
  ['PUB payload with CRLF inside', 'PUB foo 4\r\n\r\n\r\n\r\n', [['PUB', 'foo', null, -1, '\r\n\r\n']]],
  ['HPUB', `HPUB foo ${HDR.length} ${HDR.length + 2}\r\n${HDR}hi\r\n`, [['PUB', 'foo', null, HDR.length, `${HDR}hi`]]],
  ['HPUB with reply', `HPUB foo r.1 ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`, [['PUB', 'foo', 'r.1', HDR.length, HDR]]],
  ['SUB', 'SUB foo.* 1\r\n', [['SUB', 'foo.*', null, '1']]],
  ['SUB queue', 'SUB foo.> workers 22\r\n', [['SUB', 'foo.>', 'workers', '22']]],
  ['UNSUB', 'UNSUB 1\r\nUNSUB 2 10\r\n', [['UNSUB', '1', 0], ['UNSUB', '2', 10]]],
  ['PING PONG', 'PING\r\nPONG\r\nping\r\n', [['PING'], ['PONG'], ['PING']]],
  ['tabs and extra spaces', 'PUB\tfoo  \t 2\r\nok\r\n', [['PUB', 'foo', null, -1, 'ok']]],
  ['LF without CR', 'PING\nSUB a 1\n', [['PING'], ['SUB', 'a', null, '1']]],
  ['+OK and -ERR from a client are ignored', "+OK\r\n-ERR 'x'\r\nPING\r\n", [['PING']]],
  ['pipeline', `SUB a 1\r\nPUB a 1\r\nx\r\nHPUB a ${HDR.length} ${HDR.length + 1}\r\n${HDR}y\r\nPING\r\n`, [
    ['SUB', 'a', null, '1'], ['PUB', 'a', null, -1, 'x'], ['PUB', 'a', null, HDR.length, `${HDR}y`], ['PING'],
  ]],
  // Shapes the PUB fast path leaves to the general path, which must still accept them.
  ['PUB with a trailing space', 'PUB foo 2 \r\nok\r\n', [['PUB', 'foo', null, -1, 'ok']]],
  ['PUB line ending in LF only', 'PUB foo 2\nok\r\n', [['PUB', 'foo', null, -1, 'ok']]],
  ['lower-case pub and hpub', `pub foo 2\r\nok\r\nhpub foo ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`, [['PUB', 'foo', null, -1, 'ok'], ['PUB', 'foo', null, HDR.length, HDR]]],
  ['CR inside a PUB subject', 'PUB fo\ro 1\r\nx\r\n', [['PUB', 'fo\ro', null, -1, 'x']]],
  ['repeated and alternating subjects', 'PUB a.b 1\r\nx\r\nPUB a.c 1\r\ny\r\nPUB a.b r 1\r\nz\r\nPUB a.b 0\r\n\r\n', [
    ['PUB', 'a.b', null, -1, 'x'], ['PUB', 'a.c', null, -1, 'y'], ['PUB', 'a.b', 'r', -1, 'z'], ['PUB', 'a.b', null, -1, ''],
  ]],
  ['HELLO is not HPUB', 'HELLO\r\n', [['ERR', 'UnknownOperation']]],
  ['PUB with too many arguments for the tokenizer', 'PUB a b c d e f 1\r\nx\r\n', [['ERR', 'ParserError']]],
  ['unknown op', 'FOO\r\nPING\r\n', [['ERR', 'UnknownOperation']]],
  ['bad size', 'PUB a x\r\n', [['ERR', 'ParserError']]],
  ['too many args', 'PUB a b c 1\r\nx\r\n', [['ERR', 'ParserError']]],
  ['header larger than total', 'HPUB a 5 3\r\nabc\r\n', [['ERR', 'ParserError']]],
  ['payload without CRLF', 'PUB a 1\r\nxyz\r\n', [['ERR', 'UnknownOperation']]],
  ['over max payload', 'PUB a 1048577\r\n', [['ERR', 'MaxPayload']]],
  ['UNSUB without sid', 'UNSUB\r\n', [['ERR', 'UnknownOperation']]],
];

describe('client parser', () => {
  for (const [name, text, expected] of FIXTURES) {
    const input = Buffer.from(text, 'latin1');
    it(`parser - ${name}: whole`, () => {
      assert.deepEqual(parseInChunks(input, []), expected);
    });
    it(`parser - ${name}: one byte at a time`, () => {
      assert.deepEqual(parseInChunks(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1)), expected);
    });
    it(`parser - ${name}: split at every offset`, () => {
      for (let cut = 0; cut <= input.length; cut++) {
        assert.deepEqual(parseInChunks(input, [cut]), expected, `cut at ${cut}`);
      }
    });
  }

  it('parser - a control line over the limit fails even before its end arrives', () => {
    const ops = parseInChunks(Buffer.from(`SUB ${'a'.repeat(5000)}`), []);
    assert.deepEqual(ops, [['ERR', 'MaxControlLine']]);
  });

  it('parser - a whole PUB line over the limit fails', () => {
    const ops = parseInChunks(Buffer.from(`PUB ${'a'.repeat(5000)} 1\r\nx\r\n`), []);
    assert.deepEqual(ops, [['ERR', 'MaxControlLine']]);
  });

  it('parser - CONNECT may exceed max_control_line (JWTs), other ops may not', () => {
    const big = `CONNECT {"jwt":"${'x'.repeat(6000)}"}\r\n`;
    assert.equal(parseInChunks(Buffer.from(big), [100, 3000])[0][0], 'CONNECT');
  });

  it('parser - a payload arriving whole is passed as a range of the input, not a copy', () => {
    const input = Buffer.from('PUB a 5\r\nhello\r\n');
    const seen: Array<[Buffer, number, number]> = [];
    class SliceRecorder extends Recorder {
      override onPub(_subject: string, _reply: string | null, _headerSize: number, source: Buffer, start: number, end: number): void {
        seen.push([source, start, end]);
      }
    }
    new ClientParser(new SliceRecorder(), LIMITS).parse(input);
    assert.equal(seen.length, 1);
    assert.equal(seen[0][0], input);
    assert.deepEqual(seen[0].slice(1), [9, 14]);
  });

  it('parser - after a fatal error later input is ignored', () => {
    const recorder = new Recorder();
    const parser = new ClientParser(recorder, LIMITS);
    parser.parse(Buffer.from('BAD\r\n'));
    parser.parse(Buffer.from('PING\r\n'));
    assert.deepEqual(recorder.ops, [['ERR', 'UnknownOperation']]);
    assert.ok(parser.halted);
  });
});
