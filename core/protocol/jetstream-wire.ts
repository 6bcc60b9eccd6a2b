// JetStream API JSON shapes that both sides of the API share: the engine
// (core/jetstream) writes them and the client library (core/jetstream-client)
// reads them, so they live below both (DESIGN dependency rule). Wire names are
// kept (snake_case, durations in nanoseconds), as nats-server sends them.

/** Every JetStream API subject starts with this (`$JS.API.STREAM.INFO.<name>`, ...). */
export const JS_API_PREFIX = '$JS.API';

/** As nats-server reads and writes it. Every field is optional on input. */
export interface StreamConfigWire {
  name?: string;
  description?: string;
  subjects?: string[];
  retention?: string;
  max_consumers?: number;
  max_msgs?: number;
  max_bytes?: number;
  max_age?: number;
  max_msgs_per_subject?: number;
  max_msg_size?: number;
  discard?: string;
  storage?: string;
  num_replicas?: number;
  no_ack?: boolean;
  duplicate_window?: number;
  allow_direct?: boolean;
  mirror_direct?: boolean;
  discard_new_per_subject?: boolean;
  sealed?: boolean;
  deny_delete?: boolean;
  deny_purge?: boolean;
  allow_rollup_hdrs?: boolean;
  /** ADR-49 counters (nats-server 2.12). */
  allow_msg_counter?: boolean;
  /** ADR-43 per-message TTL (`Nats-TTL`), nats-server 2.11. */
  allow_msg_ttl?: boolean;
  /** ADR-51 (nats-server 2.12). */
  allow_msg_schedules?: boolean;
  /** Nanoseconds a delete marker lives; markers replace the last message of a subject that age removes. */
  subject_delete_marker_ttl?: number;
  /** ADR-50 atomic batch publish (nats-server 2.12). */
  allow_atomic?: boolean;
  /** ADR-50 fast batch publish (nats-server 2.14). */
  allow_batched?: boolean;
  metadata?: Record<string, string>;
  first_seq?: number;
  /** Applied to every captured subject before it is stored (nats-server 2.10). */
  subject_transform?: SubjectTransformWire;
  /** A read-only copy of one origin stream, sequence numbers kept (nats-server). */
  mirror?: StreamSourceWire;
  /** Origin streams whose messages this stream also stores. */
  sources?: StreamSourceWire[];
  [unknown: string]: unknown;
}

/** One `mirror` or `sources` entry, as nats-server's StreamSource. */
export interface StreamSourceWire {
  name?: string;
  opt_start_seq?: number;
  /** RFC 3339. */
  opt_start_time?: string;
  filter_subject?: string;
  subject_transforms?: SubjectTransformWire[];
  external?: { api?: string; deliver?: string };
  [unknown: string]: unknown;
}

/** A mirror's or source's state in stream info (nats-server StreamSourceInfo). */
export interface StreamSourceInfoWire {
  name: string;
  filter_subject?: string;
  subject_transforms?: SubjectTransformWire[];
  /** Messages in the origin not stored here yet. */
  lag: number;
  /** Nanoseconds since the link was last seen working; -1: never. */
  active: number;
  /** Sources: the last origin sequence stored. */
  seq?: number;
  error?: { code: number; err_code: number; description: string };
  /** An origin reached through an API prefix (nats-server ExternalStream). */
  external?: { api: string; deliver: string };
  // Switchboard's additions (issue 23 item 5, visible links); nats clients ignore them.
  /** The link is working: the origin is there (local) or its consumer is heard from (external). */
  connected?: boolean;
  /** When a copy was last stored (RFC 3339). */
  last_transfer?: string;
  /** Nanoseconds since the oldest message not copied yet was stored at the origin; 0 when caught up. */
  backlog_age?: number;
}

export interface SubjectTransformWire {
  src?: string;
  dest?: string;
}

/** A stream's answer to a publish it stored (`{"error": ...}` instead when it did not). */
export interface PubAck {
  stream: string;
  seq: number;
  duplicate?: boolean;
  /** The JetStream domain, from servers that have one. */
  domain?: string;
  /** A counter's total after this publish (ADR-49), as a decimal string. */
  val?: string;
}

export interface StreamStateWire {
  messages: number;
  bytes: number;
  first_seq: number;
  first_ts: string;
  last_seq: number;
  last_ts: string;
  num_subjects?: number;
  subjects?: Record<string, number>;
  num_deleted?: number;
  deleted?: number[];
  consumer_count: number;
}

/** STREAM.INFO, STREAM.CREATE and STREAM.LIST items; `total`/`offset`/`limit` page `state.subjects`. */
export interface StreamInfoWire {
  config: StreamConfigWire;
  created: string;
  state: StreamStateWire;
  total?: number;
  offset?: number;
  limit?: number;
  [more: string]: unknown;
}
