// Values filed under literal subjects, found by a subscription pattern: the
// reverse of the sublist (which files patterns and is asked with a literal).
// JetStream push consumers file themselves under their deliver subject; when a
// subscription comes or goes, only the consumers whose subject the pattern
// matches are told, so `_INBOX.abc.*` walks two trie levels instead of
// testing every consumer's subject.

interface SubjectNode<V> {
  children: Map<string, SubjectNode<V>> | null;
  /** Values filed under the subject that ends at this node. */
  values: V[] | null;
}

function newNode<V>(): SubjectNode<V> {
  return { children: null, values: null };
}

export class SubjectMap<V> {
  private readonly root: SubjectNode<V> = newNode();
  private subjects = 0;

  /** Distinct subjects with at least one value. */
  get size(): number {
    return this.subjects;
  }

  /** Precondition: `subject` is a literal subject (no wildcards). */
  add(subject: string, value: V): void {
    let node = this.root;
    for (const token of subject.split('.')) {
      node.children ??= new Map();
      let child = node.children.get(token);
      if (child === undefined) node.children.set(token, (child = newNode()));
      node = child;
    }
    if (node.values === null) {
      node.values = [];
      this.subjects++;
    }
    if (!node.values.includes(value)) node.values.push(value);
  }

  delete(subject: string, value: V): void {
    const tokens = subject.split('.');
    const path: SubjectNode<V>[] = [this.root];
    for (const token of tokens) {
      const child = path[path.length - 1].children?.get(token);
      if (child === undefined) return;
      path.push(child);
    }
    const node = path[path.length - 1];
    const at = node.values?.indexOf(value) ?? -1;
    if (at < 0) return;
    (node.values as V[]).splice(at, 1);
    if ((node.values as V[]).length > 0) return;
    node.values = null;
    this.subjects--;
    // Drop nodes left with neither values nor children, bottom-up.
    for (let i = tokens.length; i > 0; i--) {
      const n = path[i];
      if (n.values !== null || (n.children !== null && n.children.size > 0)) return;
      path[i - 1].children?.delete(tokens[i - 1]);
    }
  }

  /** Values filed under exactly `subject`. */
  get(subject: string): readonly V[] {
    let node: SubjectNode<V> | undefined = this.root;
    for (const token of subject.split('.')) {
      node = node.children?.get(token);
      if (node === undefined) return NONE;
    }
    return node.values ?? NONE;
  }

  /** Every value filed under a subject that `pattern` (which may hold `*` and `>`) matches. */
  matching(pattern: string): V[] {
    const out: V[] = [];
    collect(this.root, pattern.split('.'), 0, out);
    return out;
  }
}

const NONE: readonly never[] = Object.freeze([]);

function collect<V>(node: SubjectNode<V>, tokens: string[], index: number, out: V[]): void {
  if (index === tokens.length) {
    if (node.values !== null) out.push(...node.values);
    return;
  }
  if (node.children === null) return;
  const token = tokens[index];
  if (token === '>') {
    // '>' stands for one or more tokens: everything below this node.
    for (const child of node.children.values()) collectAll(child, out);
  } else if (token === '*') {
    for (const child of node.children.values()) collect(child, tokens, index + 1, out);
  } else {
    const child = node.children.get(token);
    if (child !== undefined) collect(child, tokens, index + 1, out);
  }
}

function collectAll<V>(node: SubjectNode<V>, out: V[]): void {
  if (node.values !== null) out.push(...node.values);
  if (node.children !== null) for (const child of node.children.values()) collectAll(child, out);
}
