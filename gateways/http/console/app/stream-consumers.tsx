// A stream's consumers: pending, ack pending, redeliveries, ack floor and
// delivered position per consumer (GET /v1/streams/{name}/consumers, the
// JetStream CONSUMER.LIST answer), refreshed every two seconds; a click shows
// a consumer's configuration.

import { useState } from 'preact/hooks';
import { getJson, segment } from './api.ts';
import { usePoll } from './use-poll.ts';

interface SequenceInfo {
  consumer_seq: number;
  stream_seq: number;
  last_active?: string;
}

interface ConsumerInfo {
  name: string;
  created: string;
  config: Record<string, unknown> & { durable_name?: string; ack_policy?: string; filter_subject?: string; filter_subjects?: string[]; deliver_policy?: string };
  delivered: SequenceInfo;
  ack_floor: SequenceInfo;
  num_pending: number;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  paused?: boolean;
}

export function StreamConsumers({ stream }: { stream: string }) {
  const consumers = usePoll(() => getJson<{ consumers: ConsumerInfo[] }>(`/v1/streams/${segment(stream)}/consumers`), 2000, [stream]);
  const [open, setOpen] = useState<string | null>(null);
  const list = consumers.value?.consumers ?? [];
  const shown = list.find((c) => c.name === open);
  return (
    <>
      <h3>Consumers <small>{list.length}</small></h3>
      {consumers.error === null ? null : <p class="error">{consumers.error}</p>}
      {consumers.value !== null && list.length === 0 ? <p class="hint">No consumers.</p> : null}
      <table data-testid="consumers" hidden={list.length === 0}>
        <thead>
          <tr><th>Name</th><th>Filter</th><th>Ack policy</th><th>Pending</th><th>Ack pending</th><th>Redelivered</th><th>Waiting</th><th>Ack floor (stream / consumer)</th><th>Delivered (stream / consumer)</th></tr>
        </thead>
        <tbody>
          {list.map((c) => (
            <tr key={c.name} data-consumer={c.name} class={c.name === open ? 'selected' : ''} onClick={() => setOpen(c.name === open ? null : c.name)}>
              <td>{c.name}{c.paused === true ? ' (paused)' : ''}</td>
              <td>{c.config.filter_subject ?? c.config.filter_subjects?.join(' ') ?? ''}</td>
              <td>{c.config.ack_policy ?? ''}</td>
              <td data-col="pending">{c.num_pending}</td>
              <td data-col="ack-pending">{c.num_ack_pending}</td>
              <td data-col="redelivered">{c.num_redelivered}</td>
              <td>{c.num_waiting}</td>
              <td data-col="ack-floor">{c.ack_floor.stream_seq} / {c.ack_floor.consumer_seq}</td>
              <td data-col="delivered">{c.delivered.stream_seq} / {c.delivered.consumer_seq}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown === undefined ? null : (
        <>
          <h4>{shown.name} configuration <small>created {shown.created}</small></h4>
          <pre class="config" data-testid="consumer-config">{JSON.stringify(shown.config, null, 2)}</pre>
        </>
      )}
    </>
  );
}
