// The authorization request of auth callout (ADR-26; NS server/auth_callout.go
// processClientOrLeafCallout): a JWT signed by the server's nkey whose claims
// name the server, the one-time user nkey the answer must be issued to (so an
// answer cannot be replayed for another connection), and what the client
// presented. Sealed to the service's xkey when one is configured, with the
// server's own curve key in the Nats-Server-Xkey header.

import { encode, Algorithms, type AuthorizationRequest, type ClaimsData } from '@nats-io/jwt';
import type { KeyPair } from '@nats-io/nkeys';
import type { Credentials } from './authorizer.ts';

export const AUTH_CALLOUT_SUBJECT = '$SYS.REQ.USER.AUTH';
/** The request JWT's audience, as nats-server sets it. */
export const AUTH_REQUEST_AUDIENCE = 'nats-authorization-request';
export const AUTH_REQUEST_XKEY_HEADER = 'Nats-Server-Xkey';
/** nats-server hides a token in client_info.user (it stays in connect_opts.auth_token for the service). */
const REDACTED = '[REDACTED]';

export interface CalloutServerIdentity {
  /** Signs requests; its public key is server_id.id, which the answer's audience must be. */
  readonly keys: KeyPair;
  readonly name: string;
  readonly host: string;
  readonly version: string;
}

export interface RequestParts {
  readonly server: CalloutServerIdentity;
  /** The configured issuer: the request's subject. */
  readonly issuer: string;
  readonly userNkey: string;
  readonly credentials: Credentials;
  readonly expiresAt: number;
  /** The server's public curve key when requests are sealed. */
  readonly xkey?: string;
}

/** The raw user as nats-server reports it (getRawAuthUser): the user name, else a redacted token. */
export function rawAuthUser(credentials: Credentials): string {
  if (credentials.user !== undefined) return credentials.user;
  return credentials.token === undefined ? '' : REDACTED;
}

export function authorizationRequest(parts: RequestParts): AuthorizationRequest {
  const { credentials, server } = parts;
  const client = credentials.client;
  const request: AuthorizationRequest = {
    server_id: {
      name: server.name,
      host: server.host,
      id: server.keys.getPublicKey(),
      version: server.version,
      ...(parts.xkey === undefined ? {} : { xkey: parts.xkey }),
    },
    user_nkey: parts.userNkey,
    client_info: omitEmpty({
      host: client?.host,
      id: client?.id,
      user: rawAuthUser(credentials),
      name: client?.name,
      kind: 'Client',
      type: client?.type,
      mqtt_id: client?.mqttId,
    }),
    connect_opts: {
      ...omitEmpty({
        auth_token: credentials.token,
        user: credentials.user,
        pass: credentials.pass,
        name: client?.name,
        lang: client?.lang,
        version: client?.version,
      }),
      protocol: client?.protocol ?? 0,
    },
  };
  return request;
}

/** The signed request JWT (nats-server: claim.Encode(s.kp)). */
export function encodeAuthorizationRequest(parts: RequestParts): Promise<string> {
  const claim: Partial<ClaimsData<AuthorizationRequest>> = {
    sub: parts.issuer,
    aud: AUTH_REQUEST_AUDIENCE,
    exp: Math.floor(parts.expiresAt / 1000),
    // jwt.js adds version 2 to `nats`; the type goes there too for v2 claims.
    nats: { ...authorizationRequest(parts), type: 'authorization_request' },
  };
  return encode(Algorithms.v2, claim as ClaimsData<unknown>, parts.server.keys);
}

/** JSON without the fields that have no value (Go's omitempty). */
function omitEmpty<T extends Record<string, unknown>>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') (out as Record<string, unknown>)[k] = v;
  return out;
}
