// $JS.API.INFO: account information, limits and API counters.

import { json, type ApiRoute } from './api-route.ts';
import { JS_API_LEVEL } from '../protocol/jetstream-api-level.ts';

const UNLIMITED_ACCOUNT = {
  max_memory: -1,
  max_storage: -1,
  max_streams: -1,
  max_consumers: -1,
  max_ack_pending: -1,
  memory_max_stream_bytes: -1,
  storage_max_stream_bytes: -1,
  max_bytes_required: false,
};

export const infoRoutes: ApiRoute[] = [
  {
    op: 'INFO',
    type: 'io.nats.jetstream.api.v1.account_info_response',
    handle(engine) {
      const usage = engine.usage();
      const maxStreams = engine.options.maxStreams ?? -1;
      return json({
        memory: usage.memory,
        storage: usage.storage,
        streams: usage.streams,
        consumers: engine.consumers.count(),
        limits: { ...UNLIMITED_ACCOUNT, max_streams: maxStreams },
        // `level` as nats-server 2.11+ reports it (ADR-44): what clients check before using newer features.
        api: { level: JS_API_LEVEL, total: engine.stats.apiTotal, errors: engine.stats.apiErrors },
      });
    },
  },
];
