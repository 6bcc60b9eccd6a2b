// The console's only way to the gateway: the public /v1 API, as any client.
// Reads (GET, EventSource) ride on the HttpOnly session cookie of POST /v1/login;
// the gateway refuses writes on a cookie (session.ts), so writes carry the
// Authorization header the user typed, kept in this page's memory only (never
// in storage): a reload logs out.

export class ApiError extends Error {
  constructor(readonly status: number, readonly path: string, detail: string) {
    super(`${status} on ${path}: ${detail}`);
    this.name = 'ApiError';
  }
}

let authorization: string | null = null;

async function failure(response: Response, path: string): Promise<ApiError> {
  let detail = response.statusText;
  try {
    const problem = (await response.json()) as { detail?: string; title?: string };
    detail = problem.detail ?? problem.title ?? detail;
  } catch {
    // not a problem document: the status text says enough
  }
  return new ApiError(response.status, path, detail);
}

/** Credentials from a token, or from user and password (Basic). */
export function authorizationOf(user: string, password: string, token: string): string {
  if (token !== '') return `Bearer ${token}`;
  return `Basic ${btoa(`${user}:${password}`)}`;
}

/** POST /v1/login: the browser keeps the cookie; resolves with the user's name. */
export async function login(credentials: string): Promise<string> {
  const response = await fetch('/v1/login', { method: 'POST', headers: { authorization: credentials }, credentials: 'same-origin' });
  if (response.status !== 201) throw await failure(response, '/v1/login');
  authorization = credentials;
  return ((await response.json()) as { user: string }).user;
}

export async function logout(): Promise<void> {
  authorization = null;
  await fetch('/v1/logout', { method: 'POST', credentials: 'same-origin' });
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) throw await failure(response, path);
  return (await response.json()) as T;
}

/** What getOptionalJson resolves with when the endpoint is not there (404): a part of the process that is not configured. */
export const ABSENT = 'absent';

/** GET JSON from an endpoint that exists only when something is configured (/v1/monitor/kafkaz, /leafz). */
export async function getOptionalJson<T>(path: string): Promise<T | typeof ABSENT> {
  try {
    return await getJson<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return ABSENT;
    throw error;
  }
}

export async function getText(path: string): Promise<string> {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) throw await failure(response, path);
  return response.text();
}

/** A write (POST, PUT, DELETE) with the Authorization header; resolves with the response, refused ones thrown. */
export async function send(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: string, contentType = 'text/plain'): Promise<Response> {
  if (authorization === null) throw new ApiError(401, path, 'log in again to write');
  const headers: Record<string, string> = { authorization };
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await fetch(path, { method, headers, body });
  if (!response.ok) throw await failure(response, path);
  return response;
}

/** A write whose answer is JSON. */
export async function write(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: string, contentType = 'text/plain'): Promise<unknown> {
  return (await send(method, path, body, contentType)).json();
}

export const segment = encodeURIComponent;
