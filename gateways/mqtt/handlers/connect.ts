// CONNECT -> CONNACK (MQTT 3.1.1 §3.1/3.2, MQTT 5 §3.1/3.2): protocol level,
// client identifier, authentication through the shared Authorizer, will,
// session takeover / clean start / resume, and the v5 limits both sides state.

import { randomBytes } from 'node:crypto';
import type { IConnackPacket, IConnectPacket, QoS } from 'mqtt-packet';
import type { ClientDescription, Principal } from '../../../core/auth/authorizer.ts';
import type { MqttMessage } from '../message.ts';
import type { MqttClient } from '../mqtt-client.ts';
import { NEVER_EXPIRES } from '../options.ts';
import { OutboundTopicAliases } from '../outbound-topic-aliases.ts';
import { connackV3Code, MqttProtocolError, ReasonCode } from '../reason-codes.ts';
import { isValidTopicName } from '../topic-mapping.ts';

export async function handleConnect(client: MqttClient, packet: IConnectPacket): Promise<void> {
  if (client.state !== 'connecting') {
    // [MQTT-3.1.0-2] a second CONNECT is a protocol violation.
    throw new MqttProtocolError(ReasonCode.ProtocolError, 'second CONNECT on one connection');
  }
  const gateway = client.gateway;
  const version = packet.protocolVersion ?? 4;
  if (version !== 4 && version !== 5) {
    // [MQTT-3.1.2-2] unsupported level: CONNACK 0x01, then close.
    client.send({ cmd: 'connack', returnCode: 1, sessionPresent: false });
    return refuse(client);
  }
  client.protocolVersion = version;
  // Lame duck: this gateway is going away; the client should connect to another (0x88 / 3.1.1 code 3).
  if (gateway.lameDuckMode) return reject(client, ReasonCode.ServerUnavailable, 'server is in lame duck mode');
  const props = packet.properties ?? {};
  if (props.authenticationMethod !== undefined) {
    // MQTT 5 §4.12: we offer no enhanced authentication methods.
    return reject(client, ReasonCode.BadAuthenticationMethod, 'enhanced authentication is not supported');
  }

  // [MQTT-3.1.2-?] MQTT 5 §3.1.2.11.3/4: Receive Maximum and Maximum Packet Size of 0 are protocol errors.
  if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) {
    return reject(client, ReasonCode.ProtocolError, 'Receive Maximum or Maximum Packet Size of 0');
  }
  const clean = packet.clean !== false;
  let clientId = packet.clientId ?? '';
  let assigned = false;
  if (clientId.length === 0) {
    // [MQTT-3.1.3-8] 3.1.1: an empty id needs CleanSession=1; MQTT 5 always assigns one [MQTT-3.1.3-6].
    if (version === 4 && !clean) return reject(client, ReasonCode.ClientIdentifierNotValid, 'empty client id needs clean session');
    clientId = `auto-${randomBytes(9).toString('base64url')}`;
    assigned = true;
  }

  // A bcrypt check runs on a worker thread; the connection may go meanwhile.
  const principal = await authenticate(client, packet, clientId);
  if (client.state !== 'connecting') return;
  if (principal === null) {
    const hasCredentials = packet.username !== undefined || packet.password !== undefined;
    return reject(client, hasCredentials ? ReasonCode.BadUserNameOrPassword : ReasonCode.NotAuthorized, 'authentication failed');
  }

  if (packet.will) {
    if (!isValidTopicName(packet.will.topic)) return reject(client, ReasonCode.TopicNameInvalid, 'invalid will topic');
    const wp = packet.will.properties ?? {};
    const message: MqttMessage = {
      topic: packet.will.topic,
      payload: Buffer.isBuffer(packet.will.payload) ? packet.will.payload : Buffer.from(packet.will.payload ?? ''),
      qos: (packet.will.qos ?? 0) as QoS,
      retain: packet.will.retain === true,
      properties: {
        payloadFormatIndicator: wp.payloadFormatIndicator,
        messageExpiryInterval: wp.messageExpiryInterval,
        contentType: wp.contentType,
        responseTopic: wp.responseTopic,
        correlationData: wp.correlationData,
        userProperties: wp.userProperties,
      },
      receivedAt: Date.now(),
      origin: null,
    };
    client.will = { message, delay: version === 5 ? (wp.willDelayInterval ?? 0) : 0 };
  }

  client.clientId = clientId;
  client.adopt(principal);
  // The server's own in-flight window (mosquitto: max_inflight_messages) bounds what a session
  // has in flight, and so the size of its record, saved at every QoS 2 PUBREC; a v5 client may ask for less.
  client.receiveMaximum = Math.min(props.receiveMaximum ?? 65535, gateway.options.maxInflight);
  if (props.maximumPacketSize !== undefined) client.clientMaxPacketSize = props.maximumPacketSize;
  // Outbound topic aliases only for a client that asked for them [MQTT-3.1.2-26/27], at most as
  // many as the server takes inbound (each holds a topic): a fresh table per connection [MQTT-3.3.2-7].
  const aliasMaximum = Math.min(props.topicAliasMaximum ?? 0, gateway.options.topicAliasMaximum);
  if (version === 5 && aliasMaximum > 0) client.outboundAliases = new OutboundTopicAliases(aliasMaximum);

  // Session: 3.1.1 CleanSession=0 never expires; MQTT 5 uses Session Expiry Interval (default 0).
  const requestedExpiry = version === 5 ? (props.sessionExpiryInterval ?? 0) : clean ? 0 : NEVER_EXPIRES;
  const expiry = Math.min(requestedExpiry, gateway.options.maxSessionExpiry);
  await gateway.adopt(clientId, clean); // from another gateway of a cluster, if one holds it
  if (client.state !== 'connecting') {
    gateway.connectAbandoned(clientId); // the connection went away meanwhile
    return;
  }
  gateway.takeOver(clientId, clean);
  let session = gateway.sessions.get(clientId);
  if (session !== undefined && clean) {
    gateway.endSession(session); // [MQTT-3.1.2-4] clean start discards the old session
    session = undefined;
  }
  const sessionPresent = session !== undefined;
  if (session === undefined) {
    session = gateway.newSession(clientId);
    gateway.holdSession(session);
  }
  if (session.expiryTimer !== null) clearTimeout(session.expiryTimer);
  session.expiryTimer = null;
  session.expiryInterval = expiry;
  client.session = session;

  let keepAlive = packet.keepalive ?? 0;
  const maxKeepAlive = gateway.options.maxKeepAlive;
  // v5: a keep alive of 0 or over the cap gets the cap back as Server Keep Alive, and the client is
  // held to it [MQTT-3.2.2-21]. 3.1.1 has no way to say so: the client keeps its own, since closing
  // it at the shorter one would close a client that pings as it said it would (mosquitto accepts too).
  const capKeepAlive = version === 5 && maxKeepAlive > 0 && (keepAlive === 0 || keepAlive > maxKeepAlive);
  if (capKeepAlive) keepAlive = maxKeepAlive;

  const connack: IConnackPacket = { cmd: 'connack', sessionPresent };
  if (version === 5) {
    connack.reasonCode = ReasonCode.Success;
    const p: NonNullable<IConnackPacket['properties']> = {
      topicAliasMaximum: gateway.options.topicAliasMaximum,
      maximumPacketSize: gateway.options.maxPacketSize,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
    };
    if (gateway.options.receiveMaximum < 65535) p.receiveMaximum = gateway.options.receiveMaximum;
    if (assigned) p.assignedClientIdentifier = clientId; // [MQTT-3.2.2-16]
    if (capKeepAlive) p.serverKeepAlive = keepAlive; // [MQTT-3.2.2-21]
    if (expiry !== requestedExpiry) p.sessionExpiryInterval = expiry;
    connack.properties = p;
  } else {
    connack.returnCode = 0;
  }
  client.send(connack);
  gateway.stats.connections++;
  client.cleanStart = clean;
  client.markConnected(keepAlive);
  gateway.events?.connected(client);
  session.attach(client); // resends what was in flight, after CONNACK [MQTT-4.4.0-1]
  gateway.persist(session);
}

