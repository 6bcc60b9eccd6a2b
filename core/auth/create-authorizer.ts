// Build the Authorizer that AuthOptions describe: open, a single token, or users.

import type { AuthOptions } from '../config/auth-options.ts';
import { OpenAuthorizer, TokenAuthorizer, type Authorizer } from './authorizer.ts';
import { UserAuthorizer } from './user-authorizer.ts';

export function createAuthorizer(options: AuthOptions | undefined): Authorizer {
  if (options === undefined) return new OpenAuthorizer();
  if (options.token !== undefined) return new TokenAuthorizer(options.token);
  if (options.users.length > 0) return new UserAuthorizer(options);
  return new OpenAuthorizer();
}
