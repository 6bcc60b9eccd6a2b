// Origin checks at WebSocket upgrade, with nats-server's rules (ANCHORS §6,
// NS server/websocket.go checkOrigin): the check applies only when the request
// carries an Origin header, as browsers always do; a dedicated client can send
// any Origin it likes (RFC 6455 §1.6), so a missing one is accepted. Scheme,
// host and port must match exactly; a missing port means 80 for http and 443
// for https.

export interface OriginPolicyOptions {
  /** Accepted origins (`http://app.example.com:8000`). Empty = any origin. */
  allowedOrigins?: readonly string[];
  /** The Origin must equal the scheme, host and port the request was sent to. */
  sameOrigin?: boolean;
}

/** Why an upgrade was refused; the gateway answers it with HTTP 403. */
export class OriginRejectedError extends Error {
  override readonly name = 'OriginRejectedError';
  constructor(readonly origin: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`origin not allowed: ${reason} (Origin: ${origin})`, options);
  }
}

/** A configured origin that cannot be parsed is a startup error, not a silent deny. */
export class OriginConfigError extends Error {
  override readonly name = 'OriginConfigError';
  constructor(readonly origin: string, options?: { cause?: unknown }) {
    super(`allowed_origins entry is not a URL with scheme and host: ${JSON.stringify(origin)}`, options);
  }
}

interface NormalizedOrigin {
  scheme: string;
  host: string;
  port: string;
}

export class OriginPolicy {
  private readonly allowed: NormalizedOrigin[];
  private readonly sameOrigin: boolean;

  constructor(options: OriginPolicyOptions = {}) {
    this.sameOrigin = options.sameOrigin ?? false;
    this.allowed = (options.allowedOrigins ?? []).map((entry) => {
      const parsed = parseOrigin(entry);
      if (parsed === null) throw new OriginConfigError(entry);
      return parsed;
    });
  }

  get checksOrigins(): boolean {
    return this.sameOrigin || this.allowed.length > 0;
  }

  /**
   * Throws OriginRejectedError when the request may not upgrade.
   * `requestHost` is the Host header; `secure` says whether it arrived over TLS.
   */
  check(origin: string | undefined, requestHost: string | undefined, secure: boolean): void {
    if (!this.checksOrigins || origin === undefined || origin === '') return;
    const parsed = parseOrigin(origin);
    if (parsed === null) throw new OriginRejectedError(origin, 'malformed Origin header');
    if (this.sameOrigin) {
      const scheme = secure ? 'https' : 'http';
      const target = requestHost === undefined ? null : splitHostPort(requestHost, scheme);
      if (target === null || parsed.scheme !== scheme || parsed.host !== target.host || parsed.port !== target.port) {
        throw new OriginRejectedError(origin, 'not same origin');
      }
      // Like nats-server, same_origin and a list may both apply: fall through.
    }
    if (this.allowed.length > 0 && !this.allowed.some((a) => a.scheme === parsed.scheme && a.host === parsed.host && a.port === parsed.port)) {
      throw new OriginRejectedError(origin, 'not in the allowed list');
    }
  }
}

function defaultPort(scheme: string): string {
  return scheme === 'https' || scheme === 'wss' ? '443' : '80';
}

function parseOrigin(text: string): NormalizedOrigin | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.host === '') return null;
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  // URL drops a port equal to the scheme's default, so restore it for comparison.
  return { scheme, host: url.hostname.toLowerCase(), port: url.port === '' ? defaultPort(scheme) : url.port };
}

function splitHostPort(hostHeader: string, scheme: string): { host: string; port: string } | null {
  try {
    const url = new URL(`${scheme}://${hostHeader}`);
    return { host: url.hostname.toLowerCase(), port: url.port === '' ? defaultPort(scheme) : url.port };
  } catch {
    return null;
  }
}
