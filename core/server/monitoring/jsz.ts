// GET /jsz: JetStream figures with nats-server's field names. core/server
// does not know the JetStream engine (DESIGN dependency rule): whoever wires
// the engine passes a function that reports these figures.

import { json, type MonitorContext, type MonitorResponse } from './monitor-context.ts';

export interface JetStreamFigures {
  storeDir: string;
  /** Limits; -1 = no limit. */
  maxMemory: number;
  maxStorage: number;
  memory: number;
  storage: number;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
  apiTotal: number;
  apiErrors: number;
  /**
   * Per-stream detail for `?streams=true` (nats-server's stream_detail: name,
   * created, state, mirror and sources with their link state); built only when asked.
   */
  streamDetail?: () => readonly object[];
}

/** nats-server's boolean query values. */
function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v === 'true' || v === '1';
}

export function jsz(ctx: MonitorContext, query: URLSearchParams = new URLSearchParams()): MonitorResponse {
  const base = { server_id: ctx.server.serverId, now: new Date().toISOString() };
  const f = ctx.jetstream?.();
  if (f === undefined) return json({ ...base, disabled: true, config: { max_memory: 0, max_storage: 0 }, memory: 0, storage: 0, reserved_memory: 0, reserved_storage: 0, accounts: 0, ha_assets: 0, api: { total: 0, errors: 0 } });
  return json({
    ...base,
    config: { max_memory: f.maxMemory, max_storage: f.maxStorage, store_dir: f.storeDir },
    ...usage(f),
    accounts: 1,
    streams: f.streams,
    consumers: f.consumers,
    messages: f.messages,
    bytes: f.bytes,
    ...(flag(query, 'streams') || flag(query, 'accounts') ? { account_details: [accountDetail(f, flag(query, 'streams'))] } : {}),
  });
}

/** The one account ($G) of nats-server's account_details, with stream_detail when asked. */
function accountDetail(f: JetStreamFigures, streams: boolean): object {
  return {
    name: '$G',
    id: '$G',
    ...usage(f),
    ...(streams ? { stream_detail: f.streamDetail?.() ?? [] } : {}),
  };
}

/** The usage figures /jsz and each account detail share. */
function usage(f: JetStreamFigures): object {
  return { memory: f.memory, storage: f.storage, reserved_memory: 0, reserved_storage: 0, ha_assets: 0, api: { total: f.apiTotal, errors: f.apiErrors } };
}
