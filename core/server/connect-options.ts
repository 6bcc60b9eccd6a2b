// The CONNECT document a NATS client sends (ND nats-protocol README, CONNECT).
// Wire names stay in the wire type; this mapper gives the server typed options.
// Fields a client leaves out keep nats-server's defaults (verbose, pedantic and
// echo on), exactly as nats-server unmarshals CONNECT over its defaults.

export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  headers: boolean;
  noResponders: boolean;
  protocol: number;
  name: string;
  lang: string;
  version: string;
  authToken?: string;
  user?: string;
  pass?: string;
}

export class ConnectOptionsError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`invalid CONNECT: ${detail}`, options);
    this.name = 'ConnectOptionsError';
  }
}

export function parseConnectOptions(json: string): ConnectOptions {
  let wire: unknown;
  try {
    wire = JSON.parse(json);
  } catch (cause) {
    throw new ConnectOptionsError('not JSON', { cause });
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw new ConnectOptionsError('not a JSON object');
  const w = wire as Record<string, unknown>;
  return {
    verbose: bool(w.verbose, true),
    pedantic: bool(w.pedantic, true),
    echo: bool(w.echo, true),
    headers: bool(w.headers, false),
    noResponders: bool(w.no_responders, false),
    protocol: typeof w.protocol === 'number' ? w.protocol : 0,
    name: str(w.name) ?? '',
    lang: str(w.lang) ?? '',
    version: str(w.version) ?? '',
    authToken: str(w.auth_token),
    user: str(w.user),
    pass: str(w.pass),
  };
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
