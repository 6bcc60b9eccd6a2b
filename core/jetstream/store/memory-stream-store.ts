// Messages kept in process memory (storage: memory). Payloads live in a Map by
// sequence, one copied buffer per message holding header and data.

import { BaseStreamStore } from './base-stream-store.ts';
import { subjectByteLength, UNLIMITED, type StoredMessage, type StoreLimits } from './stream-store.ts';

export class MemoryStreamStore extends BaseStreamStore {
  readonly kind = 'memory' as const;
  private readonly payloads = new Map<number, StoredMessage>();

  constructor(name: string, limits: StoreLimits = UNLIMITED, options: { firstSeq?: number } = {}) {
    super(name, limits, false);
    if (options.firstSeq !== undefined && options.firstSeq > 1) this.index.skipTo(options.firstSeq - 1);
  }

  /** nats-server memstore: subject + header + data + 16. */
  protected messageSize(subject: string, header: Buffer | null, data: Buffer): number {
    return subjectByteLength(subject) + (header?.length ?? 0) + data.length + 16;
  }

  protected writeMessage(seq: number, subject: string, header: Buffer | null, data: Buffer, time: number): number {
    const hlen = header?.length ?? 0;
    const copy = Buffer.allocUnsafe(hlen + data.length);
    if (header !== null) header.copy(copy, 0);
    data.copy(copy, hlen);
    this.payloads.set(seq, {
      seq,
      subject,
      time,
      header: header === null ? null : copy.subarray(0, hlen),
      data: copy.subarray(hlen),
    });
    return 0;
  }

  protected readMessage(seq: number): StoredMessage {
    return this.payloads.get(seq) as StoredMessage;
  }

  protected dropMessage(seq: number): void {
    this.payloads.delete(seq);
  }

  protected afterReset(): void {}

  commit(done?: (err: Error | null) => void): void {
    done?.(null);
  }

  async flush(): Promise<void> {}

  protected async closeResources(): Promise<void> {}

  async destroy(): Promise<void> {
    await this.close();
    this.payloads.clear();
  }
}
