// The deployment's replica count for streams created through the Broker port.
// Gateways create their own streams (MQTT_sessions, MQTT_retained, ...) without
// knowing how many NATS servers there are; on a cluster the operator's
// --stream-replicas fills in num_replicas for every STREAM.CREATE that leaves
// it unset (0 or absent, which nats-server reads as 1). An explicit count wins.

import { JS_API_PREFIX } from '../protocol/jetstream-wire.ts';

const STREAM_CREATE_PREFIX = `${JS_API_PREFIX}.STREAM.CREATE.`;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The request body to send: `data` itself unless it is a stream create that needs the default replicas. */
export function withDefaultReplicas(subject: string, data: Uint8Array, replicas: number): Uint8Array {
  if (replicas <= 1 || !subject.startsWith(STREAM_CREATE_PREFIX)) return data;
  let config: unknown;
  try {
    config = JSON.parse(decoder.decode(data));
  } catch {
    return data; // not JSON: let the server answer with its own error
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return data;
  const given = (config as { num_replicas?: unknown }).num_replicas;
  if (given !== undefined && given !== 0) return data;
  return encoder.encode(JSON.stringify({ ...config, num_replicas: replicas }));
}
