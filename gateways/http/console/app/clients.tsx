// Clients: every connection /connz lists, any protocol, in one table sorted by
// any column and filtered by any text in a row; a client's id opens its page
// (client-detail.tsx).

import { useState } from 'preact/hooks';
import { getJson } from './api.ts';
import { usePoll } from './use-poll.ts';

interface Conn {
  cid: number;
  type?: string;
  ip: string;
  port: number;
  name?: string;
  authorized_user?: string;
  mqtt_client?: string;
  subscriptions: number;
  subscriptions_list?: string[];
  in_msgs: number;
  out_msgs: number;
  pending_bytes?: number;
  mqtt?: { in_flight: number; queued: number; subscriptions?: Array<{ topic_filter: string; qos: number }> };
}

interface Column {
  key: string;
  label: string;
  value(c: Conn): string | number;
}

const COLUMNS: Column[] = [
  { key: 'cid', label: 'CID', value: (c) => c.cid },
  { key: 'type', label: 'Protocol', value: (c) => c.type ?? 'nats' },
  { key: 'client', label: 'Client', value: (c) => c.mqtt_client ?? c.name ?? '' },
  { key: 'user', label: 'User', value: (c) => c.authorized_user ?? '' },
  { key: 'address', label: 'Address', value: (c) => `${c.ip}:${c.port}` },
  { key: 'subs', label: 'Subscriptions', value: (c) => c.mqtt?.subscriptions?.map((s) => s.topic_filter).join(' ') ?? c.subscriptions_list?.join(' ') ?? String(c.subscriptions) },
  { key: 'in', label: 'Msgs in', value: (c) => c.in_msgs },
  { key: 'out', label: 'Msgs out', value: (c) => c.out_msgs },
  { key: 'inflight', label: 'In flight / queued', value: (c) => (c.mqtt === undefined ? '' : `${c.mqtt.in_flight} / ${c.mqtt.queued}`) },
];

export function Clients() {
  const connz = usePoll(() => getJson<{ connections: Conn[] }>('/v1/monitor/connz?subs=1&auth=1&limit=100000'), 2000);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: string; descending: boolean }>({ key: 'cid', descending: false });
  const column = COLUMNS.find((c) => c.key === sort.key)!;
  const needle = filter.trim().toLowerCase();
  const rows = (connz.value?.connections ?? [])
    .filter((c) => needle === '' || COLUMNS.some((col) => String(col.value(c)).toLowerCase().includes(needle)))
    .sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.descending ? -order : order;
    });
  return (
    <section>
      <h2>Clients <small>{rows.length} shown</small></h2>
      {connz.error === null ? null : <p class="error">{connz.error}</p>}
      <input class="filter" placeholder="Filter: client id, user, address, protocol, subject…" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <table data-testid="clients">
        <thead>
          <tr>
            {COLUMNS.map((col) => (
              <th onClick={() => setSort({ key: col.key, descending: sort.key === col.key ? !sort.descending : false })}>
                {col.label}
                {sort.key === col.key ? (sort.descending ? ' ▾' : ' ▴') : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.cid}>
              {COLUMNS.map((col) => (
                <td data-col={col.key}>{col.key === 'cid' ? <a href={`#client/${c.cid}`}>{c.cid}</a> : col.value(c)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
