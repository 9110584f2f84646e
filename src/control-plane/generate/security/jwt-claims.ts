// Conditions on the request's JWT. The jwt_authn filter (request-authentication.ts) stores the
// verified token's payload in dynamic metadata under `envoy.filters.http.jwt_authn` / `payload`,
// so every request.auth.* attribute is a metadata matcher on a path below `payload`.
import {
  principalAnd, principalNone, principalOr, type RbacMatcher, type StringMatcher, type ValueMatcher,
} from './envoy-shapes.ts';
import { exact, policyStringMatcher, prefix, regex, suffix } from './string-matchers.ts';

export const jwtFilterName = 'envoy.filters.http.jwt_authn';
export const jwtPayloadKey = 'payload';

function claimPath(claims: string[]): { key: string }[] {
  return [jwtPayloadKey, ...claims].map((key) => ({ key }));
}

function claimMatches(claim: string, value: ValueMatcher): RbacMatcher {
  return { metadata: { filter: jwtFilterName, path: claimPath([claim]), value } };
}

const claimString = (claim: string, m: StringMatcher): RbacMatcher => claimMatches(claim, { string_match: m });
/** Any string at all, the empty one included (used where a split leaves nothing to compare). */
const anyString = regex('.*');

function either(ids: RbacMatcher[]): RbacMatcher {
  if (ids.length === 0) return principalNone;
  return ids.length === 1 ? ids[0] : principalOr(ids);
}

/** Where `/` splits `s`: the request principal `<iss>/<sub>` may split at any of them. */
function slashes(s: string): number[] {
  const at: number[] = [];
  for (let i = s.indexOf('/'); i >= 0; i = s.indexOf('/', i + 1)) at.push(i);
  return at;
}

/**
 * One requestPrincipals value. The principal is the string `<iss>/<sub>`, and both claims may hold
 * `/`, so a value is expressed exactly over the two claims: one alternative per place where the
 * boundary between issuer and subject could fall.
 */
export function requestPrincipal(value: string): RbacMatcher {
  if (value === '*') return claimMatches('iss', { present_match: true });
  if (value.length > 1 && value.endsWith('*')) {
    const p = value.slice(0, -1);
    return either([
      claimString('iss', prefix(p)),
      ...slashes(p).map((i) => principalAnd([
        claimString('iss', exact(p.slice(0, i))),
        claimString('sub', i + 1 < p.length ? prefix(p.slice(i + 1)) : anyString),
      ])),
    ]);
  }
  if (value.length > 1 && value.startsWith('*')) {
    const s = value.slice(1);
    return either([
      claimString('sub', suffix(s)),
      ...slashes(s).map((i) => principalAnd([
        claimString('iss', i > 0 ? suffix(s.slice(0, i)) : anyString),
        claimString('sub', exact(s.slice(i + 1))),
      ])),
    ]);
  }
  return either(slashes(value).map((i) => principalAnd([
    claimString('iss', exact(value.slice(0, i))),
    claimString('sub', exact(value.slice(i + 1))),
  ])));
}

export function requestPrincipals(values: string[]): RbacMatcher {
  return either(values.map(requestPrincipal));
}

function valuesOr(values: string[]): ValueMatcher {
  const each = values.map((v) => ({ string_match: policyStringMatcher(v) }));
  return each.length === 1 ? each[0] : { or_match: { value_matchers: each } };
}

/**
 * A claim that may be a string or a list of strings (aud, scope, groups...): it matches when the
 * string matches one of the values or when one element of the list does.
 */
export function claimOneOf(claims: string[], values: string[]): RbacMatcher {
  const value = valuesOr(values);
  return {
    metadata: {
      filter: jwtFilterName,
      path: claimPath(claims),
      value: { or_match: { value_matchers: [{ list_match: { one_of: value } }, value] } },
    },
  };
}
