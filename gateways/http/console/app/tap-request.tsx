// Send a request from the tap (POST /v1/subjects/{s}?request=1): the first
// reply's headers and payload, or the gateway's no-responders (503) or timeout
// (504) problem, shown as it came.

import { useState } from 'preact/hooks';
import { ApiError, segment, send } from './api.ts';
import type { EnvelopePayload } from './payload-format.ts';
import { PayloadView } from './payload-view.tsx';

interface Reply {
  ms: number;
  contentType: string;
  headers: Record<string, string[]>;
  payload: EnvelopePayload;
}

/** The reply body as an envelope payload: UTF-8 as text, anything else as base64 (shown as hex). */
function payloadOf(body: ArrayBuffer): EnvelopePayload {
  try {
    return { data: new TextDecoder('utf-8', { fatal: true }).decode(body) };
  } catch {
    const bytes = new Uint8Array(body);
    let binary = '';
    // In slices: one spread of a 1 MiB payload would overflow the call stack.
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { data_base64: btoa(binary) };
  }
}

/** The reply's NATS headers as the gateway returns them (README "Headers": Nats-*, X-Nats-Header-*, X-Nats-Status). */
function natsHeadersOf(response: Response): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  response.headers.forEach((value, name) => {
    if (name.startsWith('nats-') || name.startsWith('x-nats-')) headers[name.replace(/^x-nats-header-/, '')] = [value];
  });
  return headers;
}

export function TapRequest() {
  const [subject, setSubject] = useState('');
  const [payload, setPayload] = useState('');
  const [timeoutMs, setTimeoutMs] = useState('2000');
  const [reply, setReply] = useState<Reply | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const request = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setReply(null);
    setError('');
    const started = performance.now();
    try {
      const response = await send('POST', `/v1/subjects/${segment(subject)}?request=1&timeout=${Number(timeoutMs) || 2000}`, payload);
      setReply({ ms: Math.round(performance.now() - started), contentType: response.headers.get('content-type') ?? '', headers: natsHeadersOf(response), payload: payloadOf(await response.arrayBuffer()) });
    } catch (failure) {
      setError(failure instanceof ApiError ? `${failure.status}: ${failure.message.replace(/^\d+ on [^:]+: /, '')}` : (failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h3>Send a request</h3>
      <form class="row" onSubmit={request}>
        <input data-testid="req-subject" placeholder="subject" value={subject} required onInput={(e) => setSubject((e.target as HTMLInputElement).value)} />
        <input data-testid="req-payload" class="wide" placeholder="request payload" value={payload} onInput={(e) => setPayload((e.target as HTMLInputElement).value)} />
        <label>timeout ms <input data-testid="req-timeout" type="number" min={1} value={timeoutMs} onInput={(e) => setTimeoutMs((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" disabled={busy}>Request</button>
      </form>
      {error === '' ? null : <p class="error" data-testid="req-error">{error}</p>}
      {reply === null ? null : (
        <div data-testid="req-reply">
          <small>reply in {reply.ms} ms · {reply.contentType}</small>
          {Object.entries(reply.headers).map(([name, [value]]) => <div><code>{name}: {value}</code></div>)}
          <PayloadView payload={reply.payload} />
        </div>
      )}
    </>
  );
}
