// FileStreamStore's cache of recently appended records, so consumers that keep
// up read without disk I/O (and records not written yet are served from
// memory). One slot per sequence modulo SLOTS, bounded by bytes too.

const SLOTS = 4096;
const MASK = SLOTS - 1;

export class RecordCache {
  private readonly records: Array<Buffer | undefined> = new Array(SLOTS);
  /** The sequence in each slot: a typed-array read, where the record's own copy costs a Buffer#readDoubleLE. */
  private readonly seqs = new Float64Array(SLOTS);
  private bytes = 0;
  /** Eviction walks sequences upwards from here. */
  private low = 0;

  constructor(private readonly maxBytes: number) {}

  get(seq: number): Buffer | undefined {
    const rec = this.records[seq & MASK];
    return rec !== undefined && this.seqs[seq & MASK] === seq ? rec : undefined;
  }

  put(seq: number, rec: Buffer): void {
    this.drop(seq - SLOTS);
    this.records[seq & MASK] = rec;
    this.seqs[seq & MASK] = seq;
    this.bytes += rec.length;
    if (this.low <= seq - SLOTS) this.low = seq - SLOTS + 1;
    while (this.bytes > this.maxBytes && this.low < seq) this.drop(this.low++);
  }

  drop(seq: number): void {
    const slot = seq & MASK;
    const rec = this.records[slot];
    if (rec !== undefined && this.seqs[slot] === seq) {
      this.records[slot] = undefined;
      this.bytes -= rec.length;
    }
  }

  clear(): void {
    this.records.fill(undefined);
    this.bytes = 0;
  }
}
