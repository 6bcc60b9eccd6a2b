// Overview: health, connections by protocol, messages and bytes in/out per
// second as live charts, dropped messages by reason, slow consumers, memory and
// CPU. Traffic comes from /metrics (every protocol's counters, served under /v1
// so the session cookie reaches it), rates are deltas between one-second polls;
// memory, CPU and slow consumers from /varz.

import { useRef, useState } from 'preact/hooks';
import { getJson, getText } from './api.ts';
import { samplesOf, sumBy } from './prometheus-samples.ts';
import { RateChart } from './rate-chart.tsx';
import { usePoll } from './use-poll.ts';

interface Varz {
  slow_consumers: number;
  mem: number;
  cpu: number;
  uptime: string;
  server_name?: string;
  version?: string;
}

/** Samples the charts keep: two minutes at one a second. */
const WINDOW = 120;

const TRAFFIC = ['switchboard_messages_received_total', 'switchboard_messages_sent_total', 'switchboard_bytes_received_total', 'switchboard_bytes_sent_total'];
const WANTED = new Set([...TRAFFIC, 'switchboard_connections', 'switchboard_dropped_messages_total']);

const PROTOCOLS: Array<[string, string]> = [
  ['nats', 'NATS'],
  ['websocket-nats', 'NATS over WebSocket'],
  ['mqtt', 'MQTT'],
  ['websocket-mqtt', 'MQTT over WebSocket'],
  ['http-stream', 'HTTP streams'],
  ['kafka-mapping', 'Kafka mappings'],
];

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

interface Snapshot {
  varz: Varz;
  connections: Map<string, number>;
  dropped: Array<{ protocol: string; reason: string; value: number }>;
}

export function Overview() {
  const previous = useRef<{ at: number; totals: number[] } | null>(null);
  const [rates, setRates] = useState<number[][]>(() => [[], [], [], [], []]);
  const polled = usePoll(async (): Promise<Snapshot> => {
    const [varz, text] = await Promise.all([getJson<Varz>('/v1/monitor/varz'), getText('/v1/monitor/metrics')]);
    const samples = samplesOf(text, WANTED);
    const at = Date.now() / 1000;
    const totals = TRAFFIC.map((name) => sumBy(samples, name).get('') ?? 0);
    const last = previous.current;
    if (last !== null && at > last.at) {
      const next = [at, ...totals.map((total, i) => Math.max(0, (total - last.totals[i]) / (at - last.at)))];
      setRates((old) => old.map((column, i) => [...column.slice(-(WINDOW - 1)), next[i]]));
    }
    previous.current = { at, totals };
    const dropped = samples
      .filter((s) => s.name === 'switchboard_dropped_messages_total' && s.value > 0)
      .map((s) => ({ protocol: s.labels.protocol ?? '', reason: s.labels.reason ?? '', value: s.value }));
    return { varz, connections: sumBy(samples, 'switchboard_connections', 'type'), dropped };
  }, 1000);

  const snapshot = polled.value;
  const v = snapshot?.varz ?? null;
  const healthy = polled.error === null && v !== null;
  const latest = (i: number): string => (rates[i].length === 0 ? '–' : Math.round(rates[i][rates[i].length - 1]).toLocaleString('en'));
  const totalConnections = [...(snapshot?.connections.values() ?? [])].reduce((a, b) => a + b, 0);
  return (
    <section>
      <h2>Overview {v?.server_name === undefined ? '' : <small>{v.server_name} {v.version}</small>}</h2>
      {polled.error === null ? null : <p class="error">{polled.error}</p>}
      <div class="cards">
        <div class={`card ${healthy ? 'ok' : 'bad'}`}><b>{healthy ? 'healthy' : 'unreachable'}</b><span>up {v?.uptime ?? '–'}</span></div>
        <div class="card" data-testid="msgs-in"><b>{latest(1)}</b><span>msgs/s in</span></div>
        <div class="card" data-testid="msgs-out"><b>{latest(2)}</b><span>msgs/s out</span></div>
        <div class={`card ${(v?.slow_consumers ?? 0) > 0 ? 'warn' : ''}`}><b>{v?.slow_consumers ?? '–'}</b><span>slow consumers</span></div>
        <div class="card"><b>{v === null ? '–' : bytes(v.mem)}</b><span>memory</span></div>
        <div class="card"><b>{v === null ? '–' : `${v.cpu.toFixed(1)} %`}</b><span>CPU</span></div>
      </div>
      <h3>Connections by protocol <small>{totalConnections} in all</small></h3>
      <div class="cards" data-testid="by-protocol">
        {PROTOCOLS.map(([type, label]) => (
          <div class="card" data-protocol={type}><b>{snapshot?.connections.get(type) ?? 0}</b><span>{label}</span></div>
        ))}
      </div>
      <div class="charts">
        <RateChart title="Messages / s (all protocols)" testId="chart-msgs" data={[rates[0], rates[1], rates[2]]} series={[{ label: 'in', stroke: '#2f7de1' }, { label: 'out', stroke: '#e1742f' }]} format={(n) => compact.format(n)} />
        <RateChart title="Payload bytes / s" testId="chart-bytes" data={[rates[0], rates[3], rates[4]]} series={[{ label: 'in', stroke: '#2f7de1' }, { label: 'out', stroke: '#e1742f' }]} format={(n) => bytes(n)} />
      </div>
      <h3>Dropped messages</h3>
      {snapshot === null || snapshot.dropped.length === 0 ? (
        <p class="hint" data-testid="dropped">none</p>
      ) : (
        <div class="cards" data-testid="dropped">
          {snapshot.dropped.map((d) => (
            <div class="card warn"><b>{d.value.toLocaleString('en')}</b><span>{d.protocol}: {d.reason.replace(/_/g, ' ')}</span></div>
          ))}
        </div>
      )}
    </section>
  );
}
