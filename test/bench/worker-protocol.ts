// The IPC contract between the bench orchestrator (run.ts) and its load
// workers (worker.ts). Messages travel with `serialization: 'advanced'`, so
// bigint timestamps cross the process boundary unchanged.

/** process.hrtime.bigint() is CLOCK_MONOTONIC on Linux: comparable across processes. */
export type MonotonicNs = bigint;

export interface PublisherSpec {
  readonly role: 'publisher';
  readonly port: number;
  readonly subject: string;
  readonly payloadBytes: number;
  readonly count: number;
  readonly capMs: number;
}

export interface SubscriberSpec {
  readonly role: 'subscriber';
  readonly port: number;
  readonly subject: string;
  readonly queue: string | null;
  readonly capMs: number;
}

export interface ResponderSpec {
  readonly role: 'responder';
  readonly port: number;
  readonly subject: string;
  readonly payloadBytes: number;
  readonly capMs: number;
}

export interface RequesterSpec {
  readonly role: 'requester';
  /**
   * One connection per server; requests alternate between them one at a time,
   * so every server is measured under the same (shared, drifting) machine load.
   */
  readonly ports: readonly number[];
  readonly subject: string;
  readonly payloadBytes: number;
  /** Rounds not measured, so JIT and connection warm-up stay out of the figures. */
  readonly warmup: number;
  /** Measured requests per server. */
  readonly count: number;
  readonly capMs: number;
}

export interface IdleConnectionsSpec {
  readonly role: 'idle-connections';
  readonly port: number;
  readonly count: number;
  /** Handshakes in flight at once, so the listen backlog never overflows. */
  readonly concurrency: number;
  readonly capMs: number;
}

export type WorkerSpec = PublisherSpec | SubscriberSpec | ResponderSpec | RequesterSpec | IdleConnectionsSpec;
export type WorkerRole = WorkerSpec['role'];

export interface PublisherResult {
  readonly role: 'publisher';
  readonly sent: number;
  readonly startNs: MonotonicNs;
  /** When the server answered the PING sent after the last PUB: it has read everything. */
  readonly endNs: MonotonicNs;
  readonly cappedByTime: boolean;
}

export interface SubscriberResult {
  readonly role: 'subscriber';
  readonly received: number;
  /** Arrival of the first and last chunk holding messages; 0n when none arrived. */
  readonly firstNs: MonotonicNs;
  readonly lastNs: MonotonicNs;
  /** Why the subscriber stopped early (e.g. the server cut it off), or null. */
  readonly failure: string | null;
}

export interface ResponderResult {
  readonly role: 'responder';
  readonly answered: number;
}

export interface RequesterResult {
  readonly role: 'requester';
  /** Per port (in spec order): measured round trips in microseconds, sorted ascending. */
  readonly latenciesUs: readonly Float64Array[];
  readonly elapsedNs: MonotonicNs;
  readonly cappedByTime: boolean;
}

export interface IdleConnectionsResult {
  readonly role: 'idle-connections';
  readonly opened: number;
}

export type WorkerResult = PublisherResult | SubscriberResult | ResponderResult | RequesterResult | IdleConnectionsResult;

/**
 * Parent → worker. `go` starts the measured phase; `reset` (subscribers) zeroes
 * the count after a warm-up and answers `ready` again; `drain` asks for a final
 * count; `stop` ends the worker.
 */
export type ParentCommand =
  | { readonly type: 'start'; readonly spec: WorkerSpec }
  | { readonly type: 'go' }
  | { readonly type: 'reset' }
  | { readonly type: 'drain' }
  | { readonly type: 'stop' };

/** Worker → parent. */
export type WorkerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: WorkerResult }
  | { readonly type: 'error'; readonly message: string };
