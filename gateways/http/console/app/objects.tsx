// Object stores: buckets (GET /v1/objects), a bucket's objects with their sizes,
// chunks, times and digests (GET /v1/objects/{bucket}), and a download link per
// object (a plain GET the session cookie authenticates).

import { useState } from 'preact/hooks';
import { getJson, segment } from './api.ts';
import { usePoll } from './use-poll.ts';

interface ObjectBucket {
  bucket: string;
  description?: string;
  bytes: number;
  storage?: string;
}

interface ObjectInfo {
  name: string;
  size: number;
  chunks: number;
  mtime: string;
  digest: string;
  deleted?: boolean;
  headers?: Record<string, string[]>;
}

const size = new Intl.NumberFormat('en');

export function Objects() {
  const buckets = usePoll(() => getJson<{ buckets: ObjectBucket[] }>('/v1/objects'), 5000);
  const [bucket, setBucket] = useState<string | null>(null);
  const objects = usePoll(() => (bucket === null ? Promise.resolve({ objects: [] as ObjectInfo[] }) : getJson<{ objects: ObjectInfo[] }>(`/v1/objects/${segment(bucket)}`)), 5000, [bucket]);
  const list = (objects.value?.objects ?? []).filter((o) => o.deleted !== true);
  return (
    <section>
      <h2>Object stores</h2>
      {buckets.error === null ? null : <p class="error">{buckets.error}</p>}
      <div class="columns">
        <ul class="list" data-testid="object-buckets">
          {(buckets.value?.buckets ?? []).map((b) => (
            <li class={b.bucket === bucket ? 'selected' : ''} onClick={() => setBucket(b.bucket)}>
              {b.bucket} <small>{size.format(b.bytes)} bytes</small>
            </li>
          ))}
        </ul>
        {bucket === null ? (
          <p class="hint">Pick a bucket.</p>
        ) : (
          <div class="editor">
            {objects.error === null ? null : <p class="error">{objects.error}</p>}
            <table data-testid="objects">
              <thead><tr><th>Name</th><th>Size</th><th>Chunks</th><th>Modified</th><th>Type</th><th>Digest</th><th></th></tr></thead>
              <tbody>
                {list.map((o) => (
                  <tr data-object={o.name}>
                    <td>{o.name}</td>
                    <td data-col="size">{size.format(o.size)}</td>
                    <td>{o.chunks}</td>
                    <td>{o.mtime}</td>
                    <td>{o.headers?.['Content-Type']?.[0] ?? ''}</td>
                    <td class="payload">{o.digest}</td>
                    <td><a href={`/v1/objects/${segment(bucket)}/${segment(o.name)}`} download={o.name.split('/').pop()}>Download</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
