// The mirror and source links of every stream in the engine: built from the
// stream configs (kept, with their positions, across updates that keep them),
// woken when an origin has new written messages, retried on a timer, and
// reported in stream info. Streams without mirror or sources cost nothing
// here: the engine calls in only for streams with `feeds > 0`.

import type { StreamSourceInfoWire } from '../protocol/jetstream-wire.ts';
import { SourceLink, type SourceHost, type SourceLinkState } from './source-link.ts';
import type { Stream } from './stream.ts';

/** How often idle links are checked: a missing origin may appear, a failed copy is retried (nats-server retries sources every few seconds). */
const RETRY_MS = 1000;

export class StreamSourcing {
  private readonly links = new Map<Stream, SourceLink[]>();
  private readonly waiting = new Set<SourceLink>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly host: SourceHost) {}

  /** (Re)build `dest`'s links from its config; links that stay keep their position, new ones read theirs from the stored messages. */
  configure(dest: Stream): void {
    const old = new Map((this.links.get(dest) ?? []).map((l) => [`${l.role} ${l.key}`, l]));
    const cfg = dest.config;
    const wanted = cfg.mirror !== null ? [new SourceLink('mirror', cfg.mirror, dest)] : cfg.sources.map((s) => new SourceLink('source', s, dest));
    const links = wanted.map((l) => old.get(`${l.role} ${l.key}`) ?? l);
    for (const l of old.values()) if (!links.includes(l)) l.close();
    if (links.length === 0) this.links.delete(dest);
    else this.links.set(dest, links);
    recoverSourcePositions(dest, links.filter((l) => l.role === 'source' && !old.has(`${l.role} ${l.key}`)));
    this.recount();
    for (const l of links) this.wake(l);
    if (this.links.size > 0 && this.timer === null) {
      this.timer = setInterval(() => this.retryAll(), RETRY_MS);
      this.timer.unref();
    }
  }

  /**
   * A failed write took back messages of `dest` (their copies among them): its
   * links go back to where the stored messages say they are, as after a
   * restart, and copy the rest again. Without this a link stayed ahead of its
   * copies until the next restart. Called from inside the store's rollback (maybe
   * in the middle of a pump), so the destination is read once that is over. Not
   * woken: the retry timer copies again, so a full disk is not tried in a busy loop.
   */
  rolledBack(dest: Stream): void {
    queueMicrotask(() => {
      const links = this.links.get(dest);
      if (links === undefined) return;
      for (const l of links) l.rewind();
      recoverSourcePositions(dest, links.filter((l) => l.role === 'source'));
    });
  }

  /** `stream` is gone: its links stop; links reading from it report the missing origin. */
  removed(stream: Stream): void {
    for (const l of this.links.get(stream) ?? []) l.close();
    this.links.delete(stream);
    this.recount();
  }

  /** A stream came into being: links waiting for it as their origin start. */
  attached(stream: Stream): void {
    this.recount();
    if (stream.feeds > 0) this.originWritten(stream);
  }

  /** `origin` has newly written messages (called only when origin.feeds > 0). */
  originWritten(origin: Stream): void {
    for (const links of this.links.values()) for (const l of links) if (l.config.name === origin.name && l.config.external === null) this.wake(l);
  }

  /** Does a link reading from `origin` still need `seq` (not yet stored and written here)? */
  needs(origin: Stream, seq: number, subject: string): boolean {
    for (const links of this.links.values()) for (const l of links) if (l.config.name === origin.name && l.config.external === null && l.needs(seq, subject)) return true;
    return false;
  }

  info(dest: Stream): { mirror?: StreamSourceInfoWire; sources?: StreamSourceInfoWire[] } {
    const links = this.links.get(dest);
    if (links === undefined) return {};
    if (links[0].role === 'mirror') return { mirror: links[0].info(this.host) };
    return { sources: links.map((l) => l.info(this.host)) };
  }

  /** Every link of every stream, with its destination (for /jsz and /metrics). */
  *states(): Iterable<{ stream: Stream; link: SourceLink; state: SourceLinkState }> {
    for (const [stream, links] of this.links) for (const link of links) yield { stream, link, state: link.state(this.host) };
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const links of this.links.values()) for (const l of links) l.close();
    this.links.clear();
    this.waiting.clear();
  }

  private retryAll(): void {
    if (this.links.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    for (const links of this.links.values()) for (const l of links) this.wake(l);
  }

  /** Which streams feed a link here (Stream.feeds: the engine's cheap check after each write). */
  private recount(): void {
    const counts = new Map<string, number>();
    for (const links of this.links.values()) for (const l of links) if (l.config.external === null) counts.set(l.config.name, (counts.get(l.config.name) ?? 0) + 1);
    for (const s of this.host.streams()) s.feeds = counts.get(s.name) ?? 0;
  }

  private wake(link: SourceLink): void {
    this.waiting.add(link);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  /** One batch per waiting link per turn; a link with more to copy waits for the next turn. */
  private run(): void {
    this.scheduled = false;
    const now = [...this.waiting];
    this.waiting.clear();
    for (const link of now) {
      const live = this.links.get(link.dest);
      if (live === undefined || !live.includes(link)) continue;
      if (link.pump(this.host)) this.wake(link);
    }
  }
}

/**
 * Where each source left off: the newest message of the destination that
 * carries its Nats-Stream-Source header, scanning back from the end until
 * every source is found (nats-server does the same on restart).
 */
function recoverSourcePositions(dest: Stream, links: SourceLink[]): void {
  const pending = new Set(links);
  const state = dest.store.state();
  for (let seq = state.lastSeq; seq >= state.firstSeq && seq > 0 && pending.size > 0; seq--) {
    const m = dest.store.get(seq);
    if (m === null || m.header === null) continue;
    for (const l of pending) {
      const originSeq = l.originSeqIn(m.header);
      if (originSeq === 0) continue;
      l.recovered(originSeq);
      pending.delete(l);
      break;
    }
  }
}
