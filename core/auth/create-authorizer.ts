// Build the Authorizer that AuthOptions describe: open, a single token, users,
// or users plus an auth callout service (which needs `callout` to reach it).

import type { AuthOptions } from '../config/auth-options.ts';
import { OpenAuthorizer, TokenAuthorizer, type Authorizer } from './authorizer.ts';
import { CalloutAuthorizer, type CalloutContext } from './callout-authorizer.ts';
import { UserAuthorizer } from './user-authorizer.ts';

export function createAuthorizer(options: AuthOptions | undefined, callout?: CalloutContext): Authorizer {
  if (options === undefined) return new OpenAuthorizer();
  if (options.callout !== undefined) {
    if (callout === undefined) throw new Error('auth_callout is configured but no transport to the callout service was given');
    return new CalloutAuthorizer(options.callout, new UserAuthorizer(options), callout);
  }
  if (options.token !== undefined) return new TokenAuthorizer(options.token);
  if (options.users.length > 0) return new UserAuthorizer(options);
  return new OpenAuthorizer();
}
