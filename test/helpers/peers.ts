// The reference peers the tests run against or drive (Debian's nats-server,
// mosquitto and its clients, kcat, chromium, curl, openssl), and what a missing
// one means. Issue 27: a missing peer never unregisters a test. Under CI=true it is
// an error that names the peer (CI installs them all, so a missing one is a broken
// job, not a smaller suite); elsewhere the tests that need it are counted skips.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Every command a test may need; a typo in a `peers` list fails at registration. */
export const PEERS = ['nats-server', 'nats-server-new', 'mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'kcat', 'chromium', 'curl', 'openssl'] as const;
export type Peer = (typeof PEERS)[number];

/**
 * A current nats-server (2.11+ features: per-message TTL, pause, ...), which
 * Debian stable does not ship: `NATS_SERVER_NEW` names the binary, e.g.
 * `export NATS_SERVER_NEW=$(../shared/tools/newer-debian-binary nats-server)`
 * (Debian sid's static build, as .ci/run does).
 */
export const NATS_SERVER_NEW_ENV = 'NATS_SERVER_NEW';

/** Raised (as a test failure) when CI=true and a peer a test needs is not on PATH. */
export class MissingPeerError extends Error {
  constructor(readonly peer: Peer) {
    super(`${peer} not installed, and CI=true requires every peer (.ci/run installs them; /usr/sbin must be on PATH)`);
    this.name = 'MissingPeerError';
  }
}

const found = new Map<Peer, string | null>();

/** Where `peer` is on PATH, or null; looked up once per process. */
export function peerPath(peer: Peer): string | null {
  let path = found.get(peer);
  if (path === undefined && peer === 'nats-server-new') {
    path = executable(process.env[NATS_SERVER_NEW_ENV]);
    found.set(peer, path);
  }
  if (path === undefined) {
    const r = spawnSync('sh', ['-c', `command -v ${peer}`], { encoding: 'utf8' });
    path = r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
    found.set(peer, path);
  }
  return path;
}

function executable(file: string | undefined): string | null {
  if (file === undefined || file === '') return null;
  try {
    accessSync(file, constants.X_OK);
    return file;
  } catch {
    return null;
  }
}

/** The first of `peers` that is not installed, if any. */
export function missingPeer(peers: readonly Peer[]): Peer | undefined {
  return peers.find((peer) => peerPath(peer) === null);
}

/** CI sets CI=true (as GitHub Actions and most runners do): every peer must be there. */
export function peersRequired(): boolean {
  return process.env.CI === 'true';
}

/** The skip reason a test reports for a missing peer; the summary reporter groups by it. */
export function missingPeerReason(peer: Peer): string {
  return peer === 'nats-server-new' ? `${peer} not installed (set ${NATS_SERVER_NEW_ENV})` : `${peer} not installed`;
}

/**
 * For a test that checks Switchboard's side first and the peer's after: true when
 * `peer` is installed; otherwise a skip naming it (false) or, under CI, a MissingPeerError.
 */
export function testHasPeer(t: { skip(message?: string): void }, peer: Peer): boolean {
  if (peerPath(peer) !== null) return true;
  if (peersRequired()) throw new MissingPeerError(peer);
  t.skip(missingPeerReason(peer));
  return false;
}
