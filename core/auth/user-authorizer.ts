// Users with passwords (plain or bcrypt) and per-user permissions, with an
// optional no_auth_user for clients that present no credentials
// (ND …/securing_nats/auth_intro/username_password.md, no_auth_user.md), and
// users named by a client certificate (verify_and_map, tls_mutual_auth.md).

import type { AuthOptions, PermissionOptions, RateLimitOptions } from '../config/auth-options.ts';
import { afterCheck, UNRESTRICTED_PRINCIPAL, type Authorizer, type AuthResult, type Credentials, type Principal } from './authorizer.ts';
import { mapCertificate } from './certificate-identity.ts';
import { PermissionedPrincipal } from './permissioned-principal.ts';
import { CompiledPermissions } from './permissions.ts';
import { checkSecret } from './secrets.ts';

interface UserEntry {
  readonly name: string;
  /** Absent: the user is reached only through a mapped certificate. */
  readonly password: string | undefined;
  /** null = unrestricted. */
  readonly rules: CompiledPermissions | null;
  readonly rateLimit: RateLimitOptions | undefined;
}

export class UserAuthorizer implements Authorizer {
  /** With no_auth_user, clients may connect without credentials (nats-server then omits auth_required from INFO). */
  readonly authRequired: boolean;
  private readonly users = new Map<string, UserEntry>();
  private readonly noAuthUser: UserEntry | null;

  constructor(options: Pick<AuthOptions, 'users' | 'noAuthUser' | 'defaultPermissions'>) {
    for (const u of options.users) {
      const permissions: PermissionOptions | undefined = u.permissions ?? options.defaultPermissions;
      this.users.set(u.user, { name: u.user, password: u.password, rules: permissions === undefined ? null : new CompiledPermissions(permissions), rateLimit: u.rateLimit });
    }
    this.noAuthUser = options.noAuthUser === undefined ? null : (this.users.get(options.noAuthUser) ?? null);
    this.authRequired = this.noAuthUser === null;
  }

  authenticate(credentials: Credentials): AuthResult {
    let entry: UserEntry | undefined;
    if (credentials.certificate !== undefined) {
      const name = mapCertificate(credentials.certificate, (n) => this.users.has(n), this.users.keys());
      entry = name === undefined ? undefined : this.users.get(name);
      if (entry === undefined) return null;
    } else if (credentials.user === undefined && credentials.pass === undefined && credentials.token === undefined) {
      if (this.noAuthUser === null) return null;
      entry = this.noAuthUser;
    } else {
      entry = credentials.user === undefined ? undefined : this.users.get(credentials.user);
      // A user without a password is for certificates only (stricter than nats-server, where an empty password matches).
      if (entry === undefined || entry.password === undefined) return null;
      const found = entry;
      return afterCheck(checkSecret(found.password as string, credentials.pass), () => principalOf(found));
    }
    return principalOf(entry);
  }
}

function principalOf(entry: UserEntry): Principal {
  return entry.rules === null ? namedUnrestricted(entry.name, entry.rateLimit) : new PermissionedPrincipal(entry.name, entry.rules, entry.rateLimit);
}

function namedUnrestricted(name: string, rateLimit: RateLimitOptions | undefined): Principal {
  return { name, canPublish: UNRESTRICTED_PRINCIPAL.canPublish, canSubscribe: UNRESTRICTED_PRINCIPAL.canSubscribe, ...(rateLimit === undefined ? {} : { rateLimit }) };
}
