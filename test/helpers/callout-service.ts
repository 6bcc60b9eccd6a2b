// A small auth callout service (ADR-26) written only with the official
// clients: @nats-io/transport-node to connect and answer, @nats-io/jwt and
// @nats-io/nkeys to read the server's request and sign the answer. Nothing in
// it knows Switchboard, so the same service runs against nats-server.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decode, encodeAuthorizationResponse, encodeUser, type AuthorizationRequest, type UserPermissionsLimits } from '@nats-io/jwt';
import { fromPublic, type KeyPair } from '@nats-io/nkeys';

/** What the service decides for one request: a user with permissions, an error, or silence (no answer). */
export type CalloutDecision = { user: Partial<UserPermissionsLimits>; name?: string; expiresInS?: number } | { error: string } | 'no-answer';

export interface CalloutServiceOptions {
  readonly port: number;
  /** The service's own login (an auth_users entry). */
  readonly user: string;
  readonly pass: string;
  /** The issuer account's seed: signs the user JWTs and the responses. */
  readonly issuer: KeyPair;
  /** The service's curve seed when the server has its xkey: requests arrive sealed, answers go sealed. */
  readonly xkey?: KeyPair;
  decide(request: AuthorizationRequest): CalloutDecision;
}

export interface CalloutService {
  /** Every request the service decoded, in order (for assertions on client_info, connect_opts). */
  readonly requests: AuthorizationRequest[];
  /** Issuers (server nkeys) of the requests, which the signature check proved. */
  readonly signers: string[];
  close(): Promise<void>;
}

export async function startCalloutService(options: CalloutServiceOptions): Promise<CalloutService> {
  const nc: NatsConnection = await connect({ port: options.port, user: options.user, pass: options.pass, reconnect: false });
  const requests: AuthorizationRequest[] = [];
  const signers: string[] = [];
  const te = new TextEncoder();
  nc.subscribe('$SYS.REQ.USER.AUTH', {
    callback: (err, msg) => {
      if (err !== null) return;
      void (async () => {
        let token = msg.data;
        const serverXkey = msg.headers?.get('Nats-Server-Xkey');
        if (options.xkey !== undefined && serverXkey) {
          const opened = options.xkey.open(msg.data, serverXkey);
          if (opened === null) throw new Error('cannot open a sealed request');
          token = opened;
        }
        // decode() checks the server's signature.
        const claims = decode<AuthorizationRequest>(new TextDecoder().decode(token));
        const request = claims.nats as AuthorizationRequest;
        requests.push(request);
        signers.push(claims.iss);
        const decision = options.decide(request);
        if (decision === 'no-answer') return;
        const userKey = fromPublic(request.user_nkey);
        const serverKey = fromPublic(request.server_id.id);
        let answer: string;
        if ('error' in decision) {
          answer = await encodeAuthorizationResponse(userKey, serverKey, options.issuer, { error: decision.error }, {});
        } else {
          // aud: the account the user is placed in; `$G` when the server has no accounts.
          const exp = decision.expiresInS === undefined ? undefined : Math.floor(Date.now() / 1000) + decision.expiresInS;
          const jwt = await encodeUser(decision.name ?? '', userKey, options.issuer, decision.user, { aud: '$G', ...(exp === undefined ? {} : { exp }) });
          answer = await encodeAuthorizationResponse(userKey, serverKey, options.issuer, { jwt }, {});
        }
        const data = options.xkey !== undefined && serverXkey ? options.xkey.seal(te.encode(answer), serverXkey) : te.encode(answer);
        msg.respond(data);
      })().catch(() => {
        // A request the service cannot read gets no answer: the server times the client out.
      });
    },
  });
  await nc.flush();
  return {
    requests,
    signers,
    close: () => nc.close(),
  };
}

