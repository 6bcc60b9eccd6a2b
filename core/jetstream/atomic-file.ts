// Metadata files written so a crash leaves either the old or the new version:
// write a temp file, fsync it, rename it over the target, fsync the directory.

import * as fs from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomic(path: string, contents: string): void {
  const tmp = `${path}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, contents);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
  try {
    const dir = fs.openSync(dirname(path), 'r');
    fs.fsyncSync(dir);
    fs.closeSync(dir);
  } catch {
    // Directories cannot be fsynced everywhere; the file itself is durable.
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
