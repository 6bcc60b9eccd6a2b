// The one user model every protocol uses (DESIGN seam 5). A gateway maps its
// protocol's credentials into `Credentials`, authenticates once per connection
// (or request) into a Principal, and asks the Principal before each publish or
// subscribe on the mapped subject, so one rule means the same thing on every
// protocol. Nothing here knows about NATS, MQTT, HTTP or Kafka.

import type { CertificateIdentity } from './certificate-identity.ts';
import { checkSecret } from './secrets.ts';

export interface Credentials {
  token?: string;
  user?: string;
  pass?: string;
  /**
   * The verified client certificate, given only by a listener whose tls block
   * has verify_and_map: then it alone decides the user (nats-server ignores
   * CONNECT's credentials in that case too).
   */
  certificate?: CertificateIdentity;
  /** Who is connecting, for an authorizer that asks a service (auth callout's client_info and connect_opts). */
  client?: ClientDescription;
}

/**
 * nats-server's client_info and connect_opts fields of an authorization
 * request (ADR-26). `type` is nats-server's client type; Switchboard adds
 * `http` for its REST gateway.
 */
export interface ClientDescription {
  readonly type: 'nats' | 'websocket' | 'mqtt' | 'http';
  readonly host?: string;
  readonly id?: number;
  readonly name?: string;
  readonly lang?: string;
  readonly version?: string;
  readonly protocol?: number;
  /** The MQTT client identifier. */
  readonly mqttId?: string;
}

export interface Principal {
  /** A stable name for logs and monitoring (user name, or a placeholder). */
  readonly name: string;
  canPublish(subject: string): boolean;
  canSubscribe(subject: string, queue?: string | null): boolean;
  /**
   * Present when a message on a literal subject must be re-checked on delivery
   * (a wildcard subscription that a deny rule cuts into). False = do not deliver.
   */
  canReceive?(subject: string): boolean;
  /**
   * Present when the principal may answer requests (allow_responses): the
   * gateway reports the reply subject (NATS reply, MQTT 5 response topic, ...)
   * of each message it delivers, and that subject becomes publishable.
   */
  noteReply?(reply: string): void;
  /**
   * Present when the rules can change under a live connection (a config
   * reload): `listener` hears when they did, so the holder drops what they no
   * longer allow, or closes when the credentials no longer authenticate.
   * Returns the call that stops listening (call it when the connection closes).
   */
  watch?(listener: PrincipalListener): () => void;
  /** Requests allowed per window (users[].rate_limit); absent = no limit. Request/response gateways (HTTP) apply it. */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
}

/** What a connection does when a reload changes its user's rules. */
export interface PrincipalListener {
  /** New rules are in force on this Principal: re-check what was allowed under the old ones. */
  changed(): void;
  /** The credentials no longer authenticate (user removed, password or token changed). */
  revoked(): void;
}

export interface Authorizer {
  /** True when a client must present credentials before doing anything. */
  readonly authRequired: boolean;
  /**
   * A Principal, or null when the credentials are wrong or missing. Call once
   * per connection: a Principal may keep per-connection state (allow_responses).
   * A Promise when a password must be checked with bcrypt (on a worker
   * thread, so the event loop keeps serving); never for a client without
   * credentials or with a certificate.
   */
  authenticate(credentials: Credentials): AuthResult;
  /**
   * Present when the rules can be replaced at run time (ReloadableAuthorizer):
   * `listener` runs after each replacement, for holders of cached Principals
   * (the HTTP gateway's credential cache) to drop them.
   */
  onReload?(listener: () => void): void;
}

export type AuthResult = Principal | null | Promise<Principal | null>;

/** Map a check that may still be running to its result. */
export function afterCheck(ok: boolean | Promise<boolean>, then: () => Principal): AuthResult {
  if (typeof ok === 'boolean') return ok ? then() : null;
  return ok.then((passed) => (passed ? then() : null));
}

/** Everyone may do everything: the embedded default with no config. */
export const UNRESTRICTED_PRINCIPAL: Principal = Object.freeze({
  name: 'anonymous',
  canPublish: () => true,
  canSubscribe: () => true,
});

export class OpenAuthorizer implements Authorizer {
  readonly authRequired = false;
  authenticate(): Principal {
    return UNRESTRICTED_PRINCIPAL;
  }
}

/** A single shared token (plain, compared in constant time, or bcrypt), as nats-server's `authorization { token }`. */
export class TokenAuthorizer implements Authorizer {
  readonly authRequired = true;
  constructor(private readonly token: string) {}
  authenticate(credentials: Credentials): AuthResult {
    return afterCheck(checkSecret(this.token, credentials.token), () => UNRESTRICTED_PRINCIPAL);
  }
}
