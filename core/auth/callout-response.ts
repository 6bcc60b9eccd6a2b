// Checking the answer of an auth callout service as nats-server does in
// config mode (NS server/auth_callout.go decodeResponse, processReply): an
// authorization response JWT for our one-time user nkey and our server id,
// holding either an error or a user JWT that the configured issuer signed for
// the same user nkey and placed in an account that exists (here only `$G`).
// Every failure is a CalloutRejection carrying nats-server's reason text.

import { decode, type AuthorizationResponse, type ClaimsData, type Permission, type User } from '@nats-io/jwt';
import type { KeyPair } from '@nats-io/nkeys';
import { GLOBAL_ACCOUNT } from '../config/auth-callout-options.ts';
import { DEFAULT_RESPONSE_PERMISSION, type PermissionOptions, type SubjectPermissionOptions } from '../config/auth-options.ts';
import type { ClientDescription } from './authorizer.ts';

/** Why the service's answer does not admit the client (logged by the server, never sent to the client). */
export class CalloutRejection extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'CalloutRejection';
  }
}

export interface CalloutExpectation {
  readonly userNkey: string;
  readonly serverId: string;
  readonly issuer: string;
  /** Set when requests are sealed: a response that is not a JWT is opened with these. */
  readonly sealing?: { readonly server: KeyPair; readonly service: string };
  readonly client?: ClientDescription;
  readonly now: number;
}

/** What the user JWT grants. */
export interface CalloutUser {
  /** The JWT's name, when the service renames the user (nats-server overrides the user name with it). */
  readonly name?: string;
  /** Absent: no publish or subscribe rules (everything allowed). */
  readonly permissions?: PermissionOptions;
  /** Epoch ms after which the connection must end (the user JWT's exp). */
  readonly expiresAt?: number;
}

/** nats-server's connection types (jwt ConnectionType*) per client type; `HTTP` is Switchboard's own. */
const CONNECTION_TYPE: Record<ClientDescription['type'], string> = { nats: 'STANDARD', websocket: 'WEBSOCKET', mqtt: 'MQTT', http: 'HTTP' };
/** A JWT's first bytes (`{"` base64url-encoded): an unencrypted answer. */
const JWT_PREFIX = 'eyJ';

export function verifyAuthorizationResponse(payload: Uint8Array, expect: CalloutExpectation): CalloutUser {
  if (payload.length === 0) throw new CalloutRejection(`Auth callout violation: "no reason supplied" on account "${GLOBAL_ACCOUNT}"`);
  const token = openResponse(payload, expect);
  const response = decodeClaims<AuthorizationResponse>(token, 'authorization_response', 'authorization response');
  if (response.sub !== expect.userNkey) throw new CalloutRejection('Auth callout violation: auth callout response is not for expected user');
  if (response.aud !== expect.serverId) throw new CalloutRejection('Auth callout violation: auth callout response is not for server');
  const { error, jwt } = response.nats;
  if (error) throw new CalloutRejection(`Auth callout service returned an error: ${error}`);
  if (!jwt) throw new CalloutRejection('Authorization response had validation errors: Error or Jwt is required');
  const user = decodeClaims<User>(jwt, 'user', 'user JWT');
  checkTimes(user, expect.now, 'Error validating user JWT');
  if (user.sub !== expect.userNkey) {
    throw new CalloutRejection(`Expected authorized user of "${expect.userNkey}" but got "${user.sub}" on account "${GLOBAL_ACCOUNT}"`);
  }
  checkUserGrant(user, expect);
  const permissions = permissionsOf(user.nats);
  return {
    ...(user.name ? { name: user.name } : {}),
    ...(permissions === undefined ? {} : { permissions }),
    ...(user.exp ? { expiresAt: user.exp * 1000 } : {}),
  };
}

function openResponse(payload: Uint8Array, expect: CalloutExpectation): string {
  const text = Buffer.from(payload).toString('utf8');
  if (expect.sealing === undefined || text.startsWith(JWT_PREFIX)) return text;
  const opened = expect.sealing.server.open(payload, expect.sealing.service);
  if (opened === null) throw new CalloutRejection(`Error decrypting auth callout response on account "${GLOBAL_ACCOUNT}"`);
  return Buffer.from(opened).toString('utf8');
}

