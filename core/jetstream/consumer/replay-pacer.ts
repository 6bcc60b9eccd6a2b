// replay_policy original (NS consumer.go, o.cfg.ReplayPolicy == ReplayOriginal):
// the gap between two stored messages is kept between their first deliveries.
// One pending wake-up at most, in the engine's shared DeadlineScheduler.

import { CallbackDeadline, type DeadlineScheduler } from './deadline-scheduler.ts';

export class ReplayPacer {
  /** Stored time and send time of the last first delivery. */
  private last: { msgTime: number; sentAt: number } | null = null;
  private armed = false;

  constructor(private readonly scheduler: DeadlineScheduler, private readonly wake: () => void) {}

  /** True (and a wake-up armed) when a message stored at `msgTime` is not due yet. */
  wait(msgTime: number, now: number): boolean {
    const last = this.last;
    if (last === null) return false;
    const wait = msgTime - last.msgTime - (now - last.sentAt);
    if (wait <= 1) return false;
    if (!this.armed) {
      this.armed = true;
      this.scheduler.add(new CallbackDeadline(now + wait, () => {
        this.armed = false;
        this.wake();
      }));
    }
    return true;
  }

  /** A message stored at `msgTime` went out for the first time at `now`. */
  sent(msgTime: number, now: number): void {
    this.last = { msgTime, sentAt: now };
  }
}
