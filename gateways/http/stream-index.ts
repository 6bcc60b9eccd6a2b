// Which subjects belong to a stream, so `POST /v1/subjects/{s}` can answer with
// the PubAck for stream subjects and 202 for core ones. The stream list is read
// over the JetStream API and kept briefly (streams change rarely); the gateway
// drops it whenever it changes a stream itself.

import { subjectMatches } from '../../core/subject/subject.ts';
import { JetStreamApiError, JetStreamUnavailableError, type JetStreamClient } from '../../core/kv/jetstream-client.ts';

export class StreamSubjectIndex {
  private subjects: string[] = [];
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly client: JetStreamClient,
    private readonly ttlMs = 1_000,
  ) {}

  invalidate(): void {
    this.loadedAt = -Infinity;
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
        if (!(error instanceof JetStreamUnavailableError || error instanceof JetStreamApiError)) throw error;
        this.subjects = [];
      } finally {
        this.loadedAt = Date.now();
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
