// Which subjects belong to a stream, so `POST /v1/subjects/{s}` can answer with
// the PubAck for stream subjects and 202 for core ones. The stream list is read
// over the JetStream API and kept briefly (streams change rarely). The gateway
// drops it whenever it changes a stream itself, and on every stream advisory
// (created, updated, deleted), so a stream made elsewhere (another gateway in
// cluster mode, a NATS client) is seen at once rather than after the TTL.

import type { Broker, BrokerSubscription } from '../../core/broker/broker.ts';
import { subjectMatches } from '../../core/subject/subject.ts';
import { JetStreamApiError, JetStreamNotEnabledError, type JetStreamClient } from '../../core/kv/jetstream-client.ts';

/** What nats-server (and the embedded engine) publish on every stream create, update and delete. */
const STREAM_ADVISORIES = '$JS.EVENT.ADVISORY.STREAM.>';

export class StreamSubjectIndex {
  private subjects: string[] = [];
  private advisories: BrokerSubscription | null = null;
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly client: JetStreamClient,
    private readonly ttlMs = 1_000,
  ) {}

  invalidate(): void {
    this.loadedAt = -Infinity;
  }

  /** Drop the list on every stream advisory from now on, until stopFollowing(). */
  async followAdvisories(broker: Broker): Promise<void> {
    this.advisories ??= await broker.subscribe(STREAM_ADVISORIES, () => this.invalidate());
  }

  stopFollowing(): void {
    this.advisories?.unsubscribe();
    this.advisories = null;
  }

  async belongsToStream(subject: string): Promise<boolean> {
    if (Date.now() - this.loadedAt > this.ttlMs) await this.refresh();
    return this.matches(subject);
  }

  /** The answer from the cached list, or null when the list is stale (then call belongsToStream). */
  belongsToStreamCached(subject: string): boolean | null {
    return Date.now() - this.loadedAt > this.ttlMs ? null : this.matches(subject);
  }

  private matches(subject: string): boolean {
    for (const pattern of this.subjects) if (subjectMatches(pattern, subject)) return true;
    return false;
  }

  private refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const streams = await this.client.streams();
        this.subjects = streams.flatMap((info) => info.config.subjects ?? []);
      } catch (error) {
        // No JetStream: every subject is a core subject until it appears.
        if (!(error instanceof JetStreamNotEnabledError || error instanceof JetStreamApiError)) throw error;
        this.subjects = [];
      } finally {
        this.loadedAt = Date.now();
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
