// Strict API requests (nats-server 2.12, jetstream_api.go unmarshalRequest):
// a request body with a field the server does not know is refused with
// 10025 `invalid JSON: json: unknown field "<name>"`, instead of the field
// being silently ignored (a client asking for something this server would
// not do). On by default, as in nats-server; `jetstream { strict: false }`
// turns it off. The field lists are nats-server's request structs (their
// json tags), nested objects included; Go matches keys without regard to
// case, and so does this. Requests nats-server decodes leniently (direct
// get, next message, unpin, reset) have no entry.

import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JsError } from './errors.ts';

/** A field's value: anything (null), an object with known fields, or an array of such objects. */
type Shape = null | Fields | readonly [Fields];
interface Fields {
  readonly [name: string]: Shape;
}

function fields(names: string, nested: Record<string, Shape> = {}): Fields {
  const out: Record<string, Shape> = {};
  for (const name of names.split(/\s+/)) if (name !== '') out[name] = null;
  return { ...out, ...nested };
}

const SUBJECT_TRANSFORM = fields('src dest');
const STREAM_SOURCE = fields('name opt_start_seq opt_start_time filter_subject', {
  subject_transforms: [SUBJECT_TRANSFORM],
  external: fields('api deliver'),
  consumer: fields('name deliver_subject'),
});

/** nats-server StreamConfig (stream.go) plus StreamConfigRequest's `pedantic`. */
const STREAM_CONFIG_REQUEST = fields(
  `name description subjects retention max_consumers max_msgs max_bytes max_age max_msgs_per_subject max_msg_size
   discard storage num_replicas no_ack duplicate_window compression first_seq allow_direct mirror_direct
   discard_new_per_subject sealed deny_delete deny_purge allow_rollup_hdrs allow_msg_ttl subject_delete_marker_ttl
   allow_msg_counter allow_atomic allow_msg_schedules persist_mode allow_batched metadata pedantic`,
  {
    placement: fields('cluster tags preferred'),
    mirror: STREAM_SOURCE,
    sources: [STREAM_SOURCE],
    subject_transform: SUBJECT_TRANSFORM,
    republish: fields('src dest headers_only'),
    consumer_limits: fields('inactive_threshold max_ack_pending'),
  },
);

/** nats-server ConsumerConfig (consumer.go) inside CreateConsumerRequest. */
const CONSUMER_CREATE_REQUEST = fields('stream_name action pedantic', {
  config: fields(
    `durable_name name description deliver_policy opt_start_seq opt_start_time ack_policy ack_wait max_deliver backoff
     filter_subject filter_subjects replay_policy rate_limit_bps sample_freq max_waiting max_ack_pending flow_control
     headers_only max_batch max_expires max_bytes deliver_subject deliver_group idle_heartbeat inactive_threshold
     num_replicas mem_storage direct sourcing metadata pause_until priority_groups priority_policy priority_timeout`,
  ),
});

const PAGED_BY_SUBJECT = fields('offset subject');

/** Request bodies per API operation (the route's `op`). */
const REQUESTS: Readonly<Record<string, Fields>> = {
  'STREAM.CREATE': STREAM_CONFIG_REQUEST,
  'STREAM.UPDATE': STREAM_CONFIG_REQUEST,
  'STREAM.NAMES': PAGED_BY_SUBJECT,
  'STREAM.LIST': PAGED_BY_SUBJECT,
  'STREAM.INFO': fields('offset deleted_details subjects_filter'),
  'STREAM.PURGE': fields('seq filter keep'),
  'STREAM.MSG.DELETE': fields('seq no_erase'),
  'STREAM.MSG.GET': fields('seq last_by_subj next_by_subj batch max_bytes start_time multi_last up_to_seq up_to_time no_hdr'),
  'CONSUMER.CREATE': CONSUMER_CREATE_REQUEST,
  'CONSUMER.DURABLE.CREATE': CONSUMER_CREATE_REQUEST,
  'CONSUMER.NAMES': fields('offset'),
  'CONSUMER.LIST': fields('offset'),
  'CONSUMER.PAUSE': fields('pause_until'),
};

/** Lower-cased names of each shape, built once: Go matches a key to a field without regard to case. */
const lowered = new WeakMap<Fields, Map<string, Shape>>();
function lookup(shape: Fields, key: string): Shape | undefined {
  let m = lowered.get(shape);
  if (m === undefined) {
    m = new Map(Object.entries(shape).map(([k, v]) => [k.toLowerCase(), v]));
    lowered.set(shape, m);
  }
  return m.get(key.toLowerCase());
}

/** The first field of `value` (in document order, depth first) that `shape` does not know. */
function unknownField(value: unknown, shape: Fields): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  for (const [key, v] of Object.entries(value)) {
    const inner = lookup(shape, key);
    if (inner === undefined) return key;
    if (inner === null) continue;
    if (Array.isArray(inner)) {
      if (!Array.isArray(v)) continue;
      for (const item of v) {
        const found = unknownField(item, (inner as readonly [Fields])[0]);
        if (found !== null) return found;
      }
    } else {
      const found = unknownField(v, inner as Fields);
      if (found !== null) return found;
    }
  }
  return null;
}

/**
 * Throw nats-server's strict-mode error when the JSON `body` of an `op`
 * request has a field nats-server does not know. Bodies that are not JSON
 * objects are left to the route, which reports them its own way.
 */
export function checkStrictRequest(op: string, body: Buffer): void {
  const shape = REQUESTS[op];
  if (shape === undefined || body.length === 0) return;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return;
  }
  const unknown = unknownField(value, shape);
  if (unknown !== null) throw JetStreamApiError.of(JsError.InvalidJsonDetail, `json: unknown field ${JSON.stringify(unknown)}`);
}
