// The JetStream API level (ADR-44; nats-server jetstream_versioning.go
// JSApiLevel): 1 came with nats-server 2.11, 2 with 2.12, 4 with 2.14. Clients
// turn features on from it (`api.level` in $JS.API.INFO, `api_lvl` in INFO)
// or from the INFO version (nats.js's feature table: batch direct get and
// priority groups at 2.11, consumer reset at 2.14). A server that reports a
// level must do all of it, or a client sends what it then ignores: so the level
// (and the version derived from it) is the highest whose every feature is
// done. Shared by core/server (INFO) and core/jetstream ($JS.API.INFO), which
// is why it lives below both.

export interface ApiLevelFeature {
  readonly name: string;
  readonly done: boolean;
}

/** What each level adds, and whether Switchboard has it (issue 24). */
export const API_LEVEL_FEATURES: Readonly<Record<number, readonly ApiLevelFeature[]>> = {
  1: [
    { name: 'per-message TTL and subject delete markers (ADR-43)', done: true },
    { name: 'consumer pause and resume', done: true },
    { name: 'priority groups: overflow and pinned_client (ADR-42)', done: true },
    { name: 'direct get in batches, multi_last (ADR-31)', done: true },
    { name: 'stream ingest limits (429 JSStreamTooManyRequests)', done: true },
  ],
  2: [
    { name: 'counters (ADR-49)', done: true },
    { name: 'atomic batch publish (ADR-50)', done: true },
    { name: 'message schedules (ADR-51)', done: true },
    { name: 'strict API: unknown request fields refused', done: true },
    { name: 'priority policy prioritized', done: true },
  ],
  3: [],
  4: [
    { name: 'consumer reset (ADR-60)', done: true },
    { name: 'fast batch publish', done: true },
    { name: 'cron and interval schedules', done: true },
  ],
};

/** The nats-server release that introduced each level; 0 is 2.10's (no level). */
const VERSION_OF_LEVEL: Readonly<Record<number, string>> = { 0: '2.10.0', 1: '2.11.0', 2: '2.12.0', 3: '2.13.0', 4: '2.14.0' };

/** The highest level whose features, and every lower level's, are all done. */
export function reachedApiLevel(table: Readonly<Record<number, readonly ApiLevelFeature[]>> = API_LEVEL_FEATURES): number {
  let level = 0;
  while (table[level + 1] !== undefined && table[level + 1].every((f) => f.done)) level++;
  return level;
}

/** The JetStream API level Switchboard answers with. */
export const JS_API_LEVEL = reachedApiLevel();

/** The nats-server version whose feature set the level stands for (what INFO's `version` says). */
export function natsVersionOfApiLevel(level: number): string {
  return VERSION_OF_LEVEL[level] ?? VERSION_OF_LEVEL[4];
}
