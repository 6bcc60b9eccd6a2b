// Which subjects belong to a stream, so a gateway can publish there as a
// JetStream publish and answer only once the stream has stored the message
// (HTTP: `POST /v1/subjects/{s}` with the PubAck instead of 202; MQTT: PUBACK /
// PUBREC after the PubAck). The stream list is read over the JetStream API and
// kept briefly (streams change rarely). A gateway drops it whenever it changes a
// stream itself, and on every stream advisory (created, updated, deleted), so a
// stream made elsewhere (another gateway in cluster mode, a NATS client) is
// seen at once rather than after the TTL.

import type { Broker, BrokerSubscription } from '../broker/broker.ts';
import { subjectMatches } from '../subject/subject.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JetStreamNotEnabledError, type JetStreamClient } from './jetstream-client.ts';

/** What nats-server (and the embedded engine) publish on every stream create, update and delete. */
const STREAM_ADVISORIES = '$JS.EVENT.ADVISORY.STREAM.>';
/** Bounds the answer memo when publishers use ever-new subjects. */
const MAX_ANSWERS = 10_000;

export class StreamSubjectIndex {
  /** Each stream's subjects, by stream name. */
  private byStream = new Map<string, string[]>();
  private subjects: string[] = [];
  /** matches() answers for the current `subjects`. */
  private readonly answers = new Map<string, boolean>();
  private advisories: BrokerSubscription | null = null;
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;
  /** Bumped by invalidate(): a list read before a stream changed must not count as fresh. */
  private generation = 0;

  /**
   * `ttlMs`: how long a list is used before it is read again. Following the
   * advisories keeps it fresh; the TTL only bounds the damage of a missed one.
   */
  constructor(
    private readonly client: JetStreamClient,
    private readonly ttlMs = 30_000,
  ) {}

  invalidate(): void {
    this.loadedAt = -Infinity;
    this.generation++;
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

  /**
   * For the publish paths, which must not wait: the
   * answer from the list as long as no stream changed since it was read; a list
   * merely older than the TTL still answers while a fresh one loads in the
   * background (it only guards against a lost advisory). Null when never read
   * or a stream changed since: then call belongsToStream.
   */
  belongsToStreamNow(subject: string): boolean | null {
    const loadedAt = this.loadedAt;
    if (loadedAt === -Infinity) return null;
    if (Date.now() - loadedAt > this.ttlMs && this.loading === null) this.refresh().catch(() => this.invalidate());
    return this.matches(subject);
  }

  /** Publishers repeat subjects: each answer is kept until the list changes, so a publish is one Map lookup, not a scan of every stream's patterns. */
  private matches(subject: string): boolean {
    let answer = this.answers.get(subject);
    if (answer === undefined) {
      answer = this.subjects.some((pattern) => subjectMatches(pattern, subject));
      if (this.answers.size >= MAX_ANSWERS) this.answers.clear();
      this.answers.set(subject, answer);
    }
    return answer;
  }

  private refresh(): Promise<void> {
    this.loading ??= (async () => {
      const generation = this.generation;
      let complete = true;
      try {
        const { streams, missing } = await this.client.streamList();
        const byStream = new Map(streams.map((info) => [String(info.config.name), info.config.subjects ?? []]));
        // A stream without a leader at the moment (a cluster election) is listed only by name:
        // it still captures its subjects. One never seen before leaves the list incomplete.
        for (const name of missing) {
          const known = this.byStream.get(name);
          if (known === undefined) complete = false;
          else byStream.set(name, known);
        }
        this.byStream = byStream;
      } catch (error) {
        // No JetStream: every subject is a core subject until it appears.
        if (!(error instanceof JetStreamNotEnabledError || error instanceof JetStreamApiError)) throw error;
        this.byStream = new Map();
      } finally {
        this.subjects = [...this.byStream.values()].flat();
        this.answers.clear();
        // A stream changed while the list was read, or one was missing from it: it stays stale.
        if (generation === this.generation && complete) this.loadedAt = Date.now();
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
