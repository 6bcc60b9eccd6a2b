// A binary min-heap of deadlines, each with a value: what MessageExpiry
// (Nats-TTL, ADR-43) and MessageScheduler (Nats-Schedule, ADR-51) arm their
// one timer per stream from. Parallel arrays, so a push allocates nothing
// beyond the arrays' growth.

export class DeadlineHeap<T> {
  private readonly deadlines: number[] = [];
  private readonly values: T[] = [];

  get size(): number {
    return this.deadlines.length;
  }

  /** The earliest deadline, Infinity when empty. */
  peek(): number {
    return this.deadlines.length > 0 ? this.deadlines[0] : Infinity;
  }

  push(deadline: number, value: T): void {
    const d = this.deadlines;
    const v = this.values;
    let i = d.length;
    d.push(deadline);
    v.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent] <= d[i]) break;
      this.swap(parent, i);
      i = parent;
    }
  }

  /** Remove and return the value with the earliest deadline (precondition: size > 0). */
  pop(): T {
    const d = this.deadlines;
    const v = this.values;
    const top = v[0];
    const lastD = d.pop() as number;
    const lastV = v.pop() as T;
    if (d.length > 0) {
      d[0] = lastD;
      v[0] = lastV;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < d.length && d[l] < d[min]) min = l;
        if (r < d.length && d[r] < d[min]) min = r;
        if (min === i) break;
        this.swap(min, i);
        i = min;
      }
    }
    return top;
  }

  /** Remove every value `test` accepts; returns how many (the heap is rebuilt: for rare events, a rolled-back write). */
  removeWhere(test: (value: T) => boolean): number {
    const kept: Array<[number, T]> = [];
    for (let i = 0; i < this.values.length; i++) if (!test(this.values[i])) kept.push([this.deadlines[i], this.values[i]]);
    const removed = this.values.length - kept.length;
    if (removed === 0) return 0;
    this.deadlines.length = 0;
    this.values.length = 0;
    for (const [deadline, value] of kept) this.push(deadline, value);
    return removed;
  }

  private swap(a: number, b: number): void {
    const d = this.deadlines;
    const v = this.values;
    [d[a], d[b]] = [d[b], d[a]];
    [v[a], v[b]] = [v[b], v[a]];
  }
}
