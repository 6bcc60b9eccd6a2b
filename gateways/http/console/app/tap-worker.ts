/// <reference lib="webworker" />
// The subject tap's reader, off the page's main thread: at 50,000 msg/s the
// per-message work (reading, splitting, parsing the NDJSON stream of
// /v1/subjects) happens here, and the page gets one small report every
// REPORT_MS with the newest TAP_WINDOW messages and the count, so the page
// renders at a fixed rate whatever the traffic. fetch sends the session cookie
// (same origin) and, unlike EventSource, shows a refusal's status and reason.

import { TAP_WINDOW, type TapMessage, type TapReport, type TapStart } from './tap-protocol.ts';

const REPORT_MS = 200;

interface Envelope {
  subject: string;
  data?: string;
  data_base64?: string;
  event?: string;
  reason?: string;
}

let total = 0;
let state = 'connecting';
/** Raw lines of the newest messages since the last report (parsed when reported). */
let newest: Array<{ n: number; at: number; line: string }> = [];

function pretty(message: Envelope): string {
  if (message.data === undefined) return `base64 ${message.data_base64 ?? ''}`;
  try {
    return JSON.stringify(JSON.parse(message.data));
  } catch {
    return message.data;
  }
}

function report(): void {
  const fresh = newest.slice(-TAP_WINDOW).reverse().map(({ n, at, line }): TapMessage => {
    const message = JSON.parse(line) as Envelope;
    return { n, at: new Date(at).toISOString().slice(11, 23), subject: message.subject, payload: pretty(message) };
  });
  newest = [];
  postMessage({ total, fresh, state } satisfies TapReport);
}

async function read(subject: string): Promise<void> {
  const response = await fetch(`/v1/subjects/${encodeURIComponent(subject)}`, { headers: { accept: 'application/x-ndjson' }, credentials: 'same-origin' });
  if (!response.ok || response.body === null) {
    let detail = response.statusText;
    try {
      detail = ((await response.json()) as { detail?: string }).detail ?? detail;
    } catch {
      // not a problem document
    }
    state = `refused (${response.status}): ${detail}`;
    return;
  }
  state = 'live';
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue; // heartbeat
      if (line.startsWith('{"event"')) {
        const control = JSON.parse(line) as Envelope;
        state = `${control.event}: ${control.reason ?? ''}`;
        continue;
      }
      total++;
      newest.push({ n: total, at: Date.now(), line });
      if (newest.length > TAP_WINDOW * 2) newest = newest.slice(-TAP_WINDOW);
    }
  }
}

onmessage = (event: MessageEvent<TapStart>) => {
  setInterval(report, REPORT_MS);
  for (const subject of event.data.subjects) {
    read(subject).catch((error: Error) => {
      state = `failed: ${error.message}`;
    });
  }
};
