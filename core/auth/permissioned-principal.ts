// A Principal backed by compiled permission rules: shared rules, plus the
// per-connection reply tracker that allow_responses needs.

import type { Principal } from './authorizer.ts';
import type { CompiledPermissions } from './permissions.ts';
import { ReplyTracker } from './reply-tracker.ts';

export class PermissionedPrincipal implements Principal {
  readonly canReceive?: (subject: string) => boolean;
  readonly noteReply?: (reply: string) => void;
  private readonly replies: ReplyTracker | null;

  constructor(
    readonly name: string,
    private readonly rules: CompiledPermissions,
    readonly rateLimit?: { readonly max: number; readonly windowMs: number },
  ) {
    this.replies = rules.responses === null ? null : new ReplyTracker(rules.responses);
    // Defined only when needed, so a gateway pays nothing for users without these rules.
    if (rules.filtersDeliveries) this.canReceive = (subject) => rules.canReceive(subject);
    const replies = this.replies;
    if (replies !== null) this.noteReply = (reply) => replies.noteReply(reply);
  }

  canPublish(subject: string): boolean {
    if (this.rules.canPublish(subject)) return true;
    return this.replies !== null && this.replies.allowResponse(subject);
  }

  canSubscribe(subject: string, queue: string | null = null): boolean {
    return this.rules.canSubscribe(subject, queue);
  }
}
