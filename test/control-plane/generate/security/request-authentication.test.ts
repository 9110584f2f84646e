// RequestAuthentication → the jwt_authn filter: providers, token locations, outputs, the
// requirement that lets requests without a token through, and key sets the control plane lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unverifiableJwks } from '../../../../src/control-plane/generate/security/request-authentication.ts';
import { filtersFor, requestAuthentication, type Json } from './fixtures.ts';

const keys = '{"keys":[{"kty":"RSA","e":"AQAB","n":"abc"}]}';

test('one jwtRule: one provider origins-0, payload kept in metadata, a missing token allowed', () => {
  const { http, warnings } = filtersFor({ requestAuthentications: [requestAuthentication('jwt', 'foo', { jwtRules: [{ issuer: 'https://idp.example', jwks: keys }] })] });
  assert.deepEqual(warnings, []);
  assert.deepEqual(http, [{
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: {
        'origins-0': {
          issuer: 'https://idp.example',
          local_jwks: { inline_string: keys },
          payload_in_metadata: 'payload',
          normalize_payload_in_metadata: { space_delimited_claims: ['permission', 'scope'] },
        },
      },
      rules: [{ match: { prefix: '/' }, requires: { requires_any: { requirements: [{ provider_name: 'origins-0' }, { allow_missing: {} }] } } }],
      bypass_cors_preflight: true,
    },
  }]);
});

test('every jwtRule setting reaches its provider', () => {
  const { http } = filtersFor({
    requestAuthentications: [requestAuthentication('jwt', 'foo', {
      jwtRules: [{
        issuer: 'iss', audiences: ['a', 'b'], jwks: keys,
        fromHeaders: [{ name: 'x-jwt', prefix: 'Token ' }, { name: 'x-raw' }], fromParams: ['tok'], fromCookies: ['session'],
        forwardOriginalToken: true, outputPayloadToHeader: 'x-payload',
        outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }, { header: 'x-role', claim: 'realm.role' }],
      }],
    })],
  });
  const p = (http[0].typed_config as Json).providers['origins-0'];
  assert.deepEqual(p, {
    issuer: 'iss',
    audiences: ['a', 'b'],
    local_jwks: { inline_string: keys },
    forward: true,
    from_headers: [{ name: 'x-jwt', value_prefix: 'Token ' }, { name: 'x-raw' }],
    from_params: ['tok'],
    from_cookies: ['session'],
    forward_payload_header: 'x-payload',
    payload_in_metadata: 'payload',
    normalize_payload_in_metadata: { space_delimited_claims: ['permission', 'scope'] },
    claim_to_headers: [{ header_name: 'x-sub', claim_name: 'sub' }, { header_name: 'x-role', claim_name: 'realm.role' }],
  });
});

test('the key set fetched for jwksUri is inlined', () => {
  const { http, warnings } = filtersFor({
    requestAuthentications: [requestAuthentication('jwt', 'foo', { jwtRules: [{ issuer: 'iss', jwksUri: 'https://idp.example/keys' }] })],
    jwks: new Map([['https://idp.example/keys', keys]]),
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual((http[0].typed_config as Json).providers['origins-0'].local_jwks, { inline_string: keys });
});

test('a key set not fetched yet: tokens of that issuer are rejected (a key nobody can sign for), with a warning', () => {
  const { http, warnings } = filtersFor({
    requestAuthentications: [requestAuthentication('jwt', 'foo', { jwtRules: [{ issuer: 'iss', jwksUri: 'https://idp.example/keys' }] })],
  });
  assert.deepEqual((http[0].typed_config as Json).providers['origins-0'].local_jwks, { inline_string: unverifiableJwks });
  const set = JSON.parse(unverifiableJwks);
  assert.equal(set.keys.length, 1);
  assert.equal(set.keys[0].d, undefined, 'the key set holds no private key');
  assert.match(warnings.join('\n'), /RequestAuthentication foo\/jwt: the key set at https:\/\/idp\.example\/keys \(issuer "iss"\) has not been fetched/);
});

test('RequestAuthentications of the root namespace and the workload merge, sorted by issuer', () => {
  const { http } = filtersFor({
    requestAuthentications: [
      requestAuthentication('ns', 'foo', { jwtRules: [{ issuer: 'zeta', jwks: keys }, { issuer: 'alpha', jwks: keys }] }),
      requestAuthentication('mesh', 'istio-system', { jwtRules: [{ issuer: 'mid', jwks: keys }] }),
      requestAuthentication('elsewhere', 'bar', { jwtRules: [{ issuer: 'other', jwks: keys }] }),
    ],
  });
  const config = http[0].typed_config as Json;
  assert.deepEqual(Object.entries(config.providers).map(([n, p]) => [n, (p as Json).issuer]), [['origins-0', 'alpha'], ['origins-1', 'mid'], ['origins-2', 'zeta']]);
  const eachOrMissing = (n: string) => ({ requires_any: { requirements: [{ provider_name: n }, { allow_missing: {} }] } });
  assert.deepEqual(config.rules[0].requires, {
    requires_any: {
      requirements: [
        { provider_name: 'origins-0' }, { provider_name: 'origins-1' }, { provider_name: 'origins-2' },
        { requires_all: { requirements: [eachOrMissing('origins-0'), eachOrMissing('origins-1'), eachOrMissing('origins-2')] } },
      ],
    },
  });
});

test('no RequestAuthentication: no jwt_authn filter', () => {
  assert.deepEqual(filtersFor({ requestAuthentications: [requestAuthentication('x', 'bar', { jwtRules: [{ issuer: 'i', jwks: keys }] })] }).http, []);
});
