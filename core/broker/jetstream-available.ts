// Cluster mode needs JetStream: the gateways keep sessions, retained messages
// and queues in it. At startup, ask `$JS.API.INFO` through the Broker port:
// no responders means JetStream is off on the servers (stop now, with that
// reason); a timeout means a cluster still electing its meta leader (ask again
// until the deadline).

import type { Broker } from './broker.ts';
import { JetStreamUnavailableError, NoRespondersError, RequestTimeoutError } from './errors.ts';

const EMPTY = new Uint8Array(0);
const ATTEMPT_TIMEOUT_MS = 2_000;

export async function awaitJetStream(broker: Broker, servers: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await broker.request('$JS.API.INFO', EMPTY, { timeoutMs: ATTEMPT_TIMEOUT_MS });
      return;
    } catch (cause) {
      if (cause instanceof NoRespondersError) throw new JetStreamUnavailableError(servers, 'JetStream is not enabled there', { cause });
      if (!(cause instanceof RequestTimeoutError)) throw cause;
      if (Date.now() >= deadline) throw new JetStreamUnavailableError(servers, `JetStream did not answer within ${timeoutMs} ms`, { cause });
    }
  }
}
