// kafkajs's Encoder with uninitialised buffers. Every Encoder (one per record,
// one per header, one per layer of a request) allocated a zero-filled
// ArrayBuffer of its own and doubled into another as it grew: 16% of the
// produce path's CPU. Uninitialised is safe here because an Encoder only ever
// exposes `buf.slice(0, offset)` and writes every byte below `offset` before
// moving it; buffers under 4 KiB now come from Node's shared pool.

export interface EncoderShape {
  buf: Buffer;
  offset: number;
}

/** The parts of kafkajs's Encoder class the stand-ins use. */
export interface EncoderClass {
  new (initialSize?: number): EncoderShape;
  prototype: EncoderShape & { ensureAvailable(length: number): void };
  nextPowerOfTwo(value: number): number;
}

/**
 * A constructor for kafkajs to use in place of `Encoder`: the same prototype
 * (instances stay `instanceof Encoder`) and statics, growth by the same powers
 * of two. Patches `Encoder.prototype.ensureAvailable`, which both share.
 */
export function pooledEncoder(Encoder: EncoderClass): EncoderClass {
  function PooledEncoder(this: EncoderShape, initialSize = 511): void {
    this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize));
    this.offset = 0;
  }
  const replacement = PooledEncoder as unknown as EncoderClass;
  replacement.prototype = Encoder.prototype;
  Object.setPrototypeOf(replacement, Encoder);
  Encoder.prototype.ensureAvailable = function ensureAvailable(this: EncoderShape, length: number): void {
    const needed = this.offset + length;
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(needed));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  return replacement;
}
