// Core server options with nats-server's defaults (NS server/const.go), so a
// client tuned for nats-server sees the same limits here.

export interface ServerOptions {
  /** Listen address; tests and the default bind loopback only. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  serverName: string;
  /** Largest message a client may publish (bytes). */
  maxPayload: number;
  /** Longest control line (protocol operation without payload), bytes. */
  maxControlLine: number;
  maxConnections: number;
  /** Bytes queued for one client before it is cut off as a slow consumer. */
  maxPending: number;
  /** How long a blocked write may stay blocked before the client is a slow consumer. */
  writeDeadlineMs: number;
  pingIntervalMs: number;
  /** PINGs without PONG before the connection is stale. */
  maxPingsOut: number;
  /** Time a client has to send CONNECT when authentication is required. */
  authTimeoutMs: number;
  /** Lame duck (--signal ldm): how long closing every client may take, and the wait before the first is closed (nats-server's defaults 2 min, 10 s). */
  lameDuckDurationMs: number;
  lameDuckGracePeriodMs: number;
  /** Set when the NATS listener requires TLS (INFO announces tls_required, tls_verify). */
  tls?: { verify: boolean };
}

export const DEFAULT_SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 4222,
  serverName: 'switchboard',
  maxPayload: 1024 * 1024,
  maxControlLine: 4096,
  maxConnections: 64 * 1024,
  maxPending: 64 * 1024 * 1024,
  writeDeadlineMs: 10_000,
  pingIntervalMs: 120_000,
  maxPingsOut: 2,
  authTimeoutMs: 2_000,
  lameDuckDurationMs: 120_000,
  lameDuckGracePeriodMs: 10_000,
});

export function resolveServerOptions(overrides: Partial<ServerOptions> = {}): ServerOptions {
  const merged: ServerOptions = { ...DEFAULT_SERVER_OPTIONS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof ServerOptions, unknown]>) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return merged;
}
