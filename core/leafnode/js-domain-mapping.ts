// A JetStream domain (`jetstream { domain: edge1 }`): this server's JetStream
// API answers under `$JS.edge1.API.>` too, so a hub reaches it across a leaf
// link while `$JS.API.>` itself never crosses (leaf-wire.ts DENY_ACROSS_LEAF).
// nats-server adds the same mappings to the account (jetstream_api.go
// generateJSMappingTable): `$JS.<domain>.API.<rest>` -> `$JS.API.<rest>`,
// except `$KV.>` and `$OBJ.>` views, which map to their own spaces. The
// mapping is a router subscription, so its interest reaches the hub as one
// LS+ `$JS.<domain>.API.>` like any other.

import type { Router } from '../server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../server/subscription.ts';

export class JetStreamDomainMapping implements Subscriber {
  readonly id = nextInternalSubscriberId();
  readonly echo = true;
  private readonly prefix: string;
  private sub: Subscription | null = null;

  constructor(private readonly router: Router, readonly domain: string) {
    this.prefix = `$JS.${domain}.API.`;
  }

  /** The subjects that never leave through a leaf link: requests meant for this domain stay here (nats-server blockMappingOutgoing). */
  get apiSubjects(): string {
    return `${this.prefix}>`;
  }

  start(): void {
    this.sub = new Subscription(this, this.apiSubjects, null, 'js-domain');
    this.router.subscribe(this.sub);
  }

  stop(): void {
    if (this.sub !== null) this.router.unsubscribe(this.sub);
    this.sub = null;
  }

  deliver(_sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    const to = mapDomainSubject(subject.slice(this.prefix.length));
    this.router.deliverAs(to, to, reply, headerSize, message, this);
  }

  subscriptionEnded(): void {
    this.sub = null;
  }
}

/** The local subject of `$JS.<domain>.API.<rest>`, given `<rest>`. */
export function mapDomainSubject(rest: string): string {
  if (rest.startsWith('$KV.') || rest.startsWith('$OBJ.')) return rest;
  return `$JS.API.${rest}`;
}
