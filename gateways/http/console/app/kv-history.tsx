// A key's history (GET /v1/kv/{bucket}/{key}/history): every revision the
// bucket keeps, newest first, with its operation, time and value. `version`
// changes after a save, so the list reloads with the new revision.

import { useEffect, useState } from 'preact/hooks';
import { getJson, segment } from './api.ts';
import { PayloadView } from './payload-view.tsx';

export interface KvEntryJson {
  key: string;
  revision: number;
  operation: 'PUT' | 'DEL' | 'PURGE';
  created: string;
  data?: string;
  data_base64?: string;
}

export function KvHistory({ bucket, keyName, version }: { bucket: string; keyName: string; version: number }) {
  const [entries, setEntries] = useState<KvEntryJson[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    setError('');
    getJson<{ entries: KvEntryJson[] }>(`/v1/kv/${segment(bucket)}/${segment(keyName)}/history`).then(
      (answer) => setEntries([...answer.entries].reverse()),
      (e: Error) => setError(e.message),
    );
  }, [bucket, keyName, version]);
  return (
    <>
      <h4>History <small>{entries.length} revisions kept</small></h4>
      <span class="error">{error}</span>
      <table data-testid="kv-history">
        <thead><tr><th>Revision</th><th>Operation</th><th>Created</th><th>Value</th></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr data-revision={e.revision}><td>{e.revision}</td><td>{e.operation}</td><td>{e.created}</td><td>{e.operation === 'PUT' ? <PayloadView payload={e} /> : ''}</td></tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
