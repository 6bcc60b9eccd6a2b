// Files written so a crash leaves either the old or the new version (stream and
// consumer metadata, compacted segments): write a temp file, fsync it, rename
// it over the target, fsync the directory.

import * as fs from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomic(path: string, contents: string | Buffer): void {
  const tmp = `${path}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    // writeFileSync, not writeSync: it repeats a short write until every byte is down.
    fs.writeFileSync(fd, contents);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
  syncDirectory(dirname(path));
}

/** fsync a directory, so a new, renamed or removed name in it survives power loss. */
export function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch {
    // Directories cannot be fsynced everywhere; the files themselves are durable.
  }
}

/** The parsed JSON at path, or null when it does not exist. */
export function readJsonFile<T>(path: string): T | null {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return JSON.parse(text) as T;
}
