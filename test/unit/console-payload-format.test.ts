// The console's payload display (gateways/http/console/app/payload-format.ts):
// JSON pretty-printed, text as it is, binary and control bytes as a hex dump,
// large payloads cut at the display limit with the rest counted.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DISPLAY_LIMIT, formatPayload, hexDump } from '../../gateways/http/console/app/payload-format.ts';

const base64 = (bytes: number[]): string => Buffer.from(bytes).toString('base64');

describe('console payload format', () => {
  it('console payload format - JSON is pretty-printed, other text shown as it is', () => {
    assert.deepEqual(formatPayload({ data: '{"a":1,"b":[true,null]}' }), { kind: 'json', text: '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}', omitted: 0 });
    assert.deepEqual(formatPayload({ data: '{not json' }), { kind: 'text', text: '{not json', omitted: 0 });
    assert.deepEqual(formatPayload({ data: '42' }), { kind: 'text', text: '42', omitted: 0 }, 'a bare number stays text');
    assert.deepEqual(formatPayload({ data: 'two\nlines\ttabbed' }), { kind: 'text', text: 'two\nlines\ttabbed', omitted: 0 });
    assert.deepEqual(formatPayload({ data: '' }), { kind: 'empty', text: '', omitted: 0 });
  });

  it('console payload format - binary and control bytes are a hex dump with offsets and ASCII', () => {
    const shown = formatPayload({ data_base64: base64([0, 1, 2, 0xfe, 0xff, 0x41]) });
    assert.equal(shown.kind, 'hex');
    assert.equal(shown.text, `00000000  00 01 02 fe ff 41${' '.repeat(30)}  .....A`);
    assert.equal(formatPayload({ data: 'bell\u0007' }).kind, 'hex', 'UTF-8 with a control byte');
    assert.equal(formatPayload({ data_base64: '' }).kind, 'empty');
    const rows = hexDump(new Uint8Array(40).map((_, i) => 0x30 + i)).split('\n');
    assert.deepEqual(rows.map((r) => r.slice(0, 8)), ['00000000', '00000010', '00000020']);
    assert.equal(rows[2], `00000020  50 51 52 53 54 55 56 57${' '.repeat(24)}  PQRSTUVW`);
  });

  it('console payload format - a large payload is cut at the display limit, the rest counted', () => {
    const text = formatPayload({ data: 'x'.repeat(DISPLAY_LIMIT + 10) });
    assert.deepEqual([text.kind, text.text.length, text.omitted], ['text', DISPLAY_LIMIT, 10]);
    const json = formatPayload({ data: JSON.stringify({ blob: 'y'.repeat(DISPLAY_LIMIT) }) });
    assert.equal(json.kind, 'text', 'cut JSON is not parsed');
    const binary = formatPayload({ data_base64: base64(new Array(DISPLAY_LIMIT + 3).fill(0)) });
    assert.deepEqual([binary.kind, binary.omitted, binary.text.split('\n').length], ['hex', 3, DISPLAY_LIMIT / 16]);
  });
});
