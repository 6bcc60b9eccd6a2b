// Why a client connection closed, in the words of nats-server's ClosedState:
// /connz?state=closed reports them as `reason`, as nats-server does.

export const CloseReason = {
  ClientClosed: 'Client Closed',
  ServerShutdown: 'Server Shutdown',
  ProtocolError: 'Protocol Violation',
  SlowConsumerPendingBytes: 'Slow Consumer (Pending Bytes)',
  SlowConsumerWriteDeadline: 'Slow Consumer (Write Deadline)',
  StaleConnection: 'Stale Connection',
  AuthenticationTimeout: 'Authentication Timeout',
  AuthenticationViolation: 'Authentication Failure',
  MaxPayload: 'Maximum Message Payload Exceeded',
  MaxConnections: 'Maximum Connections Exceeded',
  /** Closed by an operator (nats-server's KICK, the HTTP gateway's DELETE /v1/connections/{cid}). */
  Kicked: 'Kicked',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];
