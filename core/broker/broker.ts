// The Broker port (DESIGN seam 4): all that gateways and connectors see of the
// messaging core. EmbeddedBroker calls the in-process router; NatsBroker speaks
// to a real NATS cluster. Async from day one so both fit the same contract.

import type { MessageHeaders } from '../protocol/headers.ts';

export interface BrokerMessage {
  readonly subject: string;
  readonly reply: string | null;
  readonly headers: MessageHeaders | null;
  readonly data: Uint8Array;
}

export interface PublishOptions {
  reply?: string;
  headers?: MessageHeaders;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** Stop after this many messages (auto-unsubscribe, enforced by the core). */
  max?: number;
  /**
   * A first-token wildcard (`>`, `*.x`) does not reach reserved subjects
   * (`$...`, `_INBOX...`; core/subject isReservedSubject): for protocols whose
   * wildcards must not see the JetStream API, gateway state or request
   * replies (MQTT [MQTT-4.7.2-1]). Embedded, the core skips the subscription
   * for them, so it is not counted as a responder either; on a NATS cluster
   * the server still delivers them (and counts it), and the handler is not called.
   */
  excludeReserved?: boolean;
}

export interface RequestOptions {
  timeoutMs: number;
  headers?: MessageHeaders;
}

export type MessageHandler = (message: BrokerMessage) => void;

export interface BrokerSubscription {
  readonly subject: string;
  readonly queue: string | null;
  /** Idempotent. */
  unsubscribe(): void;
  /** Settles when the subscription ends (unsubscribe, max reached or broker closed). */
  readonly closed: Promise<void>;
}

export interface Broker {
  /**
   * Whether the server runs JetStream, as it announces it (nats-server's INFO `jetstream`);
   * null when it does not say. A client asking the JetStream API of a server without it
   * could otherwise wait out its timeout whenever some wildcard subscriber (`nats sub '>'`)
   * receives the request and never answers it.
   */
  readonly jetstream: boolean | null;
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void>;
  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Promise<BrokerSubscription>;
  /** First reply wins. Rejects with NoRespondersError or RequestTimeoutError. */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BrokerMessage>;
  /** Resolves when everything published so far has reached the core. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
