// The identity in a TLS peer's verified certificate, for verify_and_map: every
// listener (NATS, MQTT, HTTP, WebSocket) reads it the same way, so one user
// gets one set of permissions whatever the protocol.

import type { TLSSocket } from 'node:tls';
import type { Credentials } from '../auth/authorizer.ts';
import { certificateIdentity } from '../auth/certificate-identity.ts';

/** Credentials carrying the peer's certificate, or undefined when it sent none (or the handshake is not done). */
export function certificateCredentials(socket: TLSSocket): Credentials | undefined {
  // Only a certificate the CA vouched for names a user; verify_and_map turns verification on, so this holds unless misconfigured.
  if (!socket.authorized) return undefined;
  const x509 = socket.getPeerX509Certificate();
  return x509 === undefined ? undefined : { certificate: certificateIdentity(x509.subject, x509.subjectAltName) };
}
