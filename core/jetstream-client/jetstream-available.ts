// Cluster mode needs JetStream: the gateways keep sessions, retained messages
// and queues in it. At startup, ask `$JS.API.INFO` through the Broker port:
// no responders means JetStream is off on the servers, and an error reply (e.g.
// 10039, JetStream not enabled for the account) that the credentials cannot use
// it: stop now, with that reason. A timeout means a cluster still electing its
// meta leader (ask again until the deadline).

import type { Broker } from '../broker/broker.ts';
import { JetStreamUnavailableError, RequestTimeoutError } from '../broker/errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JetStreamClient, JetStreamNotEnabledError } from './jetstream-client.ts';

const ATTEMPT_TIMEOUT_MS = 2_000;

export async function awaitJetStream(broker: Broker, servers: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const js = new JetStreamClient(broker, Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())));
    try {
      await js.api('INFO', []);
      return;
    } catch (cause) {
      if (cause instanceof JetStreamNotEnabledError) throw new JetStreamUnavailableError(servers, 'JetStream is not enabled there', { cause });
      if (cause instanceof JetStreamApiError) throw new JetStreamUnavailableError(servers, `${cause.description} (err_code ${cause.errCode})`, { cause });
      if (!(cause instanceof RequestTimeoutError)) throw cause;
      if (Date.now() >= deadline) throw new JetStreamUnavailableError(servers, `JetStream did not answer within ${timeoutMs} ms`, { cause });
    }
  }
}
