// Per-mapping counters for /metrics and the monitoring JSON. The rate is the
// average over the last complete seconds of a 10-second ring, so it needs no
// timer and costs one array write per message batch.

export type MappingState = 'idle' | 'connecting' | 'running' | 'retrying' | 'stopped';

export interface MappingMetricsSnapshot {
  name: string;
  direction: 'kafka-to-nats' | 'nats-to-kafka';
  state: MappingState;
  /** Messages delivered to the destination (NATS publish / PubAck, or Kafka ack). */
  messages: number;
  bytes: number;
  /** Messages per second over the last 10 s. */
  rate: number;
  /** kafka-to-nats: records behind the high watermark; nats-to-kafka: messages buffered for Kafka. */
  lag: number;
  errors: number;
  lastError: { message: string; at: string } | null;
  /** Messages not delivered and never will be (buffer full, untranslatable); always counted, never silent. */
  dropped: number;
  /** Messages with Kafka origin headers not sent back to Kafka. */
  loopsPrevented: number;
}

const WINDOW = 10;

/** Told of each state change and error as it happens (the server logs them). */
export interface MappingListener {
  stateChanged(mapping: string, from: MappingState, to: MappingState): void;
  error(mapping: string, message: string): void;
}

export class MappingMetrics {
  private current: MappingState = 'idle';
  listener: MappingListener | null = null;
  messages = 0;
  bytes = 0;
  errors = 0;
  dropped = 0;
  loopsPrevented = 0;
  lag = 0;
  private lastError: { message: string; at: string } | null = null;
  private readonly buckets = new Float64Array(WINDOW);
  private readonly bucketSecond = new Float64Array(WINDOW).fill(-1);

  constructor(readonly name: string, readonly direction: MappingMetricsSnapshot['direction'], private readonly now: () => number = Date.now) {}

  get state(): MappingState {
    return this.current;
  }

  set state(next: MappingState) {
    const from = this.current;
    this.current = next;
    if (from !== next) this.listener?.stateChanged(this.name, from, next);
  }

  delivered(count: number, bytes: number): void {
    this.messages += count;
    this.bytes += bytes;
    const second = Math.floor(this.now() / 1000);
    const slot = second % WINDOW;
    if (this.bucketSecond[slot] !== second) {
      this.bucketSecond[slot] = second;
      this.buckets[slot] = 0;
    }
    this.buckets[slot] += count;
  }

  error(error: unknown): void {
    this.errors++;
    this.lastError = { message: error instanceof Error ? error.message : String(error), at: new Date(this.now()).toISOString() };
    this.listener?.error(this.name, this.lastError.message);
  }

  rate(): number {
    const current = Math.floor(this.now() / 1000);
    let total = 0;
    for (let i = 0; i < WINDOW; i++) {
      const second = this.bucketSecond[i];
      // Only complete seconds count, so a burst does not read as a spike.
      if (second < current && second >= current - WINDOW) total += this.buckets[i];
    }
    return total / WINDOW;
  }

  snapshot(): MappingMetricsSnapshot {
    return {
      name: this.name,
      direction: this.direction,
      state: this.state,
      messages: this.messages,
      bytes: this.bytes,
      rate: this.rate(),
      lag: this.lag,
      errors: this.errors,
      lastError: this.lastError,
      dropped: this.dropped,
      loopsPrevented: this.loopsPrevented,
    };
  }
}
