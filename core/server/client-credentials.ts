// The credentials a NATS client presents: CONNECT's own, with what its
// transport authenticated (a WebSocket upgrade's, a TLS certificate) filling in
// or, for a mapped certificate, replacing them.

import type { ClientDescription, Credentials } from '../auth/authorizer.ts';
import type { Connection } from '../connection/connection.ts';
import type { ConnectOptions } from './connect-options.ts';

/** CONNECT's own credentials; the transport's (WebSocket upgrade) only fill what CONNECT left out. */
export function clientCredentials(id: number, connection: Connection, options: ConnectOptions): Credentials {
  // For an authorizer that asks a service (auth callout's client_info and connect_opts).
  const client: ClientDescription = {
    type: 'nats', host: connection.remoteAddress, id, name: options.name, lang: options.lang, version: options.version, protocol: options.protocol,
  };
  const fromTransport = connection.credentials;
  if (fromTransport === undefined) return { token: options.authToken, user: options.user, pass: options.pass, client };
  // verify_and_map: the certificate alone names the user (NS server/auth.go: the TLS map wins over CONNECT).
  if (fromTransport.certificate !== undefined) return { certificate: fromTransport.certificate, client };
  // As nats-server: an empty CONNECT field counts as absent.
  return {
    token: options.authToken || fromTransport.token,
    user: options.user || fromTransport.user,
    pass: options.pass || fromTransport.pass,
    client,
  };
}
