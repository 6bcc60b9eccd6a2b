// Push-consumer state: whether anyone listens on the deliver subject, when the
// last message or heartbeat went out, and flow control (NS consumer.go
// sendFlowControl): after a window of bytes the consumer sends
// `100 FlowControl Request` with a `$JS.FC.` reply and, if a second window goes
// out unanswered, stalls until the client answers. The client answers only once
// its application has caught up, so a slow reader slows the consumer, not the server.
// Under ack_policy flow_control the answers are the acks (ack-flow-control.ts),
// so a request also goes out when max_ack_pending is reached and on an idle
// heartbeat while anything is unacknowledged (NS needFlowControl, loopAndDeliverMsgs).

import { randomBytes } from 'node:crypto';
import { AckPolicy, type ConsumerConfig } from './consumer-config.ts';

export const FC_PREFIX = '$JS.FC.';
/** Bytes between flow-control requests. */
export const FLOW_CONTROL_WINDOW = 256 * 1024;

export class PushState {
  active = false;
  lastSent = 0;
  heartbeatArmed = false;
  /** The outstanding flow-control reply subject, or null. */
  flowControlPending: string | null = null;
  private bytes = 0;
  private flowControl: boolean;
  /** ack_policy flow_control: the max_ack_pending that calls for a request (0: not acked by flow control). */
  private ackWindow: number;

  constructor(config: ConsumerConfig) {
    this.flowControl = config.flowControl;
    this.ackWindow = ackWindowOf(config);
  }

  reconfigure(config: ConsumerConfig): void {
    this.flowControl = config.flowControl;
    this.ackWindow = ackWindowOf(config);
    if (!this.flowControl) this.answered(this.flowControlPending ?? '');
  }

  get stalled(): boolean {
    return this.flowControlPending !== null && this.bytes >= 2 * FLOW_CONTROL_WINDOW;
  }

  /** Count a delivery (`unacked` now waiting for an ack); true when a flow-control request is due. */
  sent(size: number, unacked: number): boolean {
    if (!this.flowControl) return false;
    this.bytes += size;
    return this.flowControlPending === null && (this.bytes >= FLOW_CONTROL_WINDOW || (this.ackWindow > 0 && unacked >= this.ackWindow));
  }

  /** At an idle heartbeat: is a request due for `unacked` messages waiting for a flow-control ack? */
  idleFlowControl(unacked: number): boolean {
    return this.ackWindow > 0 && unacked > 0 && this.flowControlPending === null;
  }

  requestFlowControl(stream: string, consumer: string): string {
    const reply = `${FC_PREFIX}${stream}.${consumer}.${randomBytes(6).toString('hex')}`;
    this.flowControlPending = reply;
    return reply;
  }

  /** True when `subject` answers the outstanding request (deliveries may resume). */
  answered(subject: string): boolean {
    if (subject !== this.flowControlPending) return false;
    this.flowControlPending = null;
    this.bytes = 0;
    return true;
  }
}

function ackWindowOf(config: ConsumerConfig): number {
  return config.ackPolicy === AckPolicy.FlowControl ? config.maxAckPending : 0;
}
