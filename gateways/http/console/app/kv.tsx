// KV: buckets, a bucket's keys, a key's value and history (kv-history.tsx);
// edit and save a value (a PUT with the user's Authorization: the cookie never
// writes); a live watch of the chosen bucket (kv-watch.tsx).

import { useEffect, useState } from 'preact/hooks';
import { getJson, getText, segment, write } from './api.ts';
import { KvHistory } from './kv-history.tsx';
import { KvWatch } from './kv-watch.tsx';
import { usePoll } from './use-poll.ts';

interface Bucket {
  bucket: string;
  values: number;
  history: number;
  bytes: number;
}

export function Kv() {
  const buckets = usePoll(() => getJson<{ buckets: Bucket[] }>('/v1/buckets'), 5000);
  const [bucket, setBucket] = useState<string | null>(null);
  const [key, setKey] = useState<string | null>(null);
  const keys = usePoll(() => (bucket === null ? Promise.resolve({ keys: [] as string[] }) : getJson<{ keys: string[] }>(`/v1/buckets/${segment(bucket)}/keys`)), 5000, [bucket]);
  const [value, setValue] = useState('');
  const [status, setStatus] = useState('');
  const [saved, setSaved] = useState(0);
  useEffect(() => {
    if (bucket === null || key === null) return;
    setStatus('');
    getText(`/v1/kv/${segment(bucket)}/${segment(key)}`).then(setValue, (error: Error) => setStatus(error.message));
  }, [bucket, key]);
  const save = async (): Promise<void> => {
    try {
      const { revision } = (await write('PUT', `/v1/kv/${segment(bucket!)}/${segment(key!)}`, value, 'application/octet-stream')) as { revision: number };
      setStatus(`saved, revision ${revision}`);
      setSaved(revision);
    } catch (error) {
      setStatus((error as Error).message);
    }
  };
  return (
    <section>
      <h2>Key-value buckets</h2>
      {buckets.error === null ? null : <p class="error">{buckets.error}</p>}
      <div class="columns">
        <ul class="list" data-testid="buckets">
          {(buckets.value?.buckets ?? []).map((b) => (
            <li class={b.bucket === bucket ? 'selected' : ''} onClick={() => (setBucket(b.bucket), setKey(null))}>
              {b.bucket} <small>{b.values} values</small>
            </li>
          ))}
        </ul>
        <ul class="list" data-testid="keys">
          {(keys.value?.keys ?? []).map((k) => (
            <li class={k === key ? 'selected' : ''} onClick={() => setKey(k)}>{k}</li>
          ))}
        </ul>
        {key === null ? (
          <p class="hint">{bucket === null ? 'Pick a bucket.' : 'Pick a key.'}</p>
        ) : (
          <div class="editor">
            <h3>{bucket} / {key}</h3>
            <textarea data-testid="value" value={value} onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} rows={8} />
            <button onClick={save}>Save</button> <span data-testid="kv-status">{status}</span>
            <KvHistory bucket={bucket!} keyName={key} version={saved} />
          </div>
        )}
      </div>
      {bucket === null ? null : <KvWatch bucket={bucket} />}
    </section>
  );
}
