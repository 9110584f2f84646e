// RequestAuthentication → Envoy's jwt_authn filter, as Istio builds it: one provider per jwtRule
// (`origins-<i>`), every applicable RequestAuthentication's rules merged and sorted by issuer. A
// request without a token passes (authorization policies decide what it may do); a request with a
// token that fails verification is rejected with 401. The verified payload is kept in dynamic
// metadata (`payload`), where request.auth.* conditions read it.
import { jwksUriOf, type JwtRule, type RequestAuthentication } from '../../../api/index.ts';
import type { MeshSnapshot } from '../../registry/model.ts';
import type { EnvoyFilter } from './envoy-shapes.ts';
import { jwtFilterName, jwtPayloadKey } from './jwt-claims.ts';

export const jwtAuthnType = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';

/**
 * A key set whose private key was discarded when it was made: no token verifies against it. It
 * stands in for keys the control plane could not fetch, so tokens of that issuer fail (401) rather
 * than pass unverified.
 */
export const unverifiableJwks = JSON.stringify({
  keys: [{
    kty: 'RSA',
    e: 'AQAB',
    n: '8dbkYkShQTx-LmxzQLesbK7iBazo8J66bFleini_keFcft1cgEu4bmjkDs3P6hIvPFvYhWSpU2FTTFxYDOdEhKhHGweGt5YSx0oPYsIuKnDHtMwuPPx9CHxOW4IN6-woHT7a506oNJ1GH97sicPe2Jn9TPT5cODUAwNixB5Rhb0y3pe0Y72UpIosbbJliApGGEiiXpZjY54D7-_WokAL4WBsaO-9BOBDM5y3k4ZMFNy2uU8EvWpKwCoFG4AzjJXW92veb6Oi5Wws8g3PFaSzFRks7Wpd4So0uoQl6pwpMxLuqHvyO_GZJuKA2YELC2iPJ_2-vd3jZzSh26Y8QXcRHw',
    alg: 'RS256',
    use: 'sig',
    kid: 'weft-unverifiable',
  }],
});

interface SourcedRule { rule: JwtRule; from: string }

function jwks(mesh: MeshSnapshot, { rule, from }: SourcedRule, warnings: string[]): string {
  if (rule.jwks) return rule.jwks;
  const uri = jwksUriOf(rule);
  const fetched = uri === undefined ? undefined : mesh.jwks?.get(uri);
  if (fetched !== undefined) return fetched;
  warnings.push(uri === undefined
    ? `${from}: jwtRules for issuer "${rule.issuer}" has neither jwks nor jwksUri; its tokens are rejected`
    : `${from}: the key set at ${uri} (issuer "${rule.issuer}") has not been fetched; its tokens are rejected until it is`);
  return unverifiableJwks;
}

function provider(mesh: MeshSnapshot, sourced: SourcedRule, warnings: string[]): Record<string, unknown> {
  const { rule } = sourced;
  const p: Record<string, unknown> = { issuer: rule.issuer };
  if (rule.audiences?.length) p.audiences = rule.audiences;
  p.local_jwks = { inline_string: jwks(mesh, sourced, warnings) };
  if (rule.forwardOriginalToken) p.forward = true;
  // No location given: Envoy's defaults (Authorization: Bearer, then the access_token parameter).
  if (rule.fromHeaders?.length) p.from_headers = rule.fromHeaders.map((h) => (h.prefix ? { name: h.name, value_prefix: h.prefix } : { name: h.name }));
  if (rule.fromParams?.length) p.from_params = rule.fromParams;
  if (rule.fromCookies?.length) p.from_cookies = rule.fromCookies;
  if (rule.outputPayloadToHeader) p.forward_payload_header = rule.outputPayloadToHeader;
  p.payload_in_metadata = jwtPayloadKey;
  // As Istio: `scope` and `permission` are space-separated lists, matched element by element.
  p.normalize_payload_in_metadata = { space_delimited_claims: ['permission', 'scope'] };
  if (rule.outputClaimToHeaders?.length) {
    p.claim_to_headers = rule.outputClaimToHeaders.map((c) => ({ header_name: c.header, claim_name: c.claim }));
  }
  return p;
}

const allowMissing = { allow_missing: {} };

/**
 * Every token present must be valid for its provider; a request without any passes. With several
 * providers, a token verified by one of them also passes (providers may share a location).
 */
function requirement(names: string[]): Record<string, unknown> {
  const eachOrMissing = names.map((n) => ({ requires_any: { requirements: [{ provider_name: n }, allowMissing] } }));
  if (names.length === 1) return eachOrMissing[0];
  return {
    requires_any: {
      requirements: [...names.map((n) => ({ provider_name: n })), { requires_all: { requirements: eachOrMissing } }],
    },
  };
}

/** The jwt_authn filter for the RequestAuthentications that apply to a workload, if any. */
export function jwtAuthnFilter(mesh: MeshSnapshot, policies: RequestAuthentication[], warnings: string[]): EnvoyFilter | undefined {
  const rules: SourcedRule[] = policies.flatMap((p) => (p.spec.jwtRules ?? []).map((rule) => ({
    rule, from: `RequestAuthentication ${p.metadata.namespace}/${p.metadata.name}`,
  })));
  if (rules.length === 0) return undefined;
  // Stable sort by issuer, as Istio, so the config does not depend on the order resources arrived in.
  rules.sort((a, b) => (a.rule.issuer < b.rule.issuer ? -1 : a.rule.issuer > b.rule.issuer ? 1 : 0));
  const providers: Record<string, unknown> = {};
  rules.forEach((r, i) => { providers[`origins-${i}`] = provider(mesh, r, warnings); });
  return {
    name: jwtFilterName,
    typed_config: {
      '@type': jwtAuthnType,
      providers,
      rules: [{ match: { prefix: '/' }, requires: requirement(Object.keys(providers)) }],
      bypass_cors_preflight: true,
    },
  };
}