/** username/password, or a token carried as the password (with or without a username). */
async function authenticate(client: MqttClient, packet: IConnectPacket, mqttId: string): Promise<Principal | null> {
  const authorizer = client.gateway.authorizer;
  // For an authorizer that asks a service (auth callout's client_info).
  const about: ClientDescription = { type: 'mqtt', host: client.connection.remoteAddress, mqttId };
  // verify_and_map: the certificate alone names the user, as on every listener.
  const certificate = client.connection.credentials?.certificate;
  if (certificate !== undefined) return authorizer.authenticate({ certificate, client: about });
  const pass = packet.password === undefined ? undefined : packet.password.toString('utf8');
  const user = packet.username;
  if (user !== undefined) {
    const principal = await authorizer.authenticate({ user, pass, client: about });
    if (principal !== null || pass === undefined) return principal;
  }
  if (pass !== undefined) return authorizer.authenticate({ token: pass, client: about });
  return authorizer.authenticate({ client: about });
}

/** CONNACK with a failure code, then close [MQTT-3.2.2-5] / MQTT 5 [MQTT-3.2.2-7]. */
function reject(client: MqttClient, reason: number, why: string): void {
  client.gateway.log('connect refused:', why);
  client.closeReason = `connect refused: ${why}`;
  if (client.isV5) client.send({ cmd: 'connack', reasonCode: reason, sessionPresent: false });
  else client.send({ cmd: 'connack', returnCode: connackV3Code(reason), sessionPresent: false });
  refuse(client);
}

function refuse(client: MqttClient): void {
  client.close();
}
