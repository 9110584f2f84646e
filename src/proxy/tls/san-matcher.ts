// Subject alternative name checks of a peer certificate (CertificateValidationContext
// match_typed_subject_alt_names and the older match_subject_alt_names): a certificate passes when
// one of its SANs satisfies one of the matchers. Matchers are exact, prefix or suffix StringMatchers
// (the routing's StringMatcher), optionally ignoring case; compiled once at config time.
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { compileStringMatcher, type StringMatcher } from '../http/routing/string-matcher.ts';
import { FieldPath, checkFields, isPresent, message, repeated, string } from '../upstream/envoy-config.ts';

/** SAN types as node:tls writes them in `subjectaltname` (`DNS:a.example, URI:spiffe://…`). */
export type SanType = 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS' | 'ANY';

const nodePrefixes: Record<Exclude<SanType, 'ANY'>, string> = {
  DNS: 'DNS:', URI: 'URI:', EMAIL: 'email:', IP_ADDRESS: 'IP Address:',
};

export class SanMatcher {
  readonly type: SanType;
  readonly matcher: StringMatcher;
  /** For pool keys and messages: `DNS exact a.example`. */
  readonly description: string;

  constructor(type: SanType, matcher: StringMatcher, description: string) {
    this.type = type;
    this.matcher = matcher;
    this.description = description;
  }

  matches(san: { type: SanType; value: string }): boolean {
    return (this.type === 'ANY' || this.type === san.type) && this.matcher.match(san.value);
  }

  toString(): string {
    return this.description;
  }
}

/**
 * node:tls's subjectaltname text split into entries: `, ` separates them, except inside a quoted
 * value (node quotes, JSON-style, a value holding a comma or a quote, so a SAN cannot forge another).
 */
function sanEntries(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',' && text[i + 1] === ' ') {
      out.push(text.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** The SANs of a certificate node:tls decoded (an entry that does not decode is left out). */
export function subjectAltNames(cert: PeerCertificate): { type: SanType; value: string }[] {
  const text = cert.subjectaltname;
  if (typeof text !== 'string' || text === '') return [];
  const out: { type: SanType; value: string }[] = [];
  for (const entry of sanEntries(text)) {
    for (const [type, prefix] of Object.entries(nodePrefixes)) {
      if (entry.startsWith(prefix)) {
        let value = entry.slice(prefix.length);
        if (value.startsWith('"')) {
          try {
            value = JSON.parse(value) as string;
          } catch {
            break;
          }
        }
        out.push({ type: type as SanType, value });
        break;
      }
    }
  }
  return out;
}

/** localPrincipal per socket: node decodes the whole certificate on every getCertificate() call. */
const ownPrincipals = new WeakMap<object, string>();

/**
 * This proxy's own identity on a TLS connection it accepted: the first URI SAN of the certificate it
 * presented (a mesh workload's SPIFFE id); '' for plaintext or a certificate without one. A connection
 * keeps the certificate it was accepted with, so the answer is worked out once per connection.
 */
export function localPrincipal(socket: object): string {
  const known = ownPrincipals.get(socket);
  if (known !== undefined) return known;
  const tlsSocket = socket as Partial<TLSSocket>;
  if (typeof tlsSocket.getCertificate !== 'function') return '';
  const cert = tlsSocket.getCertificate();
  if (cert === null || typeof cert !== 'object' || !('subjectaltname' in cert)) return '';
  const principal = subjectAltNames(cert as PeerCertificate).find((san) => san.type === 'URI')?.value ?? '';
  ownPrincipals.set(socket, principal);
  return principal;
}

/** Whether a certificate passes the matchers (no matchers: every certificate does). */
export function certificateMatches(matchers: readonly SanMatcher[], cert: PeerCertificate): boolean {
  if (matchers.length === 0) return true;
  const sans = subjectAltNames(cert);
  for (const san of sans) for (const m of matchers) if (m.matches(san)) return true;
  return false;
}

const typedFields = new Set(['san_type', 'matcher', 'oid']);
const sanTypes = ['SAN_TYPE_UNSPECIFIED', 'EMAIL', 'DNS', 'URI', 'IP_ADDRESS', 'OTHER_NAME'];
const stringMatcherFields = new Set(['exact', 'prefix', 'suffix', 'contains', 'safe_regex', 'ignore_case']);

/** match_typed_subject_alt_names: SubjectAltNameMatcher[]. */
export function compileTypedSanMatchers(at: FieldPath, value: unknown): SanMatcher[] {
  return repeated(at, value).map((v, i) => {
    const mp = at.item(i);
    const m = message(mp, v);
    checkFields(mp, m, typedFields);
    const raw = m.san_type ?? 'SAN_TYPE_UNSPECIFIED';
    const type = typeof raw === 'number' ? sanTypes[raw] : raw;
    if (type === 'OTHER_NAME') mp.field('san_type').reject('OTHER_NAME is not supported');
    if (type === 'SAN_TYPE_UNSPECIFIED' || typeof type !== 'string' || !(type in nodePrefixes)) mp.field('san_type').reject(`${String(raw)} is not a SAN type (DNS, URI, EMAIL, IP_ADDRESS)`);
    return compileSanMatcher(mp.field('matcher'), m.matcher, type as SanType);
  });
}

/** match_subject_alt_names (deprecated in Envoy, still honoured): StringMatcher[] against any SAN. */
export function compileUntypedSanMatchers(at: FieldPath, value: unknown): SanMatcher[] {
  return repeated(at, value).map((v, i) => compileSanMatcher(at.item(i), v, 'ANY'));
}

function compileSanMatcher(at: FieldPath, value: unknown, type: SanType): SanMatcher {
  const m = message(at, value);
  checkFields(at, m, stringMatcherFields);
  if (isPresent(m.contains)) at.field('contains').reject('is not supported (exact, prefix and suffix are)');
  if (isPresent(m.safe_regex)) at.field('safe_regex').reject('is not supported (exact, prefix and suffix are)');
  const kind = (['exact', 'prefix', 'suffix'] as const).find((k) => isPresent(m[k]));
  if (kind === undefined) return at.reject('must set exact, prefix or suffix');
  if (kind !== 'exact' && string(at.field(kind), m[kind]) === '') at.field(kind).reject('must not be empty');
  const matcher = compileStringMatcher(at, m);
  return new SanMatcher(type, matcher, `${type} ${kind}${matcher.ignoreCase ? ' (ignore case)' : ''} ${matcher.value}`);
}
