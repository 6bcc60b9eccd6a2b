// Auth callout (ADR-26, nats-server 2.10 config mode): every client except the
// configured auth_users is authenticated by a service subscribed to
// $SYS.REQ.USER.AUTH, which answers with a signed user JWT (or an error). The
// user it returns, with its permissions, is a Principal like any other, so
// NATS, MQTT, HTTP and WebSocket all apply it the same way. The service's own
// logins (auth_users) are checked by the configured users instead.

import { createCurve, createServer, createUser, type KeyPair } from '@nats-io/nkeys';
import type { AuthCalloutOptions } from '../config/auth-callout-options.ts';
import type { PermissionOptions } from '../config/auth-options.ts';
import { MessageHeaders } from '../protocol/headers.ts';
import { UNRESTRICTED_PRINCIPAL, type AuthResult, type Authorizer, type Credentials, type Principal, type PrincipalListener } from './authorizer.ts';
import { AUTH_CALLOUT_SUBJECT, AUTH_REQUEST_XKEY_HEADER, encodeAuthorizationRequest, rawAuthUser, type CalloutServerIdentity } from './callout-request.ts';
import { CalloutRejection, verifyAuthorizationResponse, type CalloutUser } from './callout-response.ts';
import { PermissionedPrincipal } from './permissioned-principal.ts';
import { CompiledPermissions } from './permissions.ts';

/** How requests reach the service: the Broker port's request() fits (core/auth cannot import core/broker). */
export interface CalloutTransport {
  request(subject: string, data: Uint8Array, options: { timeoutMs: number; headers?: MessageHeaders }): Promise<{ readonly data: Uint8Array }>;
}

export interface CalloutContext {
  readonly transport: CalloutTransport;
  /** server_id.name/host/version in requests. */
  readonly serverName: string;
  readonly host: string;
  readonly version: string;
  /** How long the service has to answer (nats-server: the auth timeout). */
  readonly timeoutMs: number;
  /** Hears why a client was refused (nats-server logs these as warnings). */
  readonly onRejected?: (reason: string, error: Error) => void;
}

export class CalloutAuthorizer implements Authorizer {
  readonly authRequired = true;
  private readonly server: CalloutServerIdentity;
  /** The server's curve keys, when the service has an xkey: requests are sealed. */
  private readonly curve: KeyPair | null;
  private readonly authUsers: ReadonlySet<string>;

  constructor(
    private readonly options: AuthCalloutOptions,
    /** Checks the auth_users (the configured users). */
    private readonly direct: Authorizer,
    private readonly context: CalloutContext,
  ) {
    this.server = { keys: createServer(), name: context.serverName, host: context.host, version: context.version };
    this.curve = options.xkey === undefined ? null : createCurve();
    this.authUsers = new Set(options.authUsers);
  }

  /** server_id.id of requests: the audience the service's answers must carry. */
  get serverId(): string {
    return this.server.keys.getPublicKey();
  }

  authenticate(credentials: Credentials): AuthResult {
    // NS auth.go: a client whose raw user is an auth user never goes to the callout, even with a wrong password.
    if (credentials.certificate === undefined && this.authUsers.has(rawAuthUser(credentials))) {
      const result = this.direct.authenticate(credentials);
      return result instanceof Promise ? result.then(denyCallout) : denyCallout(result);
    }
    return this.callout(credentials).then(
      (user) => principalFor(user, credentials),
      (error: Error) => {
        this.context.onRejected?.(error.message, error);
        return null;
      },
    );
  }

  private async callout(credentials: Credentials): Promise<CalloutUser> {
    // A fresh user nkey per request: the answer is only good for this connection (no replay).
    const userNkey = createUser().getPublicKey();
    const now = Date.now();
    const jwt = await encodeAuthorizationRequest({
      server: this.server,
      issuer: this.options.issuer,
      userNkey,
      credentials,
      expiresAt: now + this.context.timeoutMs,
      ...(this.curve === null ? {} : { xkey: this.curve.getPublicKey() }),
    });
    let data: Uint8Array = Buffer.from(jwt);
    let headers: MessageHeaders | undefined;
    if (this.curve !== null) {
      data = this.curve.seal(data, this.options.xkey as string);
      headers = new MessageHeaders().append(AUTH_REQUEST_XKEY_HEADER, this.curve.getPublicKey());
    }
    let answer: { readonly data: Uint8Array };
    try {
      answer = await this.context.transport.request(AUTH_CALLOUT_SUBJECT, data, { timeoutMs: this.context.timeoutMs, ...(headers === undefined ? {} : { headers }) });
    } catch (error) {
      throw new CalloutRejection(`Authorization callout response not received: ${(error as Error).message}`, { cause: error });
    }
    return verifyAuthorizationResponse(answer.data, {
      userNkey,
      serverId: this.serverId,
      issuer: this.options.issuer,
      ...(this.curve === null ? {} : { sealing: { server: this.curve, service: this.options.xkey as string } }),
      ...(credentials.client === undefined ? {} : { client: credentials.client }),
      now: Date.now(),
    });
  }
}

/**
 * NS auth.go: a client authorized in the callout's account may not publish
 * requests to the callout subject itself. Every client is in that account here.
 */
function withCalloutDenied(permissions: PermissionOptions | undefined): PermissionOptions {
  const publish = permissions?.publish ?? {};
  return { ...permissions, publish: { ...publish, deny: [...(publish.deny ?? []), AUTH_CALLOUT_SUBJECT] } };
}

function denyCallout(principal: Principal | null): Principal | null {
  if (principal === null) return null;
  const inner = principal;
  return {
    name: inner.name,
    canPublish: (subject) => subject !== AUTH_CALLOUT_SUBJECT && inner.canPublish(subject),
    canSubscribe: (subject, queue) => inner.canSubscribe(subject, queue),
    ...(inner.canReceive === undefined ? {} : { canReceive: (subject: string) => (inner.canReceive as (s: string) => boolean)(subject) }),
    ...(inner.noteReply === undefined ? {} : { noteReply: (reply: string) => (inner.noteReply as (r: string) => void)(reply) }),
  };
}

function principalFor(user: CalloutUser, credentials: Credentials): Principal {
  // nats-server: the JWT's name, else the name the client logged in with.
  const name = user.name ?? (rawAuthUser(credentials) || UNRESTRICTED_PRINCIPAL.name);
  const principal = new PermissionedPrincipal(name, new CompiledPermissions(withCalloutDenied(user.permissions)));
  return user.expiresAt === undefined ? principal : expiring(principal, user.expiresAt);
}

/**
 * The user JWT's exp ends the connection (NS client.go setExpiration: "User
 * Authentication Expired"): holders that watch hear revoked() then.
 */
function expiring(principal: Principal, expiresAt: number): Principal {
  return Object.assign(principal, {
    watch(listener: PrincipalListener): () => void {
      const timer = setTimeout(() => listener.revoked(), Math.max(0, expiresAt - Date.now()));
      timer.unref();
      return () => clearTimeout(timer);
    },
  });
}
