// Templates of the bridge, compiled once at configuration time into a list of
// parts so rendering a message is a join, not a parse.
//
// Kafka -> NATS subject templates: {topic} {key} {partition}, each value escaped
// into one subject token (subject-token.ts).
// NATS -> Kafka topic and key templates: {subject} (the whole subject), {1}..{n}
// (one subject token, 1-based, percent escapes decoded) and {header:Name}.
// Braces are reserved: an unmatched '{' or '}' is a configuration error.

import type { MessageHeaders } from '../../core/broker/headers.ts';
import { isValidPublishSubject } from '../../core/subject/subject.ts';
import { KafkaConfigError } from './errors.ts';
import { escapeSubjectToken, unescapeSubjectToken } from './subject-token.ts';

type Part =
  | { kind: 'literal'; text: string }
  | { kind: 'topic' }
  | { kind: 'key' }
  | { kind: 'partition' }
  | { kind: 'subject' }
  | { kind: 'token'; index: number }
  | { kind: 'header'; name: string };

interface ParseContext {
  path: string;
  mapping: string;
  allowed: ReadonlySet<Part['kind']>;
}

function parsePlaceholder(body: string, ctx: ParseContext): Part {
  let part: Part;
  if (body === 'topic' || body === 'key' || body === 'partition' || body === 'subject') part = { kind: body };
  else if (/^[1-9][0-9]*$/.test(body)) part = { kind: 'token', index: Number(body) };
  else if (body.startsWith('header:') && body.length > 'header:'.length) part = { kind: 'header', name: body.slice('header:'.length) };
  else throw new KafkaConfigError(ctx.path, `unknown placeholder {${body}}`, ctx.mapping);
  if (!ctx.allowed.has(part.kind)) {
    throw new KafkaConfigError(ctx.path, `placeholder {${body}} is not available here (allowed: ${describeAllowed(ctx.allowed)})`, ctx.mapping);
  }
  return part;
}

function describeAllowed(allowed: ReadonlySet<Part['kind']>): string {
  const names: string[] = [];
  for (const kind of allowed) {
    if (kind === 'token') names.push('{1}..{n}');
    else if (kind === 'header') names.push('{header:Name}');
    else if (kind !== 'literal') names.push(`{${kind}}`);
  }
  return names.join(' ');
}

function parseTemplate(template: string, ctx: ParseContext): Part[] {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '}') throw new KafkaConfigError(ctx.path, `unmatched '}' at offset ${i} in ${JSON.stringify(template)}`, ctx.mapping);
    if (c !== '{') {
      literal += c;
      continue;
    }
    const close = template.indexOf('}', i + 1);
    const nextOpen = template.indexOf('{', i + 1);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
      throw new KafkaConfigError(ctx.path, `unmatched '{' at offset ${i} in ${JSON.stringify(template)}`, ctx.mapping);
    }
    if (literal) parts.push({ kind: 'literal', text: literal });
    literal = '';
    parts.push(parsePlaceholder(template.slice(i + 1, close), ctx));
    i = close;
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  if (parts.length === 0) throw new KafkaConfigError(ctx.path, 'empty template', ctx.mapping);
  return parts;
}

export interface KafkaRecordVars {
  topic: string;
  key: Buffer | null;
  partition: number;
}

export type SubjectRenderer = (vars: KafkaRecordVars) => string;

/** Compile a Kafka -> NATS subject template; the literal parts must form a valid subject. */
export function compileSubjectTemplate(template: string, path: string, mapping: string): SubjectRenderer {
  const parts = parseTemplate(template, { path, mapping, allowed: new Set(['literal', 'topic', 'key', 'partition']) });
  const render: SubjectRenderer = (vars) => {
    let out = '';
    for (const part of parts) {
      if (part.kind === 'literal') out += part.text;
      else if (part.kind === 'topic') out += escapeSubjectToken(vars.topic);
      else if (part.kind === 'key') out += escapeSubjectToken(vars.key);
      else out += String(vars.partition);
    }
    return out;
  };
  const sample = render({ topic: 'topic', key: Buffer.from('key'), partition: 0 });
  if (!isValidPublishSubject(sample)) {
    throw new KafkaConfigError(path, `template ${JSON.stringify(template)} does not give a valid NATS subject (e.g. ${JSON.stringify(sample)})`, mapping);
  }
  return render;
}

export interface NatsMessageVars {
  subject: string;
  tokens: readonly string[];
  headers: MessageHeaders | null;
}

/** Renders to null when a referenced header or token is missing. */
export type NatsTemplateRenderer = (vars: NatsMessageVars) => string | null;

/**
 * Compile a NATS -> Kafka topic or key template against the mapping's subscription
 * subject, so `{4}` on `orders.*` is refused at configuration time.
 */
export function compileNatsTemplate(template: string, path: string, mapping: string, subscription: string | null): NatsTemplateRenderer {
  const parts = parseTemplate(template, { path, mapping, allowed: new Set(['literal', 'subject', 'token', 'header']) });
  if (subscription !== null) {
    const tokens = subscription.split('.');
    const open = tokens[tokens.length - 1] === '>';
    for (const part of parts) {
      if (part.kind === 'token' && !open && part.index > tokens.length) {
        throw new KafkaConfigError(path, `{${part.index}} but subject ${JSON.stringify(subscription)} has only ${tokens.length} tokens`, mapping);
      }
    }
  }
  return (vars) => {
    let out = '';
    for (const part of parts) {
      if (part.kind === 'literal') out += part.text;
      else if (part.kind === 'subject') out += vars.subject;
      else if (part.kind === 'token') {
        const token = vars.tokens[part.index - 1];
        if (token === undefined) return null;
        out += unescapeSubjectToken(token);
      } else if (part.kind === 'header') {
        const value = vars.headers?.get(part.name);
        if (value === undefined) return null;
        out += value;
      }
    }
    return out;
  };
}

/** Kafka's legal topic names: [a-zA-Z0-9._-], 1..249 characters, not "." or "..". */
export function isValidKafkaTopic(topic: string): boolean {
  return topic.length > 0 && topic.length <= 249 && topic !== '.' && topic !== '..' && /^[a-zA-Z0-9._-]+$/.test(topic);
}

/** A topic template whose literal parts could never give a legal topic is a configuration error. */
export function assertTopicTemplateLiterals(template: string, path: string, mapping: string): void {
  const literals = template.replace(/\{[^{}]*\}/g, '');
  if (!/^[a-zA-Z0-9._-]*$/.test(literals)) {
    throw new KafkaConfigError(path, `template ${JSON.stringify(template)} has characters Kafka topics cannot contain (allowed: a-z A-Z 0-9 . _ -)`, mapping);
  }
}
