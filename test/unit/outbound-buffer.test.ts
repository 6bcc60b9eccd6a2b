import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeMessageTarget, OutboundBuffer } from '../../core/protocol/outbound-buffer.ts';

/** What MSG/HMSG must look like on the wire (NATS client protocol). */
function expected(subject: string, sid: string, reply: string | null, headerSize: number, message: Buffer): string {
  const op = headerSize >= 0 ? 'HMSG' : 'MSG';
  const sizes = headerSize >= 0 ? `${headerSize} ${message.length}` : `${message.length}`;
  return `${op} ${subject} ${sid} ${reply === null ? '' : `${reply} `}${sizes}\r\n${message.toString('latin1')}\r\n`;
}

describe('outbound buffer', () => {
  it('outbound buffer - bursts of every payload size come out byte-exact while blocks grow and shrink', () => {
    const out = new OutboundBuffer();
    const target = encodeMessageTarget('a.b', '7');
    // Bursts big enough to grow the block to its maximum, then small ones that shrink it again.
    const bursts = [1, 40, 300, 2_000, 3, 1, 1, 1, 1, 1, 1, 1, 1, 500];
    const sizes = [0, 1, 15, 63, 64, 1_000, 1_024, 16 * 1024 - 1, 16 * 1024, 70_000];
    let n = 0;
    for (const burst of bursts) {
      let wanted = '';
      for (let i = 0; i < burst; i++, n++) {
        const size = sizes[n % sizes.length];
        const message = Buffer.alloc(size, 97 + (n % 26));
        const reply = n % 3 === 0 ? `_INBOX.r.${n}` : null;
        const headerSize = n % 5 === 0 ? Math.min(size, 12) : -1;
        out.appendMessage(target, reply, headerSize, message, 0, message.length);
        wanted += expected('a.b', '7', reply, headerSize, message);
        if (n % 7 === 0) {
          out.appendString('PONG\r\n');
          wanted += 'PONG\r\n';
        }
      }
      assert.equal(out.length, Buffer.byteLength(wanted, 'latin1'));
      assert.equal(Buffer.concat(out.take()).toString('latin1'), wanted, `burst of ${burst}`);
      assert.equal(out.length, 0);
    }
  });

  it('outbound buffer - a taken batch is never overwritten by later appends', () => {
    const out = new OutboundBuffer();
    const target = encodeMessageTarget('s', '1');
    const batches: { chunks: Buffer[]; text: string }[] = [];
    for (let b = 0; b < 200; b++) {
      const message = Buffer.alloc(b * 37 % 3_000, 65 + (b % 26));
      out.appendMessage(target, null, -1, message, 0, message.length);
      const chunks = out.take();
      batches.push({ chunks, text: Buffer.concat(chunks).toString('latin1') });
    }
    // The socket may still hold earlier batches: they must read as they did when taken.
    for (const { chunks, text } of batches) assert.equal(Buffer.concat(chunks).toString('latin1'), text);
  });

  it('outbound buffer - a subject written as text reads exactly as a pre-encoded target, UTF-8 and long subjects too', () => {
    const subjects = ['a', '_INBOX.abcdefghijklmnopqrstuv.17', 'caf\u00e9.\u00fc', `long.${'x'.repeat(200)}`, 'x'.repeat(24), 'y'.repeat(25), 'ascii.then.\u00e9t\u00e9'];
    for (const subject of subjects) {
      for (const reply of [null, '_INBOX.r.1', 'r\u00e9ply']) {
        const byTarget = new OutboundBuffer();
        const byText = new OutboundBuffer();
        const message = Buffer.from('NATS/1.0\r\n\r\nhello');
        byTarget.appendMessage(encodeMessageTarget(subject, '42'), reply, 12, message, 0, message.length);
        byText.appendMessageTo(subject, '42', reply, 12, message, 0, message.length);
        assert.equal(byText.length, byTarget.length);
        assert.deepEqual(Buffer.concat(byText.take()), Buffer.concat(byTarget.take()), subject);
      }
    }
  });

  it('outbound buffer - a message given as a range of a larger buffer is written as that range only, small and large', () => {
    for (const size of [0, 5, 100, 16 * 1024, 40_000]) {
      const source = Buffer.alloc(size + 20, 0x2d);
      source.fill(0x61, 7, 7 + size);
      const out = new OutboundBuffer();
      out.appendMessage(encodeMessageTarget('r', '9'), null, -1, source, 7, 7 + size);
      assert.equal(Buffer.concat(out.take()).toString('latin1'), expected('r', '9', null, -1, Buffer.alloc(size, 0x61)), `size ${size}`);
    }
  });

  it('outbound buffer - an idle connection holds a small block; traffic grows it and output stays byte-exact', () => {
    const out = new OutboundBuffer();
    out.appendString(`INFO ${'{}'.padEnd(400, ' ')}\r\n`);
    const [info] = out.take();
    // The handshake's block is a slice of Node's shared pool, not an ArrayBuffer of its own.
    assert.ok(info.buffer.byteLength <= Buffer.poolSize, `block of ${info.buffer.byteLength} bytes`);
    const target = encodeMessageTarget('t', '1');
    let wanted = '';
    for (let i = 0; i < 3_000; i++) {
      const message = Buffer.alloc(i % 50, 0x62);
      out.appendMessage(target, null, -1, message, 0, message.length);
      wanted += expected('t', '1', null, -1, message);
    }
    const chunks = out.take();
    assert.equal(Buffer.concat(chunks).toString('latin1'), wanted);
    assert.ok(chunks.length < 20, `${chunks.length} blocks for one 90 KB batch: the blocks grew`);
  });
});
