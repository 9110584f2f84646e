// Where a request carries its JWTs (Envoy's jwt_authn Extractor): the headers (with an optional value
// prefix such as "Bearer "), query parameters and cookies that a set of providers names; a provider
// naming none uses the defaults, `Authorization: Bearer <token>` and `?access_token=<token>`.
//
// Each location remembers the issuers of the providers that named it, so a token found there is only
// tried against those issuers (Envoy's JwtIssuerChecker). Locations are kept in Envoy's order (sorted by
// name within headers, parameters, cookies) because tokens are verified from the last one found.
// Built once per requirement when the config arrives; a request pays one pass over its headers.
import type { HttpStream } from '../../stream.ts';
import type { JwtProvider } from './provider.ts';

/** Which issuers named a location; an empty issuer in any of them allows every issuer. */
export class IssuerChecker {
  allowAll = false;
  readonly issuers = new Set<string>();

  add(issuer: string): void {
    if (issuer === '') this.allowAll = true;
    else this.issuers.add(issuer);
  }

  allows(issuer: string): boolean {
    return this.allowAll || this.issuers.has(issuer);
  }
}

class HeaderLocation {
  readonly name: string;
  readonly valuePrefix: string;
  readonly issuers = new IssuerChecker();

  constructor(name: string, valuePrefix: string) {
    this.name = name;
    this.valuePrefix = valuePrefix;
  }
}

/** A token found in a request, with where it came from. */
export class ExtractedToken {
  readonly token: string;
  readonly issuers: IssuerChecker;
  /** The header it was read from (removed after verification unless the provider forwards it); null for a parameter or cookie. */
  readonly header: string | null;

  constructor(token: string, issuers: IssuerChecker, header: string | null) {
    this.token = token;
    this.issuers = issuers;
    this.header = header;
  }
}

/** RFC 4648 §5 base64url plus '.', the characters of a compact JWT. */
const jwtChar = /[A-Za-z0-9_.-]/;

/**
 * The token in a header value after its prefix: from the first JWT character after `from` up to the
 * first character that cannot be in a JWT (Envoy's extractJWT); the whole value when there is none.
 */
function tokenAfter(value: string, from: number): string {
  let start = from;
  while (start < value.length && !jwtChar.test(value[start])) start++;
  if (start === value.length) return value;
  let end = start;
  while (end < value.length && jwtChar.test(value[end])) end++;
  return value.slice(start, end);
}

function sortedByKey<T>(map: Map<string, T>): T[] {
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}

/** Cookie values by name (the first of each name), only for the names asked for. */
function parseCookies(headers: readonly string[], wanted: ReadonlyMap<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    for (const part of headers[i + 1].split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      const name = part.slice(0, eq).trim();
      if (!wanted.has(name) || out.has(name)) continue;
      let value = part.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      out.set(name, value);
    }
  }
  return out;
}

export class TokenExtractor {
  readonly headers: readonly HeaderLocation[];
  readonly params: readonly [string, IssuerChecker][];
  readonly cookies: ReadonlyMap<string, IssuerChecker>;
  /**
   * Headers the providers write after a success (forward_payload_header, claim_to_headers): removed
   * from every request first, so a client cannot pass them off as verified.
   */
  readonly sanitize: readonly string[];

  constructor(providers: readonly JwtProvider[]) {
    const headers = new Map<string, HeaderLocation>();
    const params = new Map<string, IssuerChecker>();
    const cookies = new Map<string, IssuerChecker>();
    const sanitize = new Set<string>();
    const addHeader = (name: string, prefix: string, issuer: string): void => {
      const key = name + prefix;
      let location = headers.get(key);
      if (location === undefined) headers.set(key, location = new HeaderLocation(name, prefix));
      location.issuers.add(issuer);
    };
    const addTo = (map: Map<string, IssuerChecker>, name: string, issuer: string): void => {
      let checker = map.get(name);
      if (checker === undefined) map.set(name, checker = new IssuerChecker());
      checker.add(issuer);
    };
    for (const p of providers) {
      for (const h of p.fromHeaders) addHeader(h.name, h.valuePrefix, p.issuer);
      for (const name of p.fromParams) addTo(params, name, p.issuer);
      for (const name of p.fromCookies) addTo(cookies, name, p.issuer);
      if (p.fromHeaders.length === 0 && p.fromParams.length === 0 && p.fromCookies.length === 0) {
        addHeader('authorization', 'Bearer ', p.issuer);
        addTo(params, 'access_token', p.issuer);
      }
      if (p.forwardPayloadHeader !== '') sanitize.add(p.forwardPayloadHeader);
      for (const c of p.claimToHeaders) sanitize.add(c.header);
    }
    this.headers = sortedByKey(headers);
    this.params = [...params.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.cookies = new Map([...cookies.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    this.sanitize = [...sanitize];
  }

  /** Removes the headers only the filter may write. */
  sanitizeHeaders(headers: string[]): void {
    const names = this.sanitize;
    if (names.length === 0) return;
    for (let i = headers.length - 2; i >= 0; i -= 2) if (names.includes(headers[i])) headers.splice(i, 2);
  }

  /** The tokens of a request, in Envoy's order: headers, then query parameters, then cookies. */
  extract(stream: HttpStream): ExtractedToken[] {
    const out: ExtractedToken[] = [];
    const headers = stream.requestHeaders;
    for (const location of this.headers) {
      let value: string | undefined;
      for (let i = 0; i < headers.length; i += 2) {
        if (headers[i] === location.name) value = value === undefined ? headers[i + 1] : `${value},${headers[i + 1]}`;
      }
      if (value === undefined) continue;
      if (location.valuePrefix !== '') {
        const at = value.indexOf(location.valuePrefix);
        if (at === -1) continue;
        value = tokenAfter(value, at + location.valuePrefix.length);
      }
      out.push(new ExtractedToken(value, location.issuers, location.name));
    }
    if (this.params.length > 0) {
      const path = stream.path;
      const q = path.indexOf('?');
      if (q !== -1) {
        const hash = path.indexOf('#', q);
        const query = new URLSearchParams(path.slice(q + 1, hash === -1 ? undefined : hash));
        for (const [name, issuers] of this.params) {
          const token = query.get(name);
          if (token !== null) out.push(new ExtractedToken(token, issuers, null));
        }
      }
    }
    if (this.cookies.size > 0) {
      const found = parseCookies(headers, this.cookies);
      for (const [name, issuers] of this.cookies) {
        const token = found.get(name);
        if (token !== undefined) out.push(new ExtractedToken(token, issuers, null));
      }
    }
    return out;
  }
}
