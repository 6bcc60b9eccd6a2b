// Where the streams live on disk: <storeDir>/streams/<name>/ holds the
// stream's meta.json (its config and creation time, rewritten whole on each
// update so a crash leaves the old or the new one) and, for file storage, its
// msgs/ segments. Memory streams keep only their meta.json, so they come back
// empty after a restart, as nats-server's do.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from './atomic-file.ts';
import { storeLimitsOf, streamConfigToWire, type StreamConfig } from './stream-config.ts';
import type { StreamConfigWire } from '../protocol/jetstream-wire.ts';
import { FileStreamStore, type SyncPolicy } from './store/file-stream-store.ts';
import { MemoryStreamStore } from './store/memory-stream-store.ts';
import type { StreamStore } from './store/stream-store.ts';

const META_FILE = 'meta.json';
const MSGS_DIR = 'msgs';

/** What meta.json holds. */
export interface StreamMeta {
  config: StreamConfigWire;
  created: string;
}

/** How a file store replays itself when it opens (see FileStreamStore's onRecover). */
export interface StoreReplay {
  onRecover: (seq: number, time: number, header: Buffer | null) => void;
  /** Replay the headers of messages stored from this time on (0: all of them). */
  recoverHeadersSince: number;
}

export interface StreamFilesOptions {
  sync?: SyncPolicy;
  segmentBytes?: number;
}

export class StreamFiles {
  constructor(readonly dir: string, private readonly options: StreamFilesOptions) {}

  /** The stream directories found, by name (sorted, so recovery runs in a stable order). */
  names(): string[] {
    fs.mkdirSync(this.dir, { recursive: true });
    return fs.readdirSync(this.dir).sort();
  }

  /** The meta of stream `name`, null when its directory has none. */
  readMeta(name: string): StreamMeta | null {
    return readJsonFile<StreamMeta>(join(this.dir, name, META_FILE));
  }

  /** Make a new stream's directory and its meta.json. */
  create(config: StreamConfig, created: string): void {
    fs.mkdirSync(join(this.dir, config.name), { recursive: true });
    this.writeMeta(config, created);
  }

  /** Replace the stream's meta.json (after an update). */
  writeMeta(config: StreamConfig, created: string): void {
    writeFileAtomic(join(this.dir, config.name, META_FILE), JSON.stringify({ config: streamConfigToWire(config), created } satisfies StreamMeta));
  }

  /** Open the stream's store; `replay` only matters to a file store, which recovers from its segments. */
  open(config: StreamConfig, replay?: StoreReplay): StreamStore {
    const limits = storeLimitsOf(config);
    const firstSeq = config.firstSeq > 0 ? config.firstSeq : undefined;
    if (config.storage === 'memory') return new MemoryStreamStore(config.name, limits, { firstSeq });
    return new FileStreamStore(config.name, limits, {
      dir: join(this.dir, config.name, MSGS_DIR),
      sync: this.options.sync,
      segmentBytes: this.options.segmentBytes,
      firstSeq,
      onRecover: replay?.onRecover,
      recoverHeadersSince: replay?.recoverHeadersSince,
    });
  }

  /** Remove the stream's directory (its store already destroyed). */
  remove(name: string): void {
    fs.rmSync(join(this.dir, name), { recursive: true, force: true });
  }
}
