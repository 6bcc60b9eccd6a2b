// One stream's page (#stream/<name>): its configuration and state, its
// consumers (stream-consumers.tsx) and its messages (stream-browser.tsx).

import { getJson, segment } from './api.ts';
import { StreamBrowser } from './stream-browser.tsx';
import { StreamConsumers } from './stream-consumers.tsx';
import { usePoll } from './use-poll.ts';

interface StreamInfo {
  config: Record<string, unknown>;
  state: { messages: number; bytes: number; first_seq: number; last_seq: number; first_ts?: string; last_ts?: string; num_subjects?: number; consumer_count: number };
}

export function StreamDetail({ args }: { args: string[] }) {
  const name = args[0] ?? '';
  const info = usePoll(() => getJson<StreamInfo>(`/v1/streams/${segment(name)}`), 2000, [name]);
  const state = info.value?.state;
  return (
    <section>
      <h2><a href="#streams">Streams</a> / {name}</h2>
      {info.error === null ? null : <p class="error">{info.error}</p>}
      {state === undefined ? null : (
        <div class="cards" data-testid="stream-state">
          <div class="card"><b>{state.messages.toLocaleString('en')}</b><span>messages</span></div>
          <div class="card"><b>{state.bytes.toLocaleString('en')}</b><span>bytes</span></div>
          <div class="card"><b>{state.first_seq}–{state.last_seq}</b><span>sequences</span></div>
          <div class="card"><b>{state.num_subjects ?? '–'}</b><span>subjects</span></div>
          <div class="card"><b>{state.consumer_count}</b><span>consumers</span></div>
        </div>
      )}
      <details>
        <summary>Configuration</summary>
        <pre class="config" data-testid="stream-config">{info.value === null ? '' : JSON.stringify(info.value.config, null, 2)}</pre>
      </details>
      <StreamConsumers stream={name} />
      <StreamBrowser stream={name} />
    </section>
  );
}
