// Wills waiting out their Will Delay Interval (MQTT 5 §3.1.3.2.2): published when the delay
// ends or when the session ends, whichever comes first; cancelled when the client reconnects to
// the session. Only the bookkeeping lives here; the gateway decides how a will is sent.

import type { MqttClient } from './mqtt-client.ts';
import type { WillMessage } from './mqtt-client.ts';

/**
 * The longest delay a Node.js timer takes (~24.8 days); a longer one fires at once. Session expiry
 * and will delay go up to 2^32-1 s, so their timers wait in steps of at most this long.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

interface PendingWill {
  readonly will: WillMessage;
  readonly client: MqttClient;
  timer: NodeJS.Timeout;
}

export class DelayedWills {
  private readonly pending = new Map<string, PendingWill>();

  /** `send` publishes a will that is due; `forgotten` runs when a client id has no will waiting any more. */
  constructor(
    private readonly send: (will: WillMessage, client: MqttClient) => void,
    private readonly forgotten: (clientId: string) => void,
  ) {}

  has(clientId: string): boolean {
    return this.pending.has(clientId);
  }

  /** Send at once without a delay, else after `delaySeconds` (replacing one already waiting). */
  schedule(clientId: string, will: WillMessage, delaySeconds: number, client: MqttClient): void {
    if (delaySeconds <= 0) {
      this.send(will, client);
      return;
    }
    this.cancel(clientId);
    const entry: PendingWill = { will, client, timer: this.timer(clientId, Date.now() + delaySeconds * 1000) };
    this.pending.set(clientId, entry);
  }

  /** The session ended (or was replaced by a clean start): a waiting will goes out now. */
  fire(clientId: string): void {
    const entry = this.pending.get(clientId);
    this.cancel(clientId);
    if (entry !== undefined) this.send(entry.will, entry.client);
  }

  /** The client came back to its session: its will is not sent. */
  cancel(clientId: string): void {
    const entry = this.pending.get(clientId);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.pending.delete(clientId);
    this.forgotten(clientId);
  }

  /** Gateway stop: nothing more is sent. */
  clear(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }

  /** The timer of a will due at `dueAt` (ms), in steps of at most MAX_TIMER_MS. */
  private timer(clientId: string, dueAt: number): NodeJS.Timeout {
    const left = dueAt - Date.now();
    const timer = setTimeout(() => {
      const entry = this.pending.get(clientId);
      if (entry === undefined) return;
      if (left > MAX_TIMER_MS) entry.timer = this.timer(clientId, dueAt);
      else this.fire(clientId);
    }, Math.min(Math.max(0, left), MAX_TIMER_MS));
    timer.unref();
    return timer;
  }
}
