// Exponential backoff with full jitter for reconnecting to Kafka: a dead cluster
// is retried forever, but never more often than every `maxMs` once it stays down.

export class Backoff {
  private attempt = 0;

  constructor(private readonly initialMs = 100, private readonly maxMs = 5_000) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    return Math.max(this.initialMs / 2, Math.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolve after `ms`, or earlier when the signal aborts (so stop() is never held up by a sleep). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Wait for `work`, but no longer than `ms`: stop() must not hang on a Kafka request in flight. */
export async function settleWithin(work: Promise<unknown> | null, ms: number): Promise<void> {
  if (work === null) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
