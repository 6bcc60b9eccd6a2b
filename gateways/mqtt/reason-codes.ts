// MQTT reason codes (MQTT 5 §2.4) and 3.1.1 CONNACK return codes (§3.2.2.3), the
// gateway's one catalog of wire codes, plus the typed error that carries one.

export const ReasonCode = {
  Success: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  ServerShuttingDown: 0x8b,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  QoSNotSupported: 0x9b,
  BadAuthenticationMethod: 0x8c,
  MaximumConnectTime: 0xa0,
  SharedSubscriptionsNotSupported: 0x9e,
} as const;
export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

/** MQTT 3.1.1 CONNACK return codes. */
export const ConnackV3 = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const;

/** The 3.1.1 return code closest to a v5 CONNACK reason code. */
export function connackV3Code(reason: number): number {
  switch (reason) {
    case ReasonCode.Success: return ConnackV3.Accepted;
    case ReasonCode.UnsupportedProtocolVersion: return ConnackV3.UnacceptableProtocolVersion;
    case ReasonCode.ClientIdentifierNotValid: return ConnackV3.IdentifierRejected;
    case ReasonCode.BadUserNameOrPassword: return ConnackV3.BadUserNameOrPassword;
    case ReasonCode.NotAuthorized: return ConnackV3.NotAuthorized;
    default: return ConnackV3.ServerUnavailable;
  }
}

/** 3.1.1 SUBACK failure return code [MQTT-3.9.3-2]. */
export const SUBACK_FAILURE_V3 = 0x80;

/**
 * A protocol problem that ends the connection. For MQTT 5 clients the gateway
 * sends DISCONNECT with `reasonCode` first; 3.1.1 clients are just closed
 * ([MQTT-4.8.0-1]: on a protocol violation the server closes the connection).
 */
export class MqttProtocolError extends Error {
  constructor(readonly reasonCode: ReasonCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MqttProtocolError';
  }
}
