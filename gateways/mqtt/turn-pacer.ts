// Pacing of bulk session work (issue 20, reconnect storm). libuv hands over
// every ready socket of one poll phase in a row (up to 1,024), so after a
// network blip thousands of closes, then thousands of CONNECTs, each with its
// session work, sat in front of an already-connected client's PINGREQ (a
// profile showed 400 ms of session releases in one stretch). That work is
// instead started only while this event-loop turn has room (a few tasks,
// within a small CPU budget); the rest wait here, in arrival order, for the
// next turns' check phase (setImmediate). Packets of established connections
// never wait here, so between two turns every ready PINGREQ is answered.

/** Tasks started per event-loop turn at most: their async continuations run in the same turn. */
const TASKS_PER_TURN = 32;
/** Synchronous CPU time spent starting tasks per turn before the rest wait for the next turn. */
const TURN_BUDGET_MS = 4;

interface Waiting {
  readonly task: () => Promise<void> | void;
  /** Set for an admitted task: it settles its caller's promise. */
  readonly resolve: (() => void) | null;
  readonly reject: ((error: unknown) => void) | null;
}

export class TurnPacer {
  private queue: Waiting[] = [];
  /** Index of the first waiting task in `queue` (shifting a long array per entry is quadratic). */
  private head = 0;
  private startedThisTurn = 0;
  private spentMs = 0;
  private turnScheduled = false;

  constructor(private readonly perTurn = TASKS_PER_TURN, private readonly budgetMs = TURN_BUDGET_MS) {}

  /** Tasks waiting for a turn with room. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /**
   * Run `task` (a CONNECT handler) now when this turn has room and nobody
   * waits, else once its turn comes; settles as the task does.
   */
  admit(task: () => Promise<void>): Promise<void> {
    if (this.waiting === 0 && this.hasRoom()) return this.start(task) as Promise<void>;
    this.scheduleTurn();
    return new Promise<void>((resolve, reject) => this.queue.push({ task, resolve, reject }));
  }

  /** Run `task` at a later turn with room, never within the current task (a takeover in this turn may make it moot). */
  defer(task: () => void): void {
    this.scheduleTurn();
    this.queue.push({ task, resolve: null, reject: null });
  }

  /** Start every waiting task now (stop(): nothing may be left for a later turn). */
  drain(): void {
    while (this.waiting > 0) this.startNext();
  }

  private hasRoom(): boolean {
    return this.startedThisTurn < this.perTurn && this.spentMs < this.budgetMs;
  }

  private start(task: () => Promise<void> | void): Promise<void> | void {
    this.startedThisTurn++;
    this.scheduleTurn(); // the next turn's check phase resets the count
    const began = performance.now();
    try {
      return task();
    } finally {
      this.spentMs += performance.now() - began;
    }
  }

  private startNext(): void {
    const w = this.queue[this.head++];
    const result = this.start(w.task);
    if (w.resolve !== null && w.reject !== null) (result as Promise<void>).then(w.resolve, w.reject);
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.turnScheduled = false;
    this.startedThisTurn = 0;
    this.spentMs = 0;
    while (this.waiting > 0 && this.hasRoom()) this.startNext();
    if (this.waiting === 0) {
      this.queue = [];
      this.head = 0;
      return;
    }
    if (this.head * 2 > this.queue.length) {
      // Let the started ones go (a storm's queue is long-lived).
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.scheduleTurn();
  };
}
