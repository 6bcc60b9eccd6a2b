// Edge links (issue 22's last view, issue 23 item 5), every two seconds:
// - leafnode links from /v1/monitor/leafz: one row per configured remote (the
//   hub this server dials: connected or not, its link's figures while up, how
//   often it linked, the last error) and one per leaf that dialed in;
// - each stream's mirror or sources from GET /v1/streams: origin, external API
//   prefix, connected, lag, last seen, last transfer, backlog age, error.
// /leafz exists only with a `leafnodes` block: its 404 means none is
// configured, which the page says instead of an error (as kafka.tsx does).

import { ABSENT, getJson, getOptionalJson } from './api.ts';
import { usePoll } from './use-poll.ts';

/** One link of nats-server's /leafz `leafs` (pending_bytes where the server reports it). */
interface LeafLink {
  id?: number;
  name: string;
  is_spoke: boolean;
  ip: string;
  port: number;
  rtt: string;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  pending_bytes?: number;
}

/** Switchboard's per-remote state in /leafz `remotes`. */
interface LeafRemote {
  urls: string[];
  connected: boolean;
  link_id?: number;
  connects: number;
  last_error: string;
  last_connected?: string;
}

interface Leafz {
  leafs: LeafLink[];
  remotes?: LeafRemote[];
}

/** A mirror or source link in stream info (nats-server StreamSourceInfo with Switchboard's link state). */
interface SourceInfo {
  name: string;
  external?: { api: string; deliver?: string };
  lag: number;
  /** Nanoseconds since last heard from; -1: never, or failing. */
  active: number;
  error?: { code: number; err_code?: number; description: string };
  connected?: boolean;
  last_transfer?: string;
  /** Nanoseconds; 0 when caught up. */
  backlog_age?: number;
}

interface StreamInfo {
  config: { name: string };
  mirror?: SourceInfo;
  sources?: SourceInfo[];
}


/** A row of the leafnode table: a remote (with its link while up) or a leaf that dialed in. */
interface LeafRow {
  key: string;
  kind: 'remote' | 'accepted';
  peer: string;
  connected: boolean;
  link: LeafLink | undefined;
  remote: LeafRemote | undefined;
}

function leafRows(leafz: Leafz): LeafRow[] {
  const remotes = leafz.remotes ?? [];
  const joined = new Set(remotes.flatMap((r) => (r.link_id === undefined ? [] : [r.link_id])));
  const rows: LeafRow[] = remotes.map((r) => {
    const link = leafz.leafs.find((l) => l.id !== undefined && l.id === r.link_id);
    return { key: `remote ${r.urls.join(',')}`, kind: 'remote', peer: r.urls.join(', '), connected: r.connected, link, remote: r };
  });
  for (const l of leafz.leafs) {
    if (l.id !== undefined && joined.has(l.id)) continue;
    rows.push({ key: `leaf ${l.id ?? `${l.ip}:${l.port}`}`, kind: 'accepted', peer: `${l.name} (${l.ip}:${l.port})`, connected: true, link: l, remote: undefined });
  }
  return rows;
}

/** A nanosecond duration as seconds, for people. */
function seconds(ns: number): string {
  return `${(ns / 1e9).toFixed(1)} s`;
}

/** How long ago an RFC 3339 time was (server and browser clocks may differ a little: never below 0). */
function since(time: string | undefined): string {
  return time === undefined ? 'never' : `${seconds(Math.max(0, Date.now() - Date.parse(time)) * 1e6)} ago`;
}

function sourceState(s: SourceInfo): string {
  // nats-server (cluster mode) has no `connected`: a link without an error that was heard from is working.
  const up = s.connected ?? (s.error === undefined && s.active >= 0);
  return up ? 'connected' : 'disconnected';
}

