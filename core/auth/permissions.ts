// Per-user publish/subscribe rules, compiled once per user and shared by all
// its connections. Semantics follow nats-server (NS server/client.go
// canSubscribe, pubAllowedFullCheck, queueMatches):
// - no allow list = everything allowed; an allow list = only what it matches;
//   then a deny match removes it;
// - a subject is matched token by token against each rule, with the checked
//   subject's own tokens taken literally (so a rule `foo.*` admits the
//   subscription `foo.*`, and a rule `foo.>` admits `foo.*.bar`);
// - "subject queue" rules restrict queue subscriptions: when queue rules match
//   the subject, the subscription's queue must match one of them (queue names
//   may use wildcards too);
// - allow_responses with no publish rule means "publish nothing but responses".

import type { PermissionOptions, ResponsePermissionOptions } from '../config/auth-options.ts';
import { hasWildcardToken, subjectMatches } from '../subject/subject.ts';

const CACHE_MAX = 4096;

interface QueueRule {
  readonly subject: string;
  readonly queue: string;
}

/** One allow or deny list. */
class RuleList {
  private readonly plain: string[] = [];
  private readonly queued: QueueRule[] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const space = entry.indexOf(' ');
      if (space < 0) this.plain.push(entry);
      else this.queued.push({ subject: entry.slice(0, space), queue: entry.slice(space + 1) });
    }
  }

  get hasPlain(): boolean {
    return this.plain.length > 0;
  }

  matchesPlain(subject: string): boolean {
    for (const p of this.plain) if (subjectMatches(p, subject)) return true;
    return false;
  }

  /** null: no queue rule covers the subject; otherwise whether one names `queue`. */
  queueVerdict(subject: string, queue: string): boolean | null {
    let covered = false;
    for (const rule of this.queued) {
      if (!subjectMatches(rule.subject, subject)) continue;
      covered = true;
      if (queue === rule.queue) return true;
      if (hasWildcardToken(rule.queue) && !hasWildcardToken(queue) && subjectMatches(rule.queue, queue)) return true;
    }
    return covered ? false : null;
  }
}

export class CompiledPermissions {
  readonly responses: ResponsePermissionOptions | null;
  private readonly pubAllow: RuleList | null;
  private readonly pubDeny: RuleList | null;
  private readonly subAllow: RuleList | null;
  private readonly subDeny: RuleList | null;
  private readonly pubCache = new Map<string, boolean>();
  private readonly receiveCache = new Map<string, boolean>();

  constructor(options: PermissionOptions) {
    this.responses = options.allowResponses ?? null;
    const publish = options.publish ?? {};
    // nats-server: allow_responses without a publish allow list implies an empty one.
    const pubAllow = publish.allow ?? (this.responses !== null ? [] : undefined);
    this.pubAllow = pubAllow === undefined ? null : new RuleList(pubAllow);
    this.pubDeny = publish.deny === undefined ? null : new RuleList(publish.deny);
    this.subAllow = options.subscribe?.allow === undefined ? null : new RuleList(options.subscribe.allow);
    this.subDeny = options.subscribe?.deny === undefined ? null : new RuleList(options.subscribe.deny);
  }

  /** True when deliveries on wildcard subscriptions must be filtered by the deny list. */
  get filtersDeliveries(): boolean {
    return this.subDeny !== null && this.subDeny.hasPlain;
  }

  /** Publish rules only (responses are per connection: see PermissionedPrincipal). */
  canPublish(subject: string): boolean {
    const cached = this.pubCache.get(subject);
    if (cached !== undefined) return cached;
    let allowed = this.pubAllow === null || this.pubAllow.matchesPlain(subject);
    if (allowed && this.pubDeny !== null) allowed = !this.pubDeny.matchesPlain(subject);
    if (this.pubCache.size >= CACHE_MAX) this.pubCache.clear();
    this.pubCache.set(subject, allowed);
    return allowed;
  }

  canSubscribe(subject: string, queue: string | null = null): boolean {
    let allowed = true;
    if (this.subAllow !== null) {
      allowed = this.subAllow.matchesPlain(subject);
      if (queue !== null) {
        const verdict = this.subAllow.queueVerdict(subject, queue);
        if (verdict !== null) allowed = verdict;
      }
    }
    if (allowed && this.subDeny !== null) {
      allowed = !this.subDeny.matchesPlain(subject);
      if (queue !== null && this.subDeny.queueVerdict(subject, queue) === true) allowed = false;
    }
    return allowed;
  }

  /** May a message on the literal `subject` reach this user (deny wins inside a wildcard subscription)? */
  canReceive(subject: string): boolean {
    const cached = this.receiveCache.get(subject);
    if (cached !== undefined) return cached;
    const allowed = this.subDeny === null || !this.subDeny.matchesPlain(subject);
    if (this.receiveCache.size >= CACHE_MAX) this.receiveCache.clear();
    this.receiveCache.set(subject, allowed);
    return allowed;
  }
}
