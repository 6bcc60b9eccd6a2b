// Client-id takeover across gateway instances (cluster mode, durable store).
//
// The gateway holding a session listens on `$MQTT.handover.<hash of client id>`.
// A gateway receiving a CONNECT for a client id it does not hold asks that
// subject first: the holder closes its connection (v5: DISCONNECT 0x8E), saves
// the session record, lets the session go and answers; the asker then loads
// the record. "No responders" means nobody holds it. So exactly one gateway
// holds (and subscribes for) a session at a time. A gateway that let a session
// go keeps listening while it delays a will for it, so that a reconnect on
// another gateway cancels the will [MQTT-3.1.3-9]. A probe request (`held`)
// is answered without letting the session go: the expiry sweep asks it to tell
// a session whose gateway died from one that is still served.

import { createHash } from 'node:crypto';
import type { Broker, BrokerSubscription } from '../../core/broker/broker.ts';
import { NoRespondersError, RequestTimeoutError } from '../../core/broker/errors.ts';

export const HANDOVER_PREFIX = '$MQTT.handover.';

export function handoverSubject(clientId: string): string {
  return HANDOVER_PREFIX + createHash('sha256').update(clientId).digest('base64url').slice(0, 32);
}

const empty = new Uint8Array(0);
/** The request body when the new connection starts clean (the holder then sends a delayed will at once). */
const CLEAN_START = new Uint8Array([0x31]);
/** The request body of a probe: is anyone holding this session? */
const PROBE = new Uint8Array([0x3f]);

export class SessionHandover {
  private readonly listeners = new Map<string, BrokerSubscription>();

  /**
   * `release(clientId)`: close the local connection, save and drop the session.
   * `enabled`: false for a single-process (non-durable) store, where there is no one to hand over to.
   */
  constructor(
    private readonly broker: Broker,
    private readonly enabled: () => boolean,
    private readonly release: (clientId: string, cleanStart: boolean) => Promise<void>,
    private readonly timeoutMs = 1000,
  ) {}

  /** This gateway now holds `clientId`: answer handover requests for it. */
  async hold(clientId: string): Promise<void> {
    if (!this.enabled() || this.listeners.has(clientId)) return;
    const subject = handoverSubject(clientId);
    const sub = await this.broker.subscribe(subject, (m) => {
      if (m.data[0] === PROBE[0]) {
        if (m.reply !== null) void this.broker.publish(m.reply, empty);
        return;
      }
      void this.release(clientId, m.data[0] === CLEAN_START[0]).then(
        () => (m.reply === null ? undefined : this.broker.publish(m.reply, empty)),
        () => (m.reply === null ? undefined : this.broker.publish(m.reply, empty)),
      );
    });
    this.listeners.set(clientId, sub);
  }

  /** This gateway no longer holds `clientId`. */
  drop(clientId: string): void {
    this.listeners.get(clientId)?.unsubscribe();
    this.listeners.delete(clientId);
  }

  /**
   * Ask whoever holds `clientId` to let it go: 'released' when the holder
   * answered, 'nobody' when no one listens (or this gateway listens itself), 'timeout'
   * when no answer came (a holder that just stopped listening may still be
   * routed to by a NATS cluster for a moment: the caller decides whether to ask again).
   */
  async acquire(clientId: string, cleanStart: boolean): Promise<'released' | 'nobody' | 'timeout'> {
    if (!this.enabled() || this.listeners.has(clientId)) return 'nobody';
    const answer = await this.ask(clientId, cleanStart ? CLEAN_START : empty);
    return answer === 'answered' ? 'released' : answer;
  }

  /**
   * Whether some gateway (this one included) holds `clientId`. A probe that
   * gets no answer in time counts as held: a session is never dropped on doubt.
   */
  async held(clientId: string): Promise<boolean> {
    return this.listeners.has(clientId) || (await this.ask(clientId, PROBE)) !== 'nobody';
  }

  /** One request on the client id's handover subject. */
  private async ask(clientId: string, body: Uint8Array): Promise<'answered' | 'nobody' | 'timeout'> {
    try {
      await this.broker.request(handoverSubject(clientId), body, { timeoutMs: this.timeoutMs });
      return 'answered';
    } catch (error) {
      if (error instanceof NoRespondersError) return 'nobody';
      if (error instanceof RequestTimeoutError) return 'timeout';
      throw error;
    }
  }

  stop(): void {
    for (const sub of this.listeners.values()) sub.unsubscribe();
    this.listeners.clear();
  }
}
