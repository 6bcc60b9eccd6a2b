// Credentials a browser can present at the WebSocket upgrade, where page script
// cannot set headers but cookies and a proxy's Authorization header do arrive.
// nats-server reads them from configured cookies (NS server/opts.go
// WebsocketOpts: username_cookie, password_cookie, token_cookie) and uses them
// only when CONNECT carries none; the core applies the same precedence, so all
// this file does is read them.

import type { Credentials } from '../../core/auth/authorizer.ts';

export interface UpgradeCredentialOptions {
  /** Cookie carrying the token (nats-server `token_cookie`). */
  tokenCookie?: string;
  /** Cookie carrying the user name (nats-server `username_cookie`). */
  usernameCookie?: string;
  /** Cookie carrying the password (nats-server `password_cookie`). */
  passwordCookie?: string;
  /** Read `Authorization: Bearer <token>` and `Basic <user:pass>` (default true). */
  authorizationHeader?: boolean;
}

interface UpgradeHeaders {
  cookie?: string | undefined;
  authorization?: string | undefined;
}

/** Credentials from the upgrade request, or undefined when it carries none. */
export function readUpgradeCredentials(headers: UpgradeHeaders, options: UpgradeCredentialOptions): Credentials | undefined {
  const found: Credentials = {};
  if (options.authorizationHeader !== false && headers.authorization !== undefined) {
    Object.assign(found, parseAuthorization(headers.authorization));
  }
  // Cookies are what a browser sends on its own, so they win over a header a proxy may add.
  if (headers.cookie !== undefined && (options.tokenCookie || options.usernameCookie || options.passwordCookie)) {
    const cookies = parseCookies(headers.cookie);
    if (options.tokenCookie && cookies.has(options.tokenCookie)) found.token = cookies.get(options.tokenCookie);
    if (options.usernameCookie && cookies.has(options.usernameCookie)) found.user = cookies.get(options.usernameCookie);
    if (options.passwordCookie && cookies.has(options.passwordCookie)) found.pass = cookies.get(options.passwordCookie);
  }
  return found.token === undefined && found.user === undefined && found.pass === undefined ? undefined : found;
}

function parseAuthorization(value: string): Credentials {
  const space = value.indexOf(' ');
  if (space < 0) return {};
  const scheme = value.slice(0, space).toLowerCase();
  const rest = value.slice(space + 1).trim();
  if (scheme === 'bearer' && rest !== '') return { token: rest };
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // RFC 7617: the user name cannot contain a colon; the password may.
    if (colon > 0) return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
  }
  return {};
}

function parseCookies(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // RFC 6265 values need not be URI-encoded; keep the raw text.
    }
    if (!cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}
