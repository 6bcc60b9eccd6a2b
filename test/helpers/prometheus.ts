// /metrics read with an independent Prometheus text-format parser
// (parse-prometheus-text-format, ported from the official Python client's
// parser), so tests check the exposition a scraper sees, not our encoder's
// own idea of it.

import { createRequire } from 'node:module';

export interface ParsedSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: ParsedSample[];
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/** Families by name; throws when a name appears twice (one HELP/TYPE block per family). */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  for (const family of parse(text)) {
    if (families.has(family.name)) throw new Error(`metric family ${family.name} appears twice`);
    families.set(family.name, family);
  }
  return families;
}

/** The value of the one counter or gauge sample whose labels include `labels`; NaN when there is none. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  const match = families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return match === undefined ? Number.NaN : Number(match.value);
}

/**
 * A labelled histogram's observation count, read from the text: the parser
 * keeps a histogram's buckets but drops its labels, _sum and _count.
 */
export function histogramCount(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_count{`)) continue;
    const labelText = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (wanted.every((pair) => labelText.split(',').includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return Number.NaN;
}
