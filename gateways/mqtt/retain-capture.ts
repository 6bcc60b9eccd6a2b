// Retained messages from NATS and HTTP publishers (README "Retained from NATS
// and HTTP"): a publish whose headers say `Mqtt-Retain: true` (or `1`) becomes
// the retained message of its topic, as an MQTT PUBLISH with RETAIN=1 does
// [MQTT-3.3.1-5]; an empty payload deletes it [MQTT-3.3.1-10].
//
// Seeing such a publish takes a subscription to every subject. Its cost falls
// on every publish, with or without MQTT, so it exists only when the operator
// asks for it (`mqtt { retain_from_headers: true }`): embedded, one more
// delivery per message (test/bench/retain-capture-cost.ts; README); on a NATS
// cluster, every message of the cluster sent to a gateway; and, as an MQTT `#`
// subscriber does, it answers "somebody is there" for a request on any
// non-reserved subject (no fast no-responders). The handler returns
// at once for a message without headers: EmbeddedBroker parses a header block
// only when it is read, and a message without one reads as null for free.
//
// - Queue group `mqtt-retain`: with several gateways, one of them stores each message.
// - excludeReserved: no `$...` or `_INBOX...` subject, so the retained store's
//   own `$MQTT.retained.>` appends are never captured again.
// - A retained MQTT publish is stored by the gateway that received it before it
//   is published (its PUBACK waits for that); it carries `Mqtt-Retain-Stored`,
//   and is left alone here.

import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { fromBrokerMessage, saysRetain, MqttHeader } from './message.ts';
import type { RetainedStore } from './store.ts';

export const RETAIN_CAPTURE_QUEUE = 'mqtt-retain';

export class RetainCapture {
  private sub: BrokerSubscription | null = null;

  /** `store()`: the gateway's retained store at the time (it is chosen at open). */
  constructor(
    private readonly broker: Broker,
    private readonly store: () => RetainedStore,
    private readonly log: (...parts: unknown[]) => void,
  ) {}

  async start(): Promise<void> {
    this.sub = await this.broker.subscribe('>', (m) => this.captured(m), { queue: RETAIN_CAPTURE_QUEUE, excludeReserved: true });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  private captured(m: BrokerMessage): void {
    const headers = m.headers;
    if (headers === null || !saysRetain(headers.get(MqttHeader.Retain)) || headers.has(MqttHeader.RetainStored)) return;
    // A reply subject belongs to one requester (or, on a stream's subject, receives the PubAck):
    // never a response topic for later subscribers. An explicit Mqtt-Response-Topic stays.
    const message = fromBrokerMessage(m, Date.now(), true);
    this.store().set(message).catch((e: unknown) => this.log('retained message from', m.subject, 'not stored:', e));
  }
}
