// Deadlines of many connections (keep alive, the CONNECT deadline) checked by
// one timer per distinct limit, not one timer per connection: a fleet of idle
// sensors mostly shares one keep alive, so 18,000 connections cost one timer
// and a Set entry each instead of 18,000 Timeout objects with their closures
// (issue 20, heap snapshots). A connection is found overdue at most a
// `1 / checksPerLimit` share of its limit late, as with a timer per connection
// that checked `checksPerLimit` times per limit.

interface Group<T> {
  readonly members: Set<T>;
  readonly timer: NodeJS.Timeout;
}

/** Shortest check period, so a tiny limit does not spin. */
const MIN_PERIOD_MS = 250;

export class DeadlineSweeper<T> {
  private readonly groups = new Map<number, Group<T>>();

  /**
   * `since(item)`: when its limit started counting (ms since epoch, e.g. the
   * last packet seen); `expire(item)`: it is overdue (the caller closes it and
   * calls unwatch).
   */
  constructor(
    private readonly since: (item: T) => number,
    private readonly expire: (item: T) => void,
    private readonly checksPerLimit: number,
  ) {}

  watch(item: T, limitMs: number): void {
    let group = this.groups.get(limitMs);
    if (group === undefined) {
      const members = new Set<T>();
      const timer = setInterval(() => this.sweep(members, limitMs), Math.max(MIN_PERIOD_MS, Math.floor(limitMs / this.checksPerLimit)));
      timer.unref();
      group = { members, timer };
      this.groups.set(limitMs, group);
    }
    group.members.add(item);
  }

  unwatch(item: T, limitMs: number): void {
    const group = this.groups.get(limitMs);
    if (group === undefined || !group.members.delete(item) || group.members.size > 0) return;
    clearInterval(group.timer);
    this.groups.delete(limitMs);
  }

  stop(): void {
    for (const group of this.groups.values()) clearInterval(group.timer);
    this.groups.clear();
  }

  private sweep(members: Set<T>, limitMs: number): void {
    const now = Date.now();
    // Collected first: expire() unwatches, which must not disturb the iteration.
    const overdue: T[] = [];
    for (const item of members) if (now - this.since(item) > limitMs) overdue.push(item);
    for (const item of overdue) this.expire(item);
  }
}
