// What a verified client certificate says about who the client is, and how
// verify_and_map turns that into a user name, as nats-server does (NS
// server/auth.go checkClientTLSCertSubject; ND …/securing_nats/auth_intro/
// tls_mutual_auth.md): email SANs first, then DNS SANs, then URI SANs, then the
// subject as an RFC 2253 string ("CN=alice,O=Acme,C=US": the last RDN first),
// where a configured DN also matches when it names the same attributes in
// another order. The first user found wins.

export interface CertificateIdentity {
  readonly emails: readonly string[];
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  /** RFC 2253: most specific RDN first, values escaped, no spaces after commas. */
  readonly subject: string;
  /** The subject's attributes as "TYPE=value" (type upper-cased), for order-free comparison. */
  readonly attributes: readonly string[];
}

/** Split on separators not escaped by a backslash (RFC 2253 §2.4). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function normalizedAttribute(attribute: string): string {
  const eq = attribute.indexOf('=');
  if (eq < 0) return attribute.trim();
  return `${attribute.slice(0, eq).trim().toUpperCase()}=${attribute.slice(eq + 1).trim()}`;
}

/** "email:a@b, DNS:x, URI:y" as node's X509Certificate.subjectAltName gives it (values with a comma come JSON-quoted). */
function sanEntries(subjectAltName: string | undefined): Array<[kind: string, value: string]> {
  if (subjectAltName === undefined || subjectAltName === '') return [];
  const entries: Array<[string, string]> = [];
  const entry = /(?:^|, )([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = entry.exec(subjectAltName); m !== null; m = entry.exec(subjectAltName)) {
    const raw = m[2];
    entries.push([m[1], raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return entries;
}

/**
 * From node's X509Certificate: `subject` is one RDN per line, root first
 * ("C=US\nO=Acme\nCN=alice"), values already escaped as RFC 2253 wants.
 */
export function certificateIdentity(subject: string, subjectAltName: string | undefined): CertificateIdentity {
  const rdns = subject.split('\n').filter((line) => line !== '');
  const san = sanEntries(subjectAltName);
  const of = (kind: string): string[] => san.filter(([k]) => k === kind).map(([, v]) => v);
  return {
    emails: of('email'),
    dnsNames: of('DNS'),
    uris: of('URI'),
    subject: [...rdns].reverse().join(','),
    attributes: rdns.flatMap((rdn) => splitUnescaped(rdn, '+')).map(normalizedAttribute).sort(),
  };
}

/** Does a configured name, read as a DN, name exactly the certificate's subject attributes (in any order)? */
function sameDistinguishedName(name: string, identity: CertificateIdentity): boolean {
  if (!name.includes('=')) return false;
  const attributes = splitUnescaped(name, ',').flatMap((rdn) => splitUnescaped(rdn, '+')).map(normalizedAttribute).sort();
  return attributes.length === identity.attributes.length && attributes.every((a, i) => a === identity.attributes[i]);
}

/** The first name `isUser` accepts, in nats-server's order; undefined when none maps. */
export function mapCertificate(identity: CertificateIdentity, isUser: (name: string) => boolean, names: Iterable<string>): string | undefined {
  for (const candidate of [...identity.emails, ...identity.dnsNames, ...identity.uris, identity.subject]) {
    if (candidate !== '' && isUser(candidate)) return candidate;
  }
  for (const name of names) if (sameDistinguishedName(name, identity)) return name;
  return undefined;
}
