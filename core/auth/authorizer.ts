// The one user model every protocol uses (DESIGN seam 5). A gateway maps its
// protocol's credentials into `Credentials`, authenticates once into a
// Principal, and asks the Principal before each publish or subscribe on the
// mapped subject, so one rule means the same thing on every protocol.

export interface Credentials {
  token?: string;
  user?: string;
  pass?: string;
}

export interface Principal {
  /** A stable name for logs and monitoring (user name, or a placeholder). */
  readonly name: string;
  canPublish(subject: string): boolean;
  canSubscribe(subject: string, queue?: string | null): boolean;
}

export interface Authorizer {
  /** True when a client must present credentials before doing anything. */
  readonly authRequired: boolean;
  /** A Principal, or null when the credentials are wrong or missing. */
  authenticate(credentials: Credentials): Principal | null;
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

/** A single shared token, as nats-server's `authorization { token }`. */
export class TokenAuthorizer implements Authorizer {
  readonly authRequired = true;
  constructor(private readonly token: string) {}
  authenticate(credentials: Credentials): Principal | null {
    return credentials.token === this.token ? UNRESTRICTED_PRINCIPAL : null;
  }
}
