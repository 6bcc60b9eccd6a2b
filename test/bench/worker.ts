// Entry point of one load-generator process (forked by the orchestrator with an
// IPC channel). Runs exactly one role, reports its result and exits. It also
// exits when the orchestrator goes away and after a hard time cap, so no
// worker can outlive a bench run.

import { runIdleConnections } from './roles/idle-connections.ts';
import { runPublisher } from './roles/publisher.ts';
import { runRequester } from './roles/requester.ts';
import { runResponder } from './roles/responder.ts';
import { runSubscriber } from './roles/subscriber.ts';
import { report, WorkerContext } from './worker-context.ts';
import type { ParentCommand, WorkerResult, WorkerSpec } from './worker-protocol.ts';

/** Beyond its own cap a role gets this long to wrap up before the process ends itself. */
const HARD_CAP_GRACE_MS = 30_000;

const ctx = new WorkerContext();

function runRole(spec: WorkerSpec): Promise<WorkerResult> {
  switch (spec.role) {
    case 'publisher':
      return runPublisher(spec, ctx);
    case 'subscriber':
      return runSubscriber(spec, ctx);
    case 'responder':
      return runResponder(spec, ctx);
    case 'requester':
      return runRequester(spec, ctx);
    case 'idle-connections':
      return runIdleConnections(spec, ctx);
  }
}

function start(spec: WorkerSpec): void {
  const hardCap = setTimeout(() => {
    report({ type: 'error', message: `${spec.role} exceeded its hard cap of ${spec.capMs + HARD_CAP_GRACE_MS} ms` }, () => process.exit(2));
  }, spec.capMs + HARD_CAP_GRACE_MS);
  hardCap.unref();
  runRole(spec).then(
    (result) => report({ type: 'result', result }, () => process.exit(0)),
    (error: unknown) => report({ type: 'error', message: error instanceof Error ? error.message : String(error) }, () => process.exit(1)),
  );
}

process.on('message', (command: ParentCommand) => {
  if (command.type === 'start') start(command.spec);
  else ctx.deliver(command.type);
});
process.on('disconnect', () => process.exit(0));
