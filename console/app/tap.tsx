// Subject tap: watch a NATS subject or an MQTT topic filter live (SSE on
// /v1/subjects, the session cookie authenticating it), and publish a test
// message. At any rate it shows a bounded window: arrivals are buffered and
// drawn once per animation frame, the newest WINDOW kept, the rest counted as
// skipped, so 50,000 msg/s cost one render a frame.

import { useEffect, useRef, useState } from 'preact/hooks';
import { filterToSubjects } from '../../gateways/mqtt/topic-mapping.ts';
import { segment, write } from './api.ts';

const WINDOW = 200;

interface Envelope {
  subject: string;
  data?: string;
  data_base64?: string;
  size: number;
}

interface Shown {
  n: number;
  at: string;
  subject: string;
  payload: string;
}

function pretty(message: Envelope): string {
  if (message.data === undefined) return `base64 ${message.data_base64 ?? ''}`;
  try {
    return JSON.stringify(JSON.parse(message.data));
  } catch {
    return message.data;
  }
}

export function Tap() {
  const [mode, setMode] = useState<'nats' | 'mqtt'>('nats');
  const [filter, setFilter] = useState('>');
  const [tapping, setTapping] = useState<string[] | null>(null);
  const [shown, setShown] = useState<Shown[]>([]);
  const [counts, setCounts] = useState({ total: 0, skipped: 0 });
  const [state, setState] = useState('');
  const [pubSubject, setPubSubject] = useState('');
  const [pubPayload, setPubPayload] = useState('hello from the console');
  const [pubStatus, setPubStatus] = useState('');
  const pending = useRef<Shown[]>([]);
  const total = useRef(0);

  useEffect(() => {
    if (tapping === null) return;
    pending.current = [];
    total.current = 0;
    setShown([]);
    setCounts({ total: 0, skipped: 0 });
    setState('connecting');
    const sources = tapping.map((subject) => new EventSource(`/v1/subjects/${segment(subject)}`, { withCredentials: true }));
    let frame = 0;
    const flush = (): void => {
      frame = 0;
      const fresh = pending.current;
      pending.current = [];
      setShown((old) => [...fresh.slice(-WINDOW).reverse(), ...old].slice(0, WINDOW));
      setCounts({ total: total.current, skipped: Math.max(0, total.current - WINDOW) });
    };
    for (const source of sources) {
      source.onopen = () => setState('live');
      source.addEventListener('msg', (event) => {
        const message = JSON.parse((event as MessageEvent<string>).data) as Envelope;
        total.current++;
        pending.current.push({ n: total.current, at: new Date().toISOString().slice(11, 23), subject: message.subject, payload: pretty(message) });
        // Only the newest WINDOW can ever be shown; drop the rest before rendering.
        if (pending.current.length > WINDOW * 2) pending.current = pending.current.slice(-WINDOW);
        if (frame === 0) frame = requestAnimationFrame(flush);
      });
      source.onerror = () => {
        // A refused stream (401/403/400) is closed by the browser for good.
        if (source.readyState === EventSource.CLOSED) setState('refused: no permission to subscribe, or not a valid subject');
      };
    }
    return () => {
      for (const source of sources) source.close();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, [tapping]);

  const start = (e: Event): void => {
    e.preventDefault();
    try {
      setTapping(mode === 'mqtt' ? filterToSubjects(filter) : [filter]);
    } catch (error) {
      setState((error as Error).message);
    }
  };
  const publish = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      await write('POST', `/v1/subjects/${segment(pubSubject)}`, pubPayload);
      setPubStatus(`published to ${pubSubject}`);
    } catch (error) {
      setPubStatus((error as Error).message);
    }
  };
  return (
    <section>
      <h2>Subject tap</h2>
      <form class="row" onSubmit={start}>
        <select value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value as 'nats' | 'mqtt')} data-testid="tap-mode">
          <option value="nats">NATS subject</option>
          <option value="mqtt">MQTT topic filter</option>
        </select>
        <input data-testid="tap-filter" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        <button type="submit">Tap</button>
        {tapping === null ? null : <button type="button" onClick={() => (setTapping(null), setState('stopped'))}>Stop</button>}
        <span data-testid="tap-state" class="state">{state}</span>
      </form>
      <p>
        <b data-testid="tap-total">{counts.total}</b> received, showing the newest {Math.min(counts.total, WINDOW)}, <b data-testid="tap-skipped">{counts.skipped}</b> skipped
        {tapping === null ? '' : ` (subscribed to ${tapping.join(', ')})`}
      </p>
      <table data-testid="tap">
        <thead><tr><th>#</th><th>Time</th><th>Subject</th><th>Payload</th></tr></thead>
        <tbody>
          {shown.map((m) => (
            <tr key={m.n}><td>{m.n}</td><td>{m.at}</td><td>{m.subject}</td><td class="payload">{m.payload}</td></tr>
          ))}
        </tbody>
      </table>
      <h3>Publish a test message</h3>
      <form class="row" onSubmit={publish}>
        <input data-testid="pub-subject" placeholder="subject" value={pubSubject} required onInput={(e) => setPubSubject((e.target as HTMLInputElement).value)} />
        <input data-testid="pub-payload" class="wide" value={pubPayload} onInput={(e) => setPubPayload((e.target as HTMLInputElement).value)} />
        <button type="submit">Publish</button> <span data-testid="pub-status">{pubStatus}</span>
      </form>
    </section>
  );
}
