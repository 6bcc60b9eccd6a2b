// Subject tap: watch a NATS subject or an MQTT topic filter live (a stream of
// /v1/subjects, the session cookie authenticating it), publish a test message
// or send a request (tap-request.tsx). The stream is read by a worker
// (tap-worker.ts) that reports a few times a second with the newest TAP_WINDOW
// messages and a count: at any rate the page renders a bounded window and says
// how many it skipped.

import { useEffect, useState } from 'preact/hooks';
import { filterToSubjects } from '../../../mqtt/topic-mapping.ts';
import { segment, write } from './api.ts';
import { TapRequest } from './tap-request.tsx';
import { TAP_WINDOW, type TapMessage, type TapReport, type TapStart } from './tap-protocol.ts';

export function Tap() {
  const [mode, setMode] = useState<'nats' | 'mqtt'>('nats');
  const [filter, setFilter] = useState('>');
  const [tapping, setTapping] = useState<string[] | null>(null);
  const [shown, setShown] = useState<TapMessage[]>([]);
  const [total, setTotal] = useState(0);
  const [state, setState] = useState('');
  const [pubSubject, setPubSubject] = useState('');
  const [pubPayload, setPubPayload] = useState('hello from the console');
  const [pubStatus, setPubStatus] = useState('');

  useEffect(() => {
    if (tapping === null) return;
    setShown([]);
    setTotal(0);
    setState('connecting');
    const worker = new Worker('/console/tap-worker.js', { type: 'module' });
    worker.onmessage = (event: MessageEvent<TapReport>) => {
      const report = event.data;
      setState(report.state);
      setTotal(report.total);
      if (report.fresh.length > 0) setShown((old) => [...report.fresh, ...old].slice(0, TAP_WINDOW));
    };
    worker.postMessage({ subjects: tapping } satisfies TapStart);
    return () => worker.terminate();
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
        <b data-testid="tap-total">{total}</b> received, showing the newest {shown.length}, <b data-testid="tap-skipped">{total - shown.length}</b> skipped
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
      <TapRequest />
    </section>
  );
}
