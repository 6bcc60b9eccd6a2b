// The JetStream API wire types, as the library's users see them. They are
// defined in core/protocol, below both the engine and this library, which share
// them (one PubAck, one StreamInfoWire, one JetStreamApiError); named here so
// gateways and connectors never reach into core/protocol (as core/broker/headers.ts
// does for headers).

export { JetStreamApiCodes, JetStreamApiError, type ApiErrorWire, type JetStreamApiCode } from '../protocol/jetstream-api-error.ts';
export { JS_API_PREFIX, type PubAck, type StreamConfigWire, type StreamInfoWire, type StreamStateWire } from '../protocol/jetstream-wire.ts';
