// Source attributes (who sends the request) as Envoy RBAC principals, with Istio's encodings:
// peer identities are the SPIFFE URI of the client certificate, `spiffe://<td>/ns/<ns>/sa/<sa>`.
import { cidrRange, isError, type Attribute, type Generated } from './attribute.ts';
import type { RbacMatcher, StringMatcher } from './envoy-shapes.ts';
import { claimOneOf, requestPrincipals } from './jwt-claims.ts';
import { headerMatcher, policyStringMatcher, prefix, quoteRegex, regex } from './string-matchers.ts';

const spiffe = 'spiffe://';

/** The peer's certificate identity (mTLS) matches. */
const authenticated = (m: StringMatcher): RbacMatcher => ({ authenticated: { principal_name: m } });

/** `principals`, `source.principal`: `<trust-domain>/ns/<ns>/sa/<sa>` with `*` wildcards at either end. */
export const sourcePrincipal: Attribute = {
  side: 'principal',
  httpOnly: false,
  each: (v) => authenticated(policyStringMatcher(v, spiffe)),
};

/** `namespaces`, `source.namespace`: any identity with `/ns/<ns>/`; `*` inside the name is a wildcard. */
export const sourceNamespace: Attribute = {
  side: 'principal',
  httpOnly: false,
  each: (v) => authenticated(regex(`.*/ns/${v.split('*').map(quoteRegex).join('.*')}/.*`)),
};

/**
 * `serviceAccounts`, `source.serviceAccount`: `<ns>/<sa>`, or `<sa>` in the policy's namespace. The
 * identity may carry more path segments between and after, but the account name must end a segment.
 */
export function sourceServiceAccount(policyNamespace: string): Attribute {
  return {
    side: 'principal',
    httpOnly: false,
    each: (v) => {
      const slash = v.indexOf('/');
      const [ns, sa] = slash >= 0 ? [v.slice(0, slash), v.slice(slash + 1)] : [policyNamespace, v];
      return authenticated(regex(`spiffe://.+/ns/${quoteRegex(ns)}/(.+/|)sa/${quoteRegex(sa)}(/.+)?`));
    },
  };
}

/** `source.trustDomain`: the identity's trust domain (`*` any; one `*` wildcard inside). */
export const sourceTrustDomain: Attribute = {
  side: 'principal',
  httpOnly: false,
  each: (v) => {
    if (v === '*') return authenticated(prefix(spiffe));
    if (!v.includes('*')) return authenticated(prefix(`${spiffe}${v}/`));
    const star = v.indexOf('*');
    return authenticated(regex(`spiffe://${quoteRegex(v.slice(0, star))}[^/]*${quoteRegex(v.slice(star + 1))}/.*`));
  },
};

/** `ipBlocks`, `source.ip`: the address of the connection's peer. */
export const sourceIp: Attribute = {
  side: 'principal',
  httpOnly: false,
  each: (v): Generated => {
    const c = cidrRange(v);
    return isError(c) ? c : { direct_remote_ip: c };
  },
};

/** `remoteIpBlocks`, `remote.ip`: the original client (X-Forwarded-For or PROXY protocol). */
export const remoteIp: Attribute = {
  side: 'principal',
  httpOnly: false,
  each: (v): Generated => {
    const c = cidrRange(v);
    return isError(c) ? c : { remote_ip: c };
  },
};

/** `requestPrincipals`, `request.auth.principal`: the JWT's `<iss>/<sub>`. */
export const requestPrincipal: Attribute = { side: 'principal', httpOnly: true, all: requestPrincipals };

/** `request.auth.audiences`: the JWT's `aud` (a string or a list). */
export const requestAudiences: Attribute = { side: 'principal', httpOnly: true, all: (vs) => claimOneOf(['aud'], vs) };

/** `request.auth.presenter`: the JWT's `azp`. */
export const requestPresenter: Attribute = { side: 'principal', httpOnly: true, all: (vs) => claimOneOf(['azp'], vs) };

/** `request.auth.claims[a][b]`: a claim of the JWT, nested claims as successive names. */
export function requestClaim(path: string[]): Attribute {
  return { side: 'principal', httpOnly: true, all: (vs) => claimOneOf(path, vs) };
}

/** `request.headers[name]`: a request header (case-sensitive value). */
export function requestHeader(name: string): Attribute {
  return { side: 'principal', httpOnly: true, each: (v) => ({ header: headerMatcher(name, v) }) };
}
