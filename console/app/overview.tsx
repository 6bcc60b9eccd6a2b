// Overview: connections by protocol (/connz types), message and byte rates as
// live charts (deltas of /varz counters between polls), slow consumers, memory
// and CPU.

import { useRef, useState } from 'preact/hooks';
import { getJson } from './api.ts';
import { RateChart } from './rate-chart.tsx';
import { usePoll } from './use-poll.ts';

interface Varz {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  slow_consumers: number;
  mem: number;
  cpu: number;
  uptime: string;
  server_name?: string;
  version?: string;
}

interface Connz {
  total: number;
  connections: Array<{ type?: string }>;
}

/** Samples the charts keep: two minutes at one a second. */
const WINDOW = 120;

const PROTOCOLS: Array<[string, string]> = [
  ['nats', 'NATS'],
  ['websocket-nats', 'NATS over WebSocket'],
  ['mqtt', 'MQTT'],
  ['websocket-mqtt', 'MQTT over WebSocket'],
  ['http-stream', 'HTTP streams'],
  ['kafka-mapping', 'Kafka mappings'],
];

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function Overview() {
  const previous = useRef<{ at: number; varz: Varz } | null>(null);
  const [rates, setRates] = useState<number[][]>(() => [[], [], [], [], []]);
  const varz = usePoll(async () => {
    const now = await getJson<Varz>('/v1/monitor/varz');
    const at = Date.now() / 1000;
    const last = previous.current;
    if (last !== null && at > last.at) {
      const dt = at - last.at;
      const per = (key: keyof Varz): number => Math.max(0, ((now[key] as number) - (last.varz[key] as number)) / dt);
      setRates((old) => {
        const next = [at, per('in_msgs'), per('out_msgs'), per('in_bytes'), per('out_bytes')];
        return old.map((column, i) => [...column.slice(-(WINDOW - 1)), next[i]]);
      });
    }
    previous.current = { at, varz: now };
    return now;
  }, 1000);
  const connz = usePoll(() => getJson<Connz>('/v1/monitor/connz?limit=100000'), 2000);

  const byType = new Map<string, number>();
  for (const c of connz.value?.connections ?? []) byType.set(c.type ?? 'nats', (byType.get(c.type ?? 'nats') ?? 0) + 1);
  const v = varz.value;
  const latest = (i: number): string => (rates[i].length === 0 ? '–' : Math.round(rates[i][rates[i].length - 1]).toLocaleString());
  return (
    <section>
      <h2>Overview {v?.server_name === undefined ? '' : <small>{v.server_name} {v.version}</small>}</h2>
      {varz.error === null ? null : <p class="error">{varz.error}</p>}
      <div class="cards">
        <div class={`card ${varz.error === null && v !== null ? 'ok' : 'bad'}`}><b>{varz.error === null && v !== null ? 'healthy' : 'unreachable'}</b><span>up {v?.uptime ?? '–'}</span></div>
        <div class="card" data-testid="msgs-in"><b>{latest(1)}</b><span>msgs/s in</span></div>
        <div class="card"><b>{latest(2)}</b><span>msgs/s out</span></div>
        <div class={`card ${(v?.slow_consumers ?? 0) > 0 ? 'warn' : ''}`}><b>{v?.slow_consumers ?? '–'}</b><span>slow consumers</span></div>
        <div class="card"><b>{v === null ? '–' : bytes(v.mem)}</b><span>memory</span></div>
        <div class="card"><b>{v === null ? '–' : `${v.cpu.toFixed(1)} %`}</b><span>CPU</span></div>
      </div>
      <h3>Connections by protocol <small>{connz.value?.total ?? 0} in all</small></h3>
      <div class="cards" data-testid="by-protocol">
        {PROTOCOLS.map(([type, label]) => (
          <div class="card" data-protocol={type}><b>{byType.get(type) ?? 0}</b><span>{label}</span></div>
        ))}
      </div>
      <div class="charts">
        <RateChart title="Messages / s" testId="chart-msgs" data={[rates[0], rates[1], rates[2]]} series={[{ label: 'in', stroke: '#2f7de1' }, { label: 'out', stroke: '#e1742f' }]} />
        <RateChart title="Bytes / s" testId="chart-bytes" data={[rates[0], rates[3], rates[4]]} series={[{ label: 'in', stroke: '#2f7de1' }, { label: 'out', stroke: '#e1742f' }]} />
      </div>
    </section>
  );
}
