// Lame-duck mode closes connections spread over a duration rather than all at
// once, so a fleet reconnecting elsewhere does not arrive in one burst (as
// nats-server's lame_duck_duration does): first a grace period, then the
// connections one batch per tick until the duration is over.

/** Ticks closer than this would be timer noise: several connections then go per tick. */
const MIN_TICK_MS = 10;

/**
 * Close each of `items` with `close`, evenly spread over `durationMs` (the
 * last ones close at its end). Resolves when every one was closed.
 */
export async function closeSpread<T>(items: readonly T[], durationMs: number, close: (item: T) => void): Promise<void> {
  if (items.length === 0) return;
  const ticks = Math.max(1, Math.min(items.length, Math.floor(durationMs / MIN_TICK_MS)));
  const perTick = Math.ceil(items.length / ticks);
  const tickMs = durationMs / ticks;
  for (let i = 0; i < items.length; i += perTick) {
    for (const item of items.slice(i, i + perTick)) close(item);
    if (i + perTick < items.length) await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
}
