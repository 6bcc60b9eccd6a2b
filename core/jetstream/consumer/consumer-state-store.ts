// Where a durable consumer on a file stream keeps its config and its state
// (delivered, ack floor, pending, redelivery counts), so they survive a restart
// and kill -9. Layout: <stream dir>/obs/<consumer>/meta.json and state.json.
// meta.json is written with fsync (rare); state.json is rewritten at most once
// per event-loop turn as temp + rename, which a killed process cannot tear;
// with sync 'always' it is fsynced too.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from '../atomic-file.ts';
import type { ConsumerConfigWire } from './consumer-config.ts';
import type { PinStateWire } from './priority-groups.ts';

export interface ConsumerMeta {
  config: ConsumerConfigWire;
  created: string;
}

export interface SequencePair {
  consumer_seq: number;
  stream_seq: number;
}

export interface ConsumerStateWire {
  delivered: SequencePair;
  ack_floor: SequencePair;
  /** [stream seq, consumer seq of the last delivery, delivery time ms], oldest stream seq first. */
  pending: Array<[number, number, number]>;
  /** [stream seq, deliveries so far] for messages delivered more than once. */
  redelivered: Array<[number, number]>;
  /** pinned_client: the pinned client's id and when it was pinned (ADR-42; kept across restarts). */
  pin?: PinStateWire;
}

export class ConsumerStateError extends Error {
  constructor(readonly path: string, operation: string, options?: { cause?: unknown }) {
    super(`consumer state ${operation} failed for ${path}${options?.cause instanceof Error ? `: ${options.cause.message}` : ''}`, options);
    this.name = 'ConsumerStateError';
  }
}

const META = 'meta.json';
const STATE = 'state.json';

export class ConsumerStateStore {
  constructor(readonly dir: string, private readonly fsyncState: boolean) {}

  /** Consumer directory names under a stream directory. */
  static list(streamDir: string): string[] {
    try {
      return fs.readdirSync(join(streamDir, 'obs')).sort();
    } catch {
      return [];
    }
  }

  static dirFor(streamDir: string, consumer: string): string {
    return join(streamDir, 'obs', consumer);
  }

  writeMeta(meta: ConsumerMeta): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      writeFileAtomic(join(this.dir, META), JSON.stringify(meta));
    } catch (err) {
      throw new ConsumerStateError(this.dir, 'write meta', { cause: err });
    }
  }

  readMeta(): ConsumerMeta | null {
    return readJsonFile<ConsumerMeta>(join(this.dir, META));
  }

  readState(): ConsumerStateWire | null {
    try {
      return readJsonFile<ConsumerStateWire>(join(this.dir, STATE));
    } catch {
      // A state file that does not parse is treated as missing: everything after the start is redelivered.
      return null;
    }
  }

  writeState(state: ConsumerStateWire): void {
    const path = join(this.dir, STATE);
    const tmp = `${path}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, JSON.stringify(state));
        if (this.fsyncState) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, path);
    } catch (err) {
      throw new ConsumerStateError(path, 'write', { cause: err });
    }
  }

  destroy(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
