// Sessions whose gateway died while their client was connected. Their stored
// record still says "connected" (nobody saved the disconnect), so the usual
// expiry, counted from the disconnect, would never start: such a session would
// stay in the store until its client came back. The expiry sweep asks whether
// anyone still holds each such session (a probe on its handover subject, which
// the holder answers without letting go); one nobody holds is counted as
// disconnected from the sweep that first found it so, and expires its interval
// later, as MQTT 5 §3.1.2.11.2 asks of a session whose network connection ended.

import type { AttachedSession } from './persistent-subscriptions.ts';

export class OrphanedSessions {
  /** When each session was first found held by nobody (ms since epoch), and in which saved version, by client id. */
  private readonly orphanedSince = new Map<string, { since: number; version: object }>();

  /** `held`: whether any gateway holds the session now (a probe, or this gateway's own state). */
  constructor(private readonly held: (clientId: string) => Promise<boolean>) {}

  /** The client ids among `attached` that nobody has held for their whole expiry interval. */
  async expired(attached: readonly AttachedSession[], now: number): Promise<string[]> {
    const out: string[] = [];
    const current = new Set<string>();
    for (const { clientId, expiryMs, version } of attached) {
      current.add(clientId);
      if (await this.held(clientId)) {
        this.orphanedSince.delete(clientId);
        continue;
      }
      // A record saved again since (its client came back, maybe to a gateway that died too) starts over.
      let entry = this.orphanedSince.get(clientId);
      if (entry === undefined || entry.version !== version) {
        entry = { since: now, version };
        this.orphanedSince.set(clientId, entry);
      }
      if (entry.since + expiryMs <= now) out.push(clientId);
    }
    // A session detached or deleted since is no longer counted here.
    for (const clientId of this.orphanedSince.keys()) if (!current.has(clientId)) this.orphanedSince.delete(clientId);
    return out;
  }
}
