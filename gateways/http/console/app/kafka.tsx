// Kafka mappings: per mapping its direction, state, rate, lag, totals and last
// error (/v1/monitor/kafkaz, the bridge's monitor endpoint), every two seconds.
// The endpoint exists only while a bridge runs: its 404 means no bridge is
// configured, which the page says instead of an error.

import { ABSENT, getOptionalJson } from './api.ts';
import { usePoll } from './use-poll.ts';

interface MappingFigures {
  name: string;
  direction: 'kafka-to-nats' | 'nats-to-kafka';
  state: string;
  messages: number;
  bytes: number;
  rate: number;
  lag: number;
  errors: number;
  dropped: number;
  loopsPrevented: number;
  lastError: { message: string; at: string } | null;
}

interface Kafkaz {
  now: string;
  brokers: string[];
  mappings: MappingFigures[];
}


const number = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

export function Kafka() {
  const polled = usePoll(() => getOptionalJson<Kafkaz>('/v1/monitor/kafkaz'), 2000);
  const kafkaz = polled.value;
  return (
    <section>
      <h2>Kafka mappings {kafkaz === null || kafkaz === ABSENT ? null : <small>brokers {kafkaz.brokers.join(', ')}</small>}</h2>
      {polled.error === null ? null : <p class="error">{polled.error}</p>}
      {kafkaz === ABSENT ? <p class="hint" data-testid="kafka-none">No Kafka bridge configured (add a <code>kafka</code> section or <code>--kafka-brokers</code>).</p> : null}
      {kafkaz === null || kafkaz === ABSENT ? null : (
        <table data-testid="kafka-mappings">
          <thead>
            <tr><th>Mapping</th><th>Direction</th><th>State</th><th>Rate (msg/s)</th><th>Lag</th><th>Messages</th><th>Bytes</th><th>Errors</th><th>Dropped</th><th>Last error</th></tr>
          </thead>
          <tbody>
            {kafkaz.mappings.map((m) => (
              <tr data-mapping={m.name} class={m.lastError === null ? '' : 'warn'}>
                <td>{m.name}</td>
                <td>{m.direction === 'kafka-to-nats' ? 'Kafka → NATS' : 'NATS → Kafka'}</td>
                <td data-col="state">{m.state}</td>
                <td data-col="rate">{number.format(m.rate)}</td>
                <td data-col="lag">{m.lag}</td>
                <td data-col="messages">{m.messages}</td>
                <td>{m.bytes}</td>
                <td>{m.errors}</td>
                <td>{m.dropped}</td>
                <td data-col="last-error">{m.lastError === null ? '' : `${m.lastError.message} (${m.lastError.at})`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
