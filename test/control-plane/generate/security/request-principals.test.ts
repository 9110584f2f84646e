// requestPrincipals values are matched against the string `<iss>/<sub>`. The generated matchers
// compare the two claims separately; here they are evaluated against JWT payloads and must agree
// with the string comparison for every payload, wherever the issuer and subject hold `/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestPrincipal } from '../../../../src/control-plane/generate/security/jwt-claims.ts';
import { protoProblems } from './envoy-proto-check.ts';
import type { Json } from './fixtures.ts';

function stringMatches(m: Json, s: unknown): boolean {
  if (typeof s !== 'string') return false;
  if (m.exact !== undefined) return s === m.exact;
  if (m.prefix !== undefined) return s.startsWith(m.prefix);
  if (m.suffix !== undefined) return s.endsWith(m.suffix);
  if (m.safe_regex !== undefined) return new RegExp(`^(?:${m.safe_regex.regex})$`, 's').test(s);
  throw new Error(`unexpected string matcher ${JSON.stringify(m)}`);
}

/** Envoy's principal semantics, for the shapes the JWT matchers use. */
function evaluate(p: Json, payload: Record<string, unknown>): boolean {
  if (p.any) return true;
  if (p.and_ids) return p.and_ids.ids.every((id: Json) => evaluate(id, payload));
  if (p.or_ids) return p.or_ids.ids.some((id: Json) => evaluate(id, payload));
  if (p.not_id) return !evaluate(p.not_id, payload);
  if (p.metadata) {
    assert.equal(p.metadata.filter, 'envoy.filters.http.jwt_authn');
    const [payloadKey, claim] = p.metadata.path.map((s: Json) => s.key);
    assert.equal(payloadKey, 'payload');
    const value = payload[claim];
    if (p.metadata.value.present_match) return value !== undefined;
    return stringMatches(p.metadata.value.string_match, value);
  }
  throw new Error(`unexpected principal ${JSON.stringify(p)}`);
}

function principalStringMatches(pattern: string, principal: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return principal.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return principal.endsWith(pattern.slice(1));
  return principal === pattern;
}

const claims = ['', 'a', 'a/b', 'https://idp.example', 'https://idp.example/', 'alice', 'bob/x', '/', 'x/', '/y'];
const patterns = [
  '*', 'a/b', 'a/b/c', 'https://idp.example/alice', 'https://idp.example/*', 'https://*', 'a*', 'a/*', 'a/b*',
  '*/alice', '*alice', '*b/x', '*/', '/*', 'noslash', '*example/alice', 'https://idp.example//y',
];

for (const pattern of patterns) {
  test(`requestPrincipals "${pattern}" matches exactly the tokens whose iss/sub it names`, () => {
    const principal = requestPrincipal(pattern);
    assert.deepEqual(protoProblems({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
      rules: { action: 'ALLOW', policies: { p: { permissions: [{ any: true }], principals: [principal] } } },
    }), []);
    for (const iss of claims.filter((c) => c !== '')) {
      for (const sub of claims) {
        const expected = principalStringMatches(pattern, `${iss}/${sub}`);
        assert.equal(evaluate(principal, { iss, sub }), expected, `iss=${JSON.stringify(iss)} sub=${JSON.stringify(sub)}`);
      }
    }
  });
}

test('requestPrincipals "*" does not match a request without a verified token', () => {
  assert.equal(evaluate(requestPrincipal('*'), {}), false);
});
