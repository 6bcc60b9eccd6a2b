// PubAck bytes for the hot path of stored publishes (the engine answers every
// one): no JSON.stringify, no string and no Buffer per ack.

const DUPLICATE_TAIL = Buffer.from(',"duplicate":true}');

/**
 * PubAck bytes without a string and a Buffer per ack: `{"stream":"S","seq":N}`
 * written into a shared slab. Slices handed out are never written again.
 */
export class AckEncoder {
  private slab = Buffer.allocUnsafe(64 * 1024);
  private used = 0;

  encode(prefix: Buffer, seq: number, duplicate: boolean): Buffer {
    const need = prefix.length + 17 + DUPLICATE_TAIL.length;
    if (this.used + need > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(64 * 1024, need));
      this.used = 0;
    }
    const slab = this.slab;
    const start = this.used;
    slab.set(prefix, start);
    let at = start + prefix.length;
    const digits = String(seq);
    for (let i = 0; i < digits.length; i++) slab[at++] = digits.charCodeAt(i);
    if (duplicate) {
      slab.set(DUPLICATE_TAIL, at);
      at += DUPLICATE_TAIL.length;
    } else {
      slab[at++] = 0x7d; // }
    }
    this.used = at;
    return slab.subarray(start, at);
  }
}

/** A refused publish's answer as nats-server writes it (JSPubAckResponse): the error, then the stream and seq 0. */
export function errorPubAck(stream: string, error: { toWire(): unknown }): Buffer {
  return Buffer.from(JSON.stringify({ error: error.toWire(), stream, seq: 0 }));
}
