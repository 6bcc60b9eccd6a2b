// Streams: every stream the user may list, with its subjects, messages, bytes
// and consumers, refreshed every two seconds; a name opens the stream's page
// (stream-detail.tsx: consumers, messages).

import { getJson } from './api.ts';
import { usePoll } from './use-poll.ts';

interface StreamInfo {
  config: { name: string; subjects?: string[]; storage?: string; retention?: string };
  state: { messages: number; bytes: number; first_seq: number; last_seq: number; consumer_count: number };
}

export function Streams() {
  const streams = usePoll(() => getJson<{ streams: StreamInfo[] }>('/v1/streams'), 2000);
  return (
    <section>
      <h2>Streams</h2>
      {streams.error === null ? null : <p class="error">{streams.error}</p>}
      <table data-testid="streams">
        <thead>
          <tr><th>Name</th><th>Subjects</th><th>Messages</th><th>Bytes</th><th>Sequences</th><th>Consumers</th><th>Storage</th></tr>
        </thead>
        <tbody>
          {(streams.value?.streams ?? []).map((s) => (
            <tr key={s.config.name} data-stream={s.config.name}>
              <td><a href={`#stream/${encodeURIComponent(s.config.name)}`}>{s.config.name}</a></td>
              <td>{(s.config.subjects ?? []).join(' ')}</td>
              <td data-col="messages">{s.state.messages}</td>
              <td>{s.state.bytes}</td>
              <td>{s.state.first_seq}–{s.state.last_seq}</td>
              <td>{s.state.consumer_count}</td>
              <td>{s.config.storage ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
