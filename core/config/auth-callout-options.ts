// nats-server's `authorization { auth_callout { issuer, auth_users, account, xkey } }`
// (ADR-26; NS server/opts.go parseAuthCallout): authentication delegated to a
// service answering on $SYS.REQ.USER.AUTH. Switchboard has one account (the
// global one, `$G`), so `account` may only name it and `allowed_accounts`,
// which selects among accounts, is refused rather than ignored.

import { fromPublic } from '@nats-io/nkeys';
import { ConfigError } from './config-error.ts';
import { isObject } from './setting-values.ts';

/** nats-server's name for the account every client lands in when no accounts are configured. */
export const GLOBAL_ACCOUNT = '$G';

export interface AuthCalloutOptions {
  /** Public account nkey (A...) that must sign the user JWTs the service returns. */
  issuer: string;
  /** Users of `authorization.users` that log in directly: the callout service's own connections. */
  authUsers: string[];
  /** Where requests are sent: always the global account here. */
  account: string;
  /** Public curve key (X...) of the service: requests are sealed to it, responses may be. */
  xkey?: string;
}

/** True when `key` is a valid public nkey with the given prefix letter (checksum included). */
export function isPublicNkey(key: unknown, prefix: 'A' | 'X' | 'U' | 'N'): key is string {
  if (typeof key !== 'string' || !key.startsWith(prefix)) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

function names(value: unknown, key: string): string[] {
  if (!Array.isArray(value)) throw new ConfigError(key, `must be a list of user names, got ${JSON.stringify(value)}`);
  return value.map((v, i) => {
    if (typeof v !== 'string' || v === '') throw new ConfigError(`${key}[${i}]`, `must be a user name, got ${JSON.stringify(v)}`);
    return v;
  });
}

export function parseAuthCallout(wire: unknown, key: string): AuthCalloutOptions {
  if (!isObject(wire)) throw new ConfigError(key, `must be an object with issuer and auth_users, got ${JSON.stringify(wire)}`);
  let issuer: string | undefined;
  let authUsers: string[] = [];
  let account = GLOBAL_ACCOUNT;
  let xkey: string | undefined;
  for (const [name, v] of Object.entries(wire)) {
    const at = `${key}.${name}`;
    switch (name.toLowerCase()) {
      case 'issuer':
        if (!isPublicNkey(v, 'A')) throw new ConfigError(at, `must be a public account nkey (A...), got ${JSON.stringify(v)}`);
        issuer = v;
        break;
      case 'auth_users':
      case 'users':
        authUsers = names(v, at);
        break;
      case 'account':
      case 'acc':
        if (v !== GLOBAL_ACCOUNT) throw new ConfigError(at, `Switchboard has no accounts: only ${JSON.stringify(GLOBAL_ACCOUNT)} (the default) is possible, got ${JSON.stringify(v)}`);
        account = v;
        break;
      case 'xkey':
      case 'key':
        if (!isPublicNkey(v, 'X')) throw new ConfigError(at, `must be a public curve key (X...), got ${JSON.stringify(v)}`);
        xkey = v;
        break;
      case 'allowed_accounts':
        throw new ConfigError(at, 'Switchboard has no accounts (every client is in the global account)');
      default:
        throw new ConfigError(at, 'unknown key (expected issuer, auth_users, account or xkey)');
    }
  }
  // nats-server: "Authorization callouts require an issuer / authorized users to be specified".
  if (issuer === undefined) throw new ConfigError(`${key}.issuer`, 'is required');
  if (authUsers.length === 0) throw new ConfigError(`${key}.auth_users`, 'is required: the users the callout service itself logs in as');
  return xkey === undefined ? { issuer, authUsers, account } : { issuer, authUsers, account, xkey };
}
