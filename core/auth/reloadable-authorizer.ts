// An Authorizer whose rules can be replaced while connections run (a config
// reload on SIGHUP), with nats-server's reload semantics (NS server/reload.go
// reloadAuthorization): the credentials of every live connection are checked
// again against the new rules; a connection whose credentials no longer
// authenticate is closed (its authViolation), the others get their user's new
// permissions at once and drop the subscriptions those no longer allow (NS
// server/client.go processSubsOnConfigReload). Gateways see this only through
// Principal.watch: nothing here knows a protocol.

import type { AuthResult, Authorizer, Credentials, Principal, PrincipalListener } from './authorizer.ts';

export interface ReloadOutcome {
  /** Live connections whose credentials were checked again. */
  readonly checked: number;
  /** Of those, the ones that no longer authenticate (closed by their gateway). */
  readonly revoked: number;
}

/**
 * The Principal a connection holds: it delegates to the user's current rules,
 * which a reload swaps in place, so every check after the reload (publish,
 * subscribe, delivery) already uses the new ones.
 */
class LivePrincipal implements Principal {
  canReceive?: (subject: string) => boolean;
  noteReply?: (reply: string) => void;
  /** Made on the first watch: most principals have one holder, some (HTTP requests) none. */
  private listeners: PrincipalListener[] | null = null;

  constructor(
    readonly credentials: Credentials,
    private inner: Principal,
    /** The authorizer's set of watched principals: only those are checked again. */
    private readonly watched: Set<LivePrincipal>,
  ) {
    this.adopt(inner);
  }

  get name(): string {
    return this.inner.name;
  }

  get rateLimit(): Principal['rateLimit'] {
    return this.inner.rateLimit;
  }

  canPublish(subject: string): boolean {
    return this.inner.canPublish(subject);
  }

  canSubscribe(subject: string, queue?: string | null): boolean {
    return this.inner.canSubscribe(subject, queue);
  }

  watch(listener: PrincipalListener): () => void {
    (this.listeners ??= []).push(listener);
    this.watched.add(this);
    // The rules may end the connection themselves (an auth callout user JWT that expires).
    const stopInner = this.inner.watch?.(listener);
    return () => {
      stopInner?.();
      this.unwatch(listener);
    };
  }

  private unwatch(listener: PrincipalListener): void {
    const listeners = this.listeners ?? [];
    const i = listeners.indexOf(listener);
    if (i >= 0) listeners.splice(i, 1);
    if (listeners.length === 0) {
      this.listeners = null;
      this.watched.delete(this);
    }
  }

  replaceRules(next: Principal): void {
    this.adopt(next);
    for (const listener of [...(this.listeners ?? [])]) listener.changed();
  }

  revoke(): void {
    this.watched.delete(this);
    for (const listener of [...(this.listeners ?? [])]) listener.revoked();
  }

  /** Copy the optional hooks only when the rules have them (a gateway pays nothing otherwise). */
  private adopt(next: Principal): void {
    this.inner = next;
    const { canReceive, noteReply } = next;
    this.canReceive = canReceive === undefined ? undefined : (subject) => canReceive.call(next, subject);
    this.noteReply = noteReply === undefined ? undefined : (reply) => noteReply.call(next, reply);
  }
}

export class ReloadableAuthorizer implements Authorizer {
  private current: Authorizer;
  private readonly watched = new Set<LivePrincipal>();
  private readonly reloadListeners: Array<() => void> = [];
  /** Reloads run one after another, so a slow bcrypt re-check never lets older rules win. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(initial: Authorizer) {
    this.current = initial;
  }

  get authRequired(): boolean {
    return this.current.authRequired;
  }

  authenticate(credentials: Credentials): AuthResult {
    const result = this.current.authenticate(credentials);
    if (result instanceof Promise) return result.then((principal) => this.live(credentials, principal));
    return this.live(credentials, result);
  }

  onReload(listener: () => void): void {
    this.reloadListeners.push(listener);
  }

  /**
   * New rules from now on; each watched connection's credentials are checked
   * against them (bcrypt on the worker pool), then its holder hears changed()
   * or revoked().
   */
  replace(next: Authorizer): Promise<ReloadOutcome> {
    const run = async (): Promise<ReloadOutcome> => {
      this.current = next;
      for (const listener of this.reloadListeners) listener();
      const holders = [...this.watched];
      const verdicts = await Promise.all(holders.map((live) => Promise.resolve(next.authenticate(live.credentials)).catch(() => null)));
      let revoked = 0;
      holders.forEach((live, i) => {
        const principal = verdicts[i];
        if (principal === null) {
          revoked++;
          live.revoke();
        } else {
          live.replaceRules(principal);
        }
      });
      return { checked: holders.length, revoked };
    };
    const outcome = this.pending.then(run, run);
    this.pending = outcome;
    return outcome;
  }

  private live(credentials: Credentials, principal: Principal | null): Principal | null {
    return principal === null ? null : new LivePrincipal(credentials, principal, this.watched);
  }
}
