// Client-id takeover across gateway instances (cluster mode, durable store).
//
// The gateway holding a session listens on `$MQTT.handover.<hash of client id>`.
// A gateway receiving a CONNECT for a client id it does not hold asks that
// subject first: the holder closes its connection (v5: DISCONNECT 0x8E), saves
// the session record, lets the session go and answers; the asker then loads
// the record. "No responders" means nobody holds it. So exactly one gateway
// holds (and subscribes for) a session at a time.

import { createHash } from 'node:crypto';
import type { Broker, BrokerSubscription } from '../../core/broker/broker.ts';
import { NoRespondersError, RequestTimeoutError } from '../../core/broker/errors.ts';

export const HANDOVER_PREFIX = '$MQTT.handover.';

export function handoverSubject(clientId: string): string {
  return HANDOVER_PREFIX + createHash('sha256').update(clientId).digest('base64url').slice(0, 32);
}

const empty = new Uint8Array(0);

export class SessionHandover {
  private readonly listeners = new Map<string, BrokerSubscription>();

  /**
   * `release(clientId)`: close the local connection, save and drop the session.
   * `enabled`: false for a single-process (non-durable) store, where there is no one to hand over to.
   */
  constructor(
    private readonly broker: Broker,
    private readonly enabled: () => boolean,
    private readonly release: (clientId: string) => Promise<void>,
    private readonly timeoutMs = 5000,
  ) {}

  /** This gateway now holds `clientId`: answer handover requests for it. */
  async hold(clientId: string): Promise<void> {
    if (!this.enabled() || this.listeners.has(clientId)) return;
    const subject = handoverSubject(clientId);
    const sub = await this.broker.subscribe(subject, (m) => {
      void this.release(clientId).then(
        () => (m.reply ? this.broker.publish(m.reply, empty) : undefined),
        () => (m.reply ? this.broker.publish(m.reply, empty) : undefined),
      );
    });
    this.listeners.set(clientId, sub);
  }

  /** This gateway no longer holds `clientId`. */
  drop(clientId: string): void {
    this.listeners.get(clientId)?.unsubscribe();
    this.listeners.delete(clientId);
  }

  /** Ask whoever holds `clientId` to let it go; resolves when released or nobody held it. */
  async acquire(clientId: string): Promise<void> {
    if (!this.enabled() || this.listeners.has(clientId)) return;
    try {
      await this.broker.request(handoverSubject(clientId), empty, { timeoutMs: this.timeoutMs });
    } catch (error) {
      if (error instanceof NoRespondersError || error instanceof RequestTimeoutError) return;
      throw error;
    }
  }

  stop(): void {
    for (const sub of this.listeners.values()) sub.unsubscribe();
    this.listeners.clear();
  }
}
