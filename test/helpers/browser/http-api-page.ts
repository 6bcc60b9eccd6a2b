// The script of the HTTP API browser test page (served from its own origin by
// page-server.ts): plain fetch and EventSource, as a web app would use the
// gateway from another origin. It exposes a small API on `window` so the test
// drives it and reads back exactly what the browser got.

export interface HttpPageApi {
  /** POST /v1/login with an Authorization header; the cookie is kept by the browser. Resolves with the status. */
  login(base: string, authorization: string): Promise<number>;
  /** A JSON publish with Authorization (a non-simple request: the browser preflights it). */
  publish(base: string, subject: string, json: unknown, authorization: string): Promise<{ status: number; body: string }>;
  /** A GET with the session cookie only. */
  get(base: string, path: string): Promise<number>;
  /** An EventSource with credentials (the session cookie) on a subject; collects `msg` event data. */
  stream(base: string, subject: string): void;
  /** What the EventSource got so far, and whether it failed. */
  streamState(): { messages: string[]; opened: boolean; failed: boolean; readyState: number };
  closeStream(): void;
}

declare global {
  interface Window {
    httpPage: HttpPageApi;
  }
}

let source: EventSource | null = null;
const state = { messages: [] as string[], opened: false, failed: false };

window.httpPage = {
  async login(base, authorization) {
    const res = await fetch(`${base}/v1/login`, { method: 'POST', credentials: 'include', headers: { authorization } });
    return res.status;
  },
  async publish(base, subject, json, authorization) {
    const res = await fetch(`${base}/v1/subjects/${encodeURIComponent(subject)}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', 'idempotency-key': `browser-${subject}` },
      body: JSON.stringify(json),
    });
    return { status: res.status, body: await res.text() };
  },
  async get(base, path) {
    return (await fetch(`${base}${path}`, { credentials: 'include' })).status;
  },
  stream(base, subject) {
    state.messages = [];
    state.opened = false;
    state.failed = false;
    source = new EventSource(`${base}/v1/subjects/${encodeURIComponent(subject)}`, { withCredentials: true });
    source.onopen = () => {
      state.opened = true;
      document.getElementById('status')!.textContent = 'streaming';
    };
    source.addEventListener('msg', (event) => {
      const { data } = JSON.parse((event as MessageEvent<string>).data) as { data: string };
      state.messages.push(data);
      const item = document.createElement('li');
      item.textContent = data;
      document.getElementById('received')!.append(item);
    });
    source.onerror = () => {
      // A refused EventSource (a non-200 answer) is closed by the browser for good.
      if (source?.readyState === EventSource.CLOSED) state.failed = true;
    };
  },
  streamState() {
    return { ...state, messages: [...state.messages], readyState: source?.readyState ?? -1 };
  },
  closeStream() {
    source?.close();
    source = null;
  },
};
