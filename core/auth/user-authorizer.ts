// Users with passwords (plain or bcrypt) and per-user permissions, with an
// optional no_auth_user for clients that present no credentials
// (ND …/securing_nats/auth_intro/username_password.md, no_auth_user.md).

import type { AuthOptions, PermissionOptions } from '../config/auth-options.ts';
import { UNRESTRICTED_PRINCIPAL, type Authorizer, type Credentials, type Principal } from './authorizer.ts';
import { PermissionedPrincipal } from './permissioned-principal.ts';
import { CompiledPermissions } from './permissions.ts';
import { verifySecret } from './secrets.ts';

interface UserEntry {
  readonly name: string;
  readonly password: string;
  /** null = unrestricted. */
  readonly rules: CompiledPermissions | null;
}

export class UserAuthorizer implements Authorizer {
  /** With no_auth_user, clients may connect without credentials (nats-server then omits auth_required from INFO). */
  readonly authRequired: boolean;
  private readonly users = new Map<string, UserEntry>();
  private readonly noAuthUser: UserEntry | null;

  constructor(options: Pick<AuthOptions, 'users' | 'noAuthUser' | 'defaultPermissions'>) {
    for (const u of options.users) {
      const permissions: PermissionOptions | undefined = u.permissions ?? options.defaultPermissions;
      this.users.set(u.user, { name: u.user, password: u.password, rules: permissions === undefined ? null : new CompiledPermissions(permissions) });
    }
    this.noAuthUser = options.noAuthUser === undefined ? null : (this.users.get(options.noAuthUser) ?? null);
    this.authRequired = this.noAuthUser === null;
  }

  authenticate(credentials: Credentials): Principal | null {
    let entry: UserEntry | undefined;
    if (credentials.user === undefined && credentials.pass === undefined && credentials.token === undefined) {
      if (this.noAuthUser === null) return null;
      entry = this.noAuthUser;
    } else {
      entry = credentials.user === undefined ? undefined : this.users.get(credentials.user);
      if (entry === undefined || !verifySecret(entry.password, credentials.pass)) return null;
    }
    return entry.rules === null ? namedUnrestricted(entry.name) : new PermissionedPrincipal(entry.name, entry.rules);
  }
}

function namedUnrestricted(name: string): Principal {
  return { name, canPublish: UNRESTRICTED_PRINCIPAL.canPublish, canSubscribe: UNRESTRICTED_PRINCIPAL.canSubscribe };
}
