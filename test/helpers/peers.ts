// The reference peers the tests run against or drive (Debian's nats-server,
// mosquitto and its clients, kcat, chromium, curl, openssl), and what a missing
// one means. Issue 27: a missing peer never unregisters a test. Under CI=true it is
// an error that names the peer (CI installs them all, so a missing one is a broken
// job, not a smaller suite); elsewhere the tests that need it are counted skips.

import { spawnSync } from 'node:child_process';

/** Every command a test may need; a typo in a `peers` list fails at registration. */
export const PEERS = ['nats-server', 'mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'kcat', 'chromium', 'curl', 'openssl'] as const;
export type Peer = (typeof PEERS)[number];

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
  if (path === undefined) {
    const r = spawnSync('sh', ['-c', `command -v ${peer}`], { encoding: 'utf8' });
    path = r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
    found.set(peer, path);
  }
  return path;
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
  return `${peer} not installed`;
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
