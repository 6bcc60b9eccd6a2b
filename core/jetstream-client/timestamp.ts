// One timestamp form for what this library hands out: RFC 3339 in UTC with all
// nine fraction digits ("2026-01-02T03:04:05.120000000Z"). nats-server writes
// Go's RFC3339Nano, which trims trailing zeros (and the fraction when it is
// zero), and a delivery's ack subject carries nanoseconds since the epoch;
// both come out the same here, so a client sees one shape whichever way an
// entry reached it, and strings of the same length compare in time order.

const FRACTION = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/** Nanoseconds since the epoch, as the decimal digits of an ack subject. */
export function rfc3339FromNanos(nanos: string): string {
  const digits = nanos.padStart(10, '0');
  const seconds = Number(digits.slice(0, -9));
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${digits.slice(-9)}Z`;
}

/** An RFC 3339 UTC time with any fraction (or none) as nine fraction digits; other forms are returned as they are. */
export function rfc3339Nanos(time: string): string {
  const m = FRACTION.exec(time);
  if (m === null) return time;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
}