/** Signature (jwt.js decode), claim type, and the validity window of the claim. */
function decodeClaims<T>(token: string, type: string, what: string): ClaimsData<T> {
  let claims: ClaimsData<T>;
  try {
    claims = decode<T>(token);
  } catch (error) {
    throw new CalloutRejection(`Invalid ${what}: ${(error as Error).message}`, { cause: error });
  }
  const actual = (claims.nats as { type?: string }).type ?? claims.type;
  if (actual !== type) throw new CalloutRejection(`Invalid ${what}: claim type ${JSON.stringify(actual)}, expected ${JSON.stringify(type)}`);
  return claims;
}

function checkTimes(claims: ClaimsData<unknown>, now: number, prefix: string): void {
  const seconds = Math.floor(now / 1000);
  if (claims.exp && claims.exp < seconds) throw new CalloutRejection(`${prefix}: claim is expired`);
  if (claims.nbf && claims.nbf > seconds) throw new CalloutRejection(`${prefix}: claim is not yet valid`);
}

/** Issuer, account placement and connection rules of the user JWT (config mode). */
function checkUserGrant(user: ClaimsData<User>, expect: CalloutExpectation): void {
  const grant = user.nats;
  if (grant.issuer_account) throw new CalloutRejection(`Error non operator mode account "${GLOBAL_ACCOUNT}": attempted to use issuer_account`);
  if (user.iss !== expect.issuer) {
    throw new CalloutRejection(`Wrong issuer for auth callout response on account "${GLOBAL_ACCOUNT}", expected "${expect.issuer}" got "${user.iss}"`);
  }
  // Outside operator mode the audience names the account the user is placed in.
  if (user.aud !== GLOBAL_ACCOUNT) {
    throw new CalloutRejection(`No valid account "${user.aud ?? ''}" for auth callout response on account "${GLOBAL_ACCOUNT}": Switchboard has only "${GLOBAL_ACCOUNT}"`);
  }
  const types = grant.allowed_connection_types ?? [];
  if (types.length > 0 && expect.client !== undefined && !types.includes(CONNECTION_TYPE[expect.client.type] as never)) {
    throw new CalloutRejection(`Authorized user on account "${GLOBAL_ACCOUNT}" using invalid connection type`);
  }
  // Fail closed on rules Switchboard cannot enforce rather than admit the client without them.
  if ((grant.times ?? []).length > 0) throw new CalloutRejection('User JWT connect times (times) are not supported by Switchboard');
  if ((grant.src ?? []).length > 0) throw new CalloutRejection('User JWT source networks (src) are not supported by Switchboard');
}

function subjectRules(rule: Partial<Permission> | undefined): SubjectPermissionOptions | undefined {
  const allow = rule?.allow ?? [];
  const deny = rule?.deny ?? [];
  // nats-server buildPermissionsFromJwt: an empty list is no rule.
  if (allow.length === 0 && deny.length === 0) return undefined;
  return { ...(allow.length > 0 ? { allow: [...allow] } : {}), ...(deny.length > 0 ? { deny: [...deny] } : {}) };
}

/**
 * The JWT's pub/sub/resp as the user model's permissions (NS accounts.go
 * buildPermissionsFromJwt). resp.ttl is a Go duration in nanoseconds. The
 * user's limits (subs, data, payload) are not per-user in Switchboard and are
 * not applied.
 */
export function permissionsOf(grant: Partial<User>): PermissionOptions | undefined {
  const publish = subjectRules(grant.pub);
  const subscribe = subjectRules(grant.sub);
  const resp = grant.resp;
  const result: PermissionOptions = {};
  if (publish !== undefined) result.publish = publish;
  if (subscribe !== undefined) result.subscribe = subscribe;
  // nats-server validateResponsePermissions: 0 means its defaults (1 message, 2 minutes).
  if (resp) result.allowResponses = { maxMsgs: resp.max || DEFAULT_RESPONSE_PERMISSION.maxMsgs, expiresMs: resp.ttl ? Math.round(resp.ttl / 1e6) : DEFAULT_RESPONSE_PERMISSION.expiresMs };
  return Object.keys(result).length === 0 ? undefined : result;
}
