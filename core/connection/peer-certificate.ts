// The identity in a TLS peer's verified certificate, for verify_and_map: every
// listener (NATS, MQTT, HTTP, WebSocket) reads it the same way, so one user
// gets one set of permissions whatever the protocol.

import type { TLSSocket } from 'node:tls';
import type { Credentials } from '../auth/authorizer.ts';
import { certificateIdentity } from '../auth/certificate-identity.ts';

/**
 * Credentials carrying the peer's certificate, or undefined when it sent none
 * or it is not verified. `verifiedByHandshake`: the socket was made with
 * rejectUnauthorized, so a finished handshake is a verified one.
 */
export function certificateCredentials(socket: TLSSocket, verifiedByHandshake = false): Credentials | undefined {
  // Only a certificate the CA vouched for names a user.
  if (!socket.authorized && !verifiedByHandshake) return undefined;
  const x509 = socket.getPeerX509Certificate();
  return x509 === undefined ? undefined : { certificate: certificateIdentity(x509.subject, x509.subjectAltName) };
}
