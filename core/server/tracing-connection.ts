// Protocol tracing (-V): a Connection decorator that logs every operation a
// client sends (<<-) and every control line the server writes (->>), as
// nats-server's trace output does. Inbound bytes go through a second
// ClientParser, so the trace shows exactly what the server parsed; payloads
// are shown by size only. Only used when the log level is trace.

import type { Logger } from 'pino';
import { ClientParser, type ClientOpHandler } from '../protocol/client-parser.ts';
import type { Connection } from '../connection/connection.ts';

const MAX_TRACE = 256;

function clip(s: string): string {
  return s.length > MAX_TRACE ? `${s.slice(0, MAX_TRACE)}...` : s;
}

export class TracingConnection implements Connection {
  private readonly parser: ClientParser;
  private readonly log: Logger;

  constructor(private readonly inner: Connection, logger: Logger, limits: { maxControlLine: number; maxPayload: number }) {
    this.log = logger.child({ client: `${inner.remoteAddress}:${inner.remotePort}` });
    const log = this.log;
    const handler: ClientOpHandler = {
      onConnect: (json) => log.trace(`<<- [CONNECT ${clip(redact(json))}]`),
      onPub: (subject, reply, headerSize, _source, start, end) =>
        log.trace(`<<- [${headerSize >= 0 ? 'HPUB' : 'PUB'} ${subject}${reply ? ` ${reply}` : ''}${headerSize >= 0 ? ` ${headerSize}` : ''} ${end - start}]`),
      onSub: (subject, queue, sid) => log.trace(`<<- [SUB ${subject}${queue ? ` ${queue}` : ''} ${sid}]`),
      onUnsub: (sid, max) => log.trace(`<<- [UNSUB ${sid}${max > 0 ? ` ${max}` : ''}]`),
      onPing: () => log.trace('<<- [PING]'),
      onPong: () => log.trace('<<- [PONG]'),
      onParseError: (error) => log.trace(`<<- parse error: ${error.wireText}`),
    };
    this.parser = new ClientParser(handler, limits);
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get remotePort(): number {
    return this.inner.remotePort;
  }

  get transport(): Connection['transport'] {
    return this.inner.transport;
  }

  get tlsState(): Connection['tlsState'] {
    return this.inner.tlsState;
  }

  get writableLength(): number {
    return this.inner.writableLength;
  }

  write(chunks: readonly Buffer[]): boolean {
    for (const chunk of chunks) traceOutbound(chunk, this.log);
    return this.inner.write(chunks);
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.inner.onData((chunk) => {
      this.parser.parse(chunk);
      listener(chunk);
    });
  }

  onDrain(listener: () => void): void {
    this.inner.onDrain(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.inner.onClose(listener);
  }

  pauseReading(): void {
    this.inner.pauseReading?.();
  }

  resumeReading(): void {
    this.inner.resumeReading?.();
  }

  end(): void {
    this.inner.end();
  }

  destroy(): void {
    this.inner.destroy();
  }
}

/** Hide credentials in a traced CONNECT. */
function redact(json: string): string {
  return json.replace(/"(pass|auth_token|sig|jwt)"\s*:\s*"[^"]*"/g, '"$1":"[REDACTED]"');
}

/** Log the control lines of a batch the server wrote; MSG/HMSG payloads are skipped by size. */
function traceOutbound(chunk: Buffer, log: Logger): void {
  let at = 0;
  // Bounded: every step consumes at least one line of the chunk.
  while (at < chunk.length) {
    const nl = chunk.indexOf(10, at);
    if (nl < 0) return;
    const line = chunk.toString('latin1', at, nl > at && chunk[nl - 1] === 13 ? nl - 1 : nl);
    at = nl + 1;
    log.trace(`->> [${clip(line)}]`);
    if (line.startsWith('MSG ') || line.startsWith('HMSG ')) {
      const size = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(size)) at += size + 2;
    }
  }
}
