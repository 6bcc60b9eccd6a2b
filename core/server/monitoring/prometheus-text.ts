// The one metric registry of /metrics: every part of the process hands in
// metric families as data (the core's, each monitor extension's), and this
// encodes them in Prometheus text format 0.0.4. Families of one name from
// several parts (switchboard_connections from the core and each gateway) are
// merged under one HELP and TYPE, as the format requires; a name used with
// two types is a programming error and throws.

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

/** Cumulative bucket counts by upper bound (the +Inf bucket is count), with sum and count. */
export interface HistogramSample {
  readonly labels?: Labels;
  readonly buckets: ReadonlyArray<readonly [le: number, count: number]>;
  readonly sum: number;
  readonly count: number;
}

export type MetricFamily =
  | { readonly name: string; readonly type: 'counter' | 'gauge'; readonly help: string; readonly samples: readonly Sample[] }
  | { readonly name: string; readonly type: 'histogram'; readonly help: string; readonly samples: readonly HistogramSample[] };

/** A family named twice with different types. */
export class MetricTypeConflictError extends Error {
  constructor(readonly metric: string, readonly types: readonly string[]) {
    super(`metric ${metric} registered as both ${types.join(' and ')}`);
    this.name = 'MetricTypeConflictError';
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels | undefined, extra?: readonly [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra !== undefined) pairs.push([extra[0], extra[1]]);
  return pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function samplesText(family: MetricFamily): string {
  let out = '';
  if (family.type !== 'histogram') {
    for (const s of family.samples) out += `${family.name}${labelText(s.labels)} ${number(s.value)}\n`;
    return out;
  }
  for (const h of family.samples) {
    for (const [le, count] of h.buckets) out += `${family.name}_bucket${labelText(h.labels, ['le', number(le)])} ${count}\n`;
    out += `${family.name}_bucket${labelText(h.labels, ['le', '+Inf'])} ${h.count}\n`;
    out += `${family.name}_sum${labelText(h.labels)} ${number(h.sum)}\n`;
    out += `${family.name}_count${labelText(h.labels)} ${h.count}\n`;
  }
  return out;
}

/** Families in the order first seen, same-named ones merged; throws MetricTypeConflictError. */
export function prometheusText(families: Iterable<MetricFamily>): string {
  const merged = new Map<string, { head: MetricFamily; body: string }>();
  for (const family of families) {
    const seen = merged.get(family.name);
    if (seen === undefined) merged.set(family.name, { head: family, body: samplesText(family) });
    else if (seen.head.type !== family.type) throw new MetricTypeConflictError(family.name, [seen.head.type, family.type]);
    else seen.body += samplesText(family);
  }
  let out = '';
  for (const { head, body } of merged.values()) out += `# HELP ${head.name} ${head.help}\n# TYPE ${head.name} ${head.type}\n${body}`;
  return out;
}
