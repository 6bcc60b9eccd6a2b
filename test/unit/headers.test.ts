import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INCOMPATIBLE_HEADERS, INCREMENT_HEADER } from '../../core/jetstream/counter.ts';
import { JS_HEADER_PREFIX, JsHeader } from '../../core/jetstream/stream.ts';
import { HeaderParseError, MessageHeaders, parseHeaders } from '../../core/protocol/headers.ts';

function parse(text: string): MessageHeaders {
  return parseHeaders(Buffer.from(text, 'utf8'));
}

function pairs(h: MessageHeaders): Array<[string, string]> {
  return [...h];
}

describe('headers', () => {
  it('headers - a block parses into status, description and ordered pairs, repeats kept', () => {
    const h = parse('NATS/1.0 503 No Responders\r\nA: 1\r\nB:2\r\nA:  3 \r\n\r\n');
    assert.equal(h.status, 503);
    assert.equal(h.description, 'No Responders');
    assert.deepEqual(pairs(h), [['A', '1'], ['B', '2'], ['A', '3']]);
    assert.deepEqual(h.values('A'), ['1', '3']);
    assert.deepEqual(h.keys(), ['A', 'B']);
  });

  it('headers - values are trimmed of any whitespace trim() removes; keys are kept as sent', () => {
    const h = parse('NATS/1.0\r\nK1:\t x\u00a0\r\nK2: \ufeffy\u3000\r\nK3:\r\nK4: a\rb\nc\r\n K5 : v\r\n\r\n');
    assert.deepEqual(pairs(h), [['K1', 'x'], ['K2', 'y'], ['K3', ''], ['K4', 'a\rb\nc'], [' K5 ', 'v']]);
  });

  it('headers - lines split on CRLF only, empty lines skipped, a missing final CRLF tolerated', () => {
    assert.deepEqual(pairs(parse('NATS/1.0\r\n\r\nA: 1\r\n\r\nB: 2')), [['A', '1'], ['B', '2']]);
    assert.deepEqual(pairs(parse('NATS/1.0')), []);
    assert.deepEqual(pairs(parse('NATS/1.0\r\nA: 1\r')), [['A', '1']]);
  });

  it('headers - a bad version line or a line without a key is a HeaderParseError', () => {
    assert.throws(() => parse('HTTP/1.1\r\n\r\n'), HeaderParseError);
    assert.throws(() => parse('NATS/\r\n1.0\r\n'), HeaderParseError);
    assert.throws(() => parse('NATS/1.0\r\nno colon\r\n\r\n'), HeaderParseError);
    assert.throws(() => parse('NATS/1.0\r\n: value\r\n\r\n'), HeaderParseError);
    assert.throws(() => parse('NATS/1.0\r\nA\r\nB: x:y\r\n\r\n'), HeaderParseError);
  });

  it('headers - get prefers an exact key, then the first case-insensitive one', () => {
    const h = new MessageHeaders().append('nats-msg-id', 'lower').append('Nats-Msg-Id', 'exact').append('NATS-MSG-ID', 'upper');
    assert.equal(h.get('Nats-Msg-Id'), 'exact');
    assert.equal(h.get('NaTs-MsG-iD'), 'lower');
    assert.equal(h.get('Nats-Msg'), undefined);
    assert.equal(h.has('nats-msg-id'), true);
  });

  it('headers - case-insensitive get follows toLowerCase for non-ASCII keys', () => {
    const h = new MessageHeaders().append('\u212a', 'kelvin').append('Ä', 'umlaut').append('\u0130', 'dotted');
    assert.equal(h.get('k'), 'kelvin');
    assert.equal(h.get('ä'), 'umlaut');
    assert.equal(h.get('i\u0307'), 'dotted');
    assert.equal(h.get('i'), undefined);
  });

  it('headers - U+0130 is the only code point whose lower case changes length (get relies on it)', () => {
    const changing: number[] = [];
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const s = String.fromCodePoint(c);
      if (s.toLowerCase().length !== s.length) changing.push(c);
    }
    assert.deepEqual(changing, [0x130]);
  });

  it('headers - a key prefix keeps only its lines, ignoring case, and still validates the others', () => {
    const block = Buffer.from('NATS/1.0\r\nKafka-Topic: t\r\nnats-msg-id: a\r\nNATS-Rollup: sub\r\nNats: x\r\nNats-Msg-Id: b\r\n\r\n');
    const h = parseHeaders(block, 'nats-');
    assert.deepEqual(pairs(h), [['nats-msg-id', 'a'], ['NATS-Rollup', 'sub'], ['Nats-Msg-Id', 'b']]);
    const whole = parseHeaders(block);
    for (const key of ['Nats-Msg-Id', 'nats-msg-id', 'Nats-Rollup', 'Nats-Expected-Stream']) assert.equal(h.get(key), whole.get(key), key);
    assert.throws(() => parseHeaders(Buffer.from('NATS/1.0\r\nKafka-Topic t\r\n\r\n'), 'nats-'), HeaderParseError);
  });

  it('headers - every header JetStream acts on starts with the prefix its ingest keeps', () => {
    for (const name of [...Object.values(JsHeader), INCREMENT_HEADER, ...INCOMPATIBLE_HEADERS]) {
      assert.ok(name.toLowerCase().startsWith(JS_HEADER_PREFIX), name);
    }
  });

  it('headers - set replaces every exact value, delete removes them, toString round-trips', () => {
    const h = MessageHeaders.status(408, 'Request Timeout').append('A', '1').append('B', '2').append('A', '3');
    h.set('A', '4');
    assert.deepEqual(pairs(h), [['B', '2'], ['A', '4']]);
    assert.equal(h.toString(), 'NATS/1.0 408 Request Timeout\r\nB: 2\r\nA: 4\r\n\r\n');
    const back = parseHeaders(h.encode());
    assert.deepEqual([back.status, back.description, pairs(back)], [408, 'Request Timeout', [['B', '2'], ['A', '4']]]);
    h.delete('B');
    assert.equal(h.size, 1);
  });
});
