// Every process the bench starts (servers and load workers) is registered here
// and killed by its own PID when the bench ends, fails or is interrupted, so a
// run never leaves anything behind. Nothing else is ever signalled.

import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

export function track<T extends ChildProcess>(child: T): T {
  installHandlers();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGKILL every tracked child still running (synchronous, so it works in 'exit'). */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: ${error.stack ?? error.message}\n`);
    killAllChildren();
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`bench: unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
    killAllChildren();
    process.exit(1);
  });
}
