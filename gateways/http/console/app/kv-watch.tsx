// A live watch of a bucket (the SSE of GET /v1/buckets/{bucket}/watch, opened
// by an EventSource on the session cookie): each change as it happens, the
// newest WATCH_WINDOW kept on screen.

import { useEffect, useState } from 'preact/hooks';
import { segment } from './api.ts';
import type { KvEntryJson } from './kv-history.tsx';
import { formatPayload } from './payload-format.ts';

const WATCH_WINDOW = 50;

export function KvWatch({ bucket }: { bucket: string }) {
  const [changes, setChanges] = useState<KvEntryJson[]>([]);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    setChanges([]);
    setState('connecting');
    const source = new EventSource(`/v1/buckets/${segment(bucket)}/watch`);
    source.onopen = () => setState('live');
    source.addEventListener('msg', (event) => {
      const entry = JSON.parse((event as MessageEvent<string>).data) as KvEntryJson;
      setChanges((old) => [entry, ...old].slice(0, WATCH_WINDOW));
    });
    // EventSource retries by itself after a dropped connection; a refusal (403, 404) closes it.
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'refused or ended' : 'reconnecting');
    return () => source.close();
  }, [bucket]);
  return (
    <div class="watch">
      <h3>Live watch of {bucket} <small data-testid="kv-watch-state">{state}</small></h3>
      <table data-testid="kv-watch">
        <thead><tr><th>Revision</th><th>Key</th><th>Operation</th><th>Value</th></tr></thead>
        <tbody>
          {changes.map((c) => (
            <tr key={c.revision}><td>{c.revision}</td><td>{c.key}</td><td>{c.operation}</td><td class="payload">{c.operation === 'PUT' ? formatPayload(c).text : ''}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
