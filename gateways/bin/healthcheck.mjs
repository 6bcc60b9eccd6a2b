#!/usr/bin/env node
// The container health check (Dockerfile HEALTHCHECK, compose healthcheck):
// exit 0 when GET <url> answers 200 within 2 s, else 1. Default: the
// monitoring port's /healthz; a cluster-mode gateway has no monitoring port,
// so it is given its HTTP gateway's /healthz. Plain Node: the image has no curl.
const url = process.argv[2] ?? 'http://127.0.0.1:8222/healthz';
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