function LeafnodeLinks({ leafz }: { leafz: Leafz }) {
  const rows = leafRows(leafz);
  if (rows.length === 0) return <p class="hint">No leafnode links yet.</p>;
  return (
    <table data-testid="leaf-links">
      <thead>
        <tr><th>Link</th><th>Peer</th><th>State</th><th>RTT</th><th>Msgs in</th><th>Msgs out</th><th>Bytes in</th><th>Bytes out</th><th>Pending bytes</th><th>Connects</th><th>Last error</th></tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key} data-link={row.kind} data-peer={row.peer} class={row.connected ? '' : 'warn'}>
            <td>{row.kind === 'remote' ? 'to hub' : 'from leaf'}</td>
            <td>{row.peer}</td>
            <td data-col="state">{row.connected ? 'connected' : 'disconnected'}</td>
            <td data-col="rtt">{row.link?.rtt ?? ''}</td>
            <td data-col="in-msgs">{row.link?.in_msgs ?? ''}</td>
            <td data-col="out-msgs">{row.link?.out_msgs ?? ''}</td>
            <td>{row.link?.in_bytes ?? ''}</td>
            <td>{row.link?.out_bytes ?? ''}</td>
            <td data-col="pending">{row.link?.pending_bytes ?? ''}</td>
            <td data-col="connects">{row.remote?.connects ?? ''}</td>
            <td data-col="last-error">{row.remote?.last_error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StreamLinks({ streams }: { streams: StreamInfo[] }) {
  const rows = streams.flatMap((s) => [
    ...(s.mirror === undefined ? [] : [{ stream: s.config.name, role: 'mirror', link: s.mirror }]),
    ...(s.sources ?? []).map((link) => ({ stream: s.config.name, role: 'source', link })),
  ]);
  if (rows.length === 0) return <p class="hint" data-testid="stream-links-none">No stream mirrors or sources.</p>;
  return (
    <table data-testid="stream-links">
      <thead>
        <tr><th>Stream</th><th>Role</th><th>Origin</th><th>External API</th><th>State</th><th>Lag (msgs)</th><th>Last seen</th><th>Last transfer</th><th>Backlog age</th><th>Error</th></tr>
      </thead>
      <tbody>
        {rows.map(({ stream, role, link }) => (
          <tr key={`${stream} ${role} ${link.name} ${link.external?.api ?? ''}`} data-stream={stream} data-origin={link.name} class={link.error === undefined ? '' : 'warn'}>
            <td><a href={`#stream/${encodeURIComponent(stream)}`}>{stream}</a></td>
            <td>{role}</td>
            <td>{link.name}</td>
            <td data-col="api">{link.external?.api ?? ''}</td>
            <td data-col="state">{sourceState(link)}</td>
            <td data-col="lag">{link.lag}</td>
            <td data-col="active">{link.active < 0 ? 'never' : `${seconds(link.active)} ago`}</td>
            <td data-col="last-transfer" title={link.last_transfer}>{since(link.last_transfer)}</td>
            <td data-col="backlog-age">{link.backlog_age === undefined ? '' : seconds(link.backlog_age)}</td>
            <td data-col="error">{link.error?.description ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Links() {
  const leaf = usePoll(() => getOptionalJson<Leafz>('/v1/monitor/leafz'), 2000);
  const streams = usePoll(() => getJson<{ streams: StreamInfo[] }>('/v1/streams'), 2000);
  const leafz = leaf.value;
  return (
    <section>
      <h2>Leafnode links</h2>
      {leaf.error === null ? null : <p class="error">{leaf.error}</p>}
      {leafz === ABSENT ? <p class="hint" data-testid="leaf-none">No leafnode links configured (add a <code>leafnodes</code> block with <code>remotes</code> or a <code>port</code>).</p> : null}
      {leafz === null || leafz === ABSENT ? null : <LeafnodeLinks leafz={leafz} />}
      <h2>Stream mirrors and sources</h2>
      {streams.error === null ? null : <p class="error">{streams.error}</p>}
      {streams.value === null ? null : <StreamLinks streams={streams.value.streams} />}
    </section>
  );
}
