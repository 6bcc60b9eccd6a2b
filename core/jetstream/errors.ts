// The JetStream API error catalog: HTTP-like code, err_code and description
// exactly as nats-server sends them (NS server/errors.json). `{name}`
// placeholders are filled per error. One table: every API answer and PubAck
// error comes from here, thrown as JetStreamApiError (core/protocol, shared with
// the client library); the err_codes clients branch on come from
// JetStreamApiCodes there, so each number is written once.

import { JetStreamApiCodes as Code, type JetStreamApiErrorDef } from '../protocol/jetstream-api-error.ts';

export const JsError = {
  BadRequest: { code: 400, errCode: 10003, description: 'bad request' },
  InsufficientResources: { code: 503, errCode: Code.InsufficientResources, description: 'insufficient resources' },
  InvalidJson: { code: 400, errCode: 10025, description: 'invalid JSON' },
  MaximumStreamsLimit: { code: 400, errCode: 10027, description: 'maximum number of streams reached' },
  NoMessageFound: { code: 404, errCode: Code.NoMessageFound, description: 'no message found' },
  NotEmptyRequest: { code: 400, errCode: 10038, description: 'expected an empty request payload' },
  SequenceNotFound: { code: 400, errCode: 10043, description: 'sequence {seq} not found' },
  StreamCreate: { code: 500, errCode: 10049, description: '{err}' },
  StreamDelete: { code: 500, errCode: 10050, description: '{err}' },
  StreamGeneral: { code: 500, errCode: 10051, description: '{err}' },
  StreamInvalidConfig: { code: 500, errCode: 10052, description: '{err}' },
  StreamMessageExceedsMaximum: { code: 400, errCode: 10054, description: 'message size exceeds maximum allowed' },
  StreamMismatch: { code: 400, errCode: 10056, description: 'stream name in subject does not match request' },
  StreamMsgDeleteFailed: { code: 500, errCode: 10057, description: '{err}' },
  StreamNameExist: { code: 400, errCode: 10058, description: 'stream name already in use with a different configuration' },
  StreamNotFound: { code: 404, errCode: Code.StreamNotFound, description: 'stream not found' },
  StreamNotMatch: { code: 400, errCode: Code.StreamNotMatch, description: 'expected stream does not match' },
  StreamSubjectOverlap: { code: 400, errCode: 10065, description: 'subjects overlap with an existing stream' },
  StreamUpdate: { code: 500, errCode: 10069, description: '{err}' },
  StreamWrongLastMsgId: { code: 400, errCode: Code.StreamWrongLastMsgId, description: 'wrong last msg ID: {id}' },
  StreamWrongLastSequence: { code: 400, errCode: Code.StreamWrongLastSequence, description: 'wrong last sequence: {seq}' },
  StreamReplicasNotSupported: { code: 500, errCode: 10074, description: 'replicas > 1 not supported in non-clustered mode' },
  NotEnabled: { code: 503, errCode: Code.NotEnabled, description: 'JetStream not enabled' },
  StreamStoreFailed: { code: 503, errCode: Code.StreamStoreFailed, description: '{err}' },
  StreamHeaderExceedsMaximum: { code: 400, errCode: 10097, description: 'header size exceeds maximum allowed of 64k' },
  StreamSealed: { code: 400, errCode: 10109, description: 'invalid operation on sealed stream' },
  StreamPurgeFailed: { code: 500, errCode: 10110, description: '{err}' },
  StreamRollupFailed: { code: 500, errCode: 10111, description: '{err}' },
  StreamNameContainsPathSeparators: { code: 400, errCode: 10128, description: 'Stream name can not contain path separators' },
  StreamTransformInvalidSource: { code: 400, errCode: 10155, description: 'stream transform source: {err}' },
  StreamTransformInvalidDestination: { code: 400, errCode: 10156, description: 'stream transform: {err}' },
  MessageTTLInvalid: { code: 400, errCode: 10165, description: 'invalid per-message TTL' },
  MessageTTLDisabled: { code: 400, errCode: 10166, description: 'per-message TTL is disabled' },
  MessageIncrDisabled: { code: 400, errCode: 10168, description: 'message counters is disabled' },
  MessageIncrMissing: { code: 400, errCode: 10169, description: 'message counter increment is missing' },
  MessageIncrPayload: { code: 400, errCode: 10170, description: 'message counter has payload' },
  MessageIncrInvalid: { code: 400, errCode: 10171, description: 'message counter increment is invalid' },
  MessageCounterBroken: { code: 400, errCode: 10172, description: 'message counter is broken' },
} as const satisfies Record<string, JetStreamApiErrorDef>;
