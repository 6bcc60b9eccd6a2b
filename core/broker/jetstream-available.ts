// Cluster mode needs JetStream: the gateways keep sessions, retained messages
// and queues in it. At startup, ask `$JS.API.INFO` through the Broker port:
// no responders means JetStream is off on the servers, and an error reply (e.g.
// 10039, JetStream not enabled for the account) that the credentials cannot use
// it: stop now, with that reason. A timeout means a cluster still electing its
// meta leader (ask again until the deadline).

import type { Broker } from './broker.ts';
import { JetStreamUnavailableError, NoRespondersError, RequestTimeoutError } from './errors.ts';

const EMPTY = new Uint8Array(0);
const ATTEMPT_TIMEOUT_MS = 2_000;

export async function awaitJetStream(broker: Broker, servers: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const reply = await broker.request('$JS.API.INFO', EMPTY, { timeoutMs: Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())) });
      const refusal = apiError(reply.data);
      if (refusal !== null) throw new JetStreamUnavailableError(servers, refusal);
      return;
    } catch (cause) {
      if (cause instanceof JetStreamUnavailableError) throw cause;
      if (cause instanceof NoRespondersError) throw new JetStreamUnavailableError(servers, 'JetStream is not enabled there', { cause });
      if (!(cause instanceof RequestTimeoutError)) throw cause;
      if (Date.now() >= deadline) throw new JetStreamUnavailableError(servers, `JetStream did not answer within ${timeoutMs} ms`, { cause });
    }
  }
}

/** The description of a JetStream API error reply, or null for a good answer. */
function apiError(data: Uint8Array): string | null {
  try {
    const answer = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as { error?: { description?: string; err_code?: number } };
    if (answer.error === undefined) return null;
    return `${answer.error.description ?? 'JetStream API error'} (err_code ${answer.error.err_code ?? 'unknown'})`;
  } catch {
    return 'the JetStream API answered with something that is not JSON';
  }
}
