// Connection ids (nats-server's cid): one counter per process, so a cid in
// /connz names one connection whatever its protocol. Embedded, the NATS
// server's counter is handed to the gateways; anything built alone (cluster
// mode, a gateway in a test) counts on its own.

export type ConnectionIds = () => number;

export function connectionIdCounter(): ConnectionIds {
  let next = 1;
  return () => next++;
}
