// Time formats nats-server's monitoring uses: Go's time.Duration.String() for
// rtt ("2.095713ms", "1.5s", "1m30s") and its own compact form for uptime and
// idle ("0s", "5m23s", "2h3m4s", "1d2h3m4s", "1y2d3h4m5s").

/** Go's Duration.String() for a duration given in milliseconds (µs precision). */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1) return `${trim((ms * 1000).toFixed(3))}µs`;
  if (ms < 1000) return `${trim(ms.toFixed(6))}ms`;
  let rest = ms / 1000;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  const seconds = `${trim(rest.toFixed(6))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

function trim(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** nats-server's myUptime: whole seconds, with years and days spelled out. */
export function compactUptime(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const years = Math.floor(s / (365 * 86_400));
  s -= years * 365 * 86_400;
  const days = Math.floor(s / 86_400);
  s -= days * 86_400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  if (years > 0) return `${years}y${days}d${hours}h${minutes}m${s}s`;
  if (days > 0) return `${days}d${hours}h${minutes}m${s}s`;
  if (hours > 0) return `${hours}h${minutes}m${s}s`;
  if (minutes > 0) return `${minutes}m${s}s`;
  return `${s}s`;
}
