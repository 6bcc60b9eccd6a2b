// A reader for nats-server's configuration format (ND running-a-nats-service/
// configuration/README.md), enough for the parts Switchboard shares: `key =
// value`, `key: value` or `key value`; `key { ... }` maps; `[ ... ]` arrays;
// `#` and `//` comments; quoted and bare strings; numbers with size suffixes
// (1KB, 1MB, 1GB; K/M/G as well); true/false/yes/no/on/off; `$NAME` variables
// (earlier keys, then the environment). `include` is not supported. JSON is a
// subset, so JSON files read the same.

export class NatsConfSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'NatsConfSyntaxError';
  }
}

const SIZE_UNITS: Record<string, number> = { k: 1000, kb: 1024, ki: 1024, kib: 1024, m: 1000 ** 2, mb: 1024 ** 2, mi: 1024 ** 2, mib: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3, gi: 1024 ** 3, gib: 1024 ** 3 };
const BOOLEANS: Record<string, boolean> = { true: true, yes: true, on: true, false: false, no: false, off: false };

export function parseNatsConf(text: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let i = 0;
  const vars = new Map<string, unknown>();
  /** Top-level keys used as $variables: definitions, not settings (nats-server does not apply them). */
  const used = new Set<string>();

  const line = (): number => text.slice(0, i).split('\n').length;
  const fail = (message: string): never => {
    throw new NatsConfSyntaxError(message, line());
  };

  /** Skip blanks and comments; with `newlines` false, stop at a newline. */
  function skip(newlines = true): void {
    while (i < text.length) {
      const c = text[i];
      if (c === '#' || (c === '/' && text[i + 1] === '/')) {
        while (i < text.length && text[i] !== '\n') i++;
      } else if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) {
        i++;
      } else {
        return;
      }
    }
  }

  function quoted(): string {
    const q = text[i++];
    let out = '';
    while (i < text.length && text[i] !== q) {
      if (text[i] === '\\' && q === '"') {
        const e = text[++i];
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        i++;
      } else {
        out += text[i++];
      }
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return out;
  }

  function key(): string {
    if (text[i] === '"' || text[i] === "'") return quoted();
    const start = i;
    while (i < text.length && /[^\s=:{}\[\],;#]/.test(text[i])) i++;
    if (i === start) fail(`expected a key, found ${JSON.stringify(text[i])}`);
    return text.slice(start, i);
  }

  function bare(): unknown {
    const start = i;
    while (i < text.length && !/[\n,;}\]#]/.test(text[i]) && !(text[i] === '/' && text[i + 1] === '/')) i++;
    const word = text.slice(start, i).trim();
    if (word === '') fail('expected a value');
    if (word in BOOLEANS) return BOOLEANS[word.toLowerCase()];
    if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
    const size = /^(\d+)\s*([a-zA-Z]+)$/.exec(word);
    if (size && SIZE_UNITS[size[2].toLowerCase()] !== undefined) return Number(size[1]) * SIZE_UNITS[size[2].toLowerCase()];
    if (word.startsWith('$')) {
      const name = word.slice(1);
      if (vars.has(name)) {
        used.add(name);
        return vars.get(name);
      }
      if (env[name] !== undefined) return env[name];
      fail(`variable ${word} is not defined`);
    }
    if (word === 'null') return null;
    return word;
  }

  function value(): unknown {
    skip(false);
    const c = text[i];
    if (c === '{') {
      i++;
      const map = body('}');
      i++;
      return map;
    }
    if (c === '[') {
      i++;
      const items: unknown[] = [];
      for (;;) {
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return items;
        }
        if (i >= text.length) fail('unterminated array');
        items.push(value());
      }
    }
    if (c === '"' || c === "'") return quoted();
    return bare();
  }

  function body(close: string | null): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (;;) {
      skip();
      if (text[i] === ',' || text[i] === ';') {
        i++;
        continue;
      }
      if (i >= text.length) {
        if (close !== null) fail(`missing ${close}`);
        return map;
      }
      if (text[i] === close) return map;
      const k = key();
      if (k === 'include') fail('include is not supported');
      skip(false);
      if (text[i] === '=' || text[i] === ':') i++;
      const v = value();
      map[k] = v;
      if (close === null) vars.set(k, v);
    }
  }

  skip();
  // A JSON document is one top-level map in braces.
  if (text[i] === '{') {
    i++;
    const map = body('}');
    i++;
    skip();
    if (i < text.length) fail('unexpected text after the closing brace');
    return map;
  }
  const top = body(null);
  for (const name of used) delete top[name];
  return top;
}
