// Browse a stream's stored messages from a sequence or from a time, a page at a
// time (GET /v1/streams/{name}/range), each with its headers and its payload
// shown as text, pretty-printed JSON or hex (payload-view.tsx).

import { useState } from 'preact/hooks';
import { getJson, segment } from './api.ts';
import { HeadersView, PayloadView } from './payload-view.tsx';

interface StoredMessage {
  seq: number;
  subject: string;
  time: string;
  size: number;
  headers?: Record<string, string[]>;
  data?: string;
  data_base64?: string;
}

const PAGE = 20;

export function StreamBrowser({ stream }: { stream: string }) {
  const [by, setBy] = useState<'seq' | 'time'>('seq');
  const [from, setFrom] = useState('1');
  const [subject, setSubject] = useState('');
  const [page, setPage] = useState<{ messages: StoredMessage[]; next_seq: number } | null>(null);
  const [error, setError] = useState('');
  const load = async (start: string, kind: 'seq' | 'time'): Promise<void> => {
    // A datetime-local value is local time without a zone: Date reads it as such.
    const query = kind === 'seq' ? `start_seq=${Number(start) || 1}` : `start_time=${encodeURIComponent(new Date(start).toISOString())}`;
    try {
      setError('');
      setPage(await getJson(`/v1/streams/${segment(stream)}/range?${query}&count=${PAGE}${subject === '' ? '' : `&subject=${encodeURIComponent(subject)}`}`));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const submit = (e: Event): void => {
    e.preventDefault();
    void load(from, by);
  };
  return (
    <>
      <h3>Messages</h3>
      <form class="row" onSubmit={submit}>
        <select data-testid="browse-by" value={by} onChange={(e) => (setBy((e.target as HTMLSelectElement).value as 'seq' | 'time'), setFrom(''))}>
          <option value="seq">from sequence</option>
          <option value="time">from time</option>
        </select>
        <input data-testid="browse-from" type={by === 'seq' ? 'number' : 'datetime-local'} step={by === 'time' ? 1 : undefined} min={by === 'seq' ? 1 : undefined} value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        <input placeholder="subject filter (optional)" value={subject} onInput={(e) => setSubject((e.target as HTMLInputElement).value)} />
        <button type="submit">Show</button>
        {page === null || page.messages.length < PAGE ? null : <button type="button" onClick={() => (setBy('seq'), setFrom(String(page.next_seq)), void load(String(page.next_seq), 'seq'))}>Next page</button>}
        <span class="error">{error}</span>
      </form>
      {page === null ? null : page.messages.length === 0 ? <p class="hint" data-testid="browse-empty">No messages from there.</p> : null}
      <div data-testid="messages">
        {(page?.messages ?? []).map((m) => (
          <article class="message" data-seq={m.seq}>
            <header><b>#{m.seq}</b> <code>{m.subject}</code> <small>{m.time} · {m.size} bytes</small></header>
            <HeadersView headers={m.headers} />
            <PayloadView payload={m} />
          </article>
        ))}
      </div>
    </>
  );
}
