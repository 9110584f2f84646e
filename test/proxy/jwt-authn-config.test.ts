// The JWT filter's config (JwtAuthentication, PerRouteConfig) as the proxy accepts or rejects it: what
// it cannot honour is rejected with a message naming the field, never ignored; JWKS may come inline
// (string or bytes) or from a file, read once when the config arrives.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { compileJwtAuthnConfig } from '../../src/proxy/http/filters/jwt-authn/config.ts';
import { compileJwtPerRoute } from '../../src/proxy/http/filters/jwt-authn/per-route.ts';
import { FieldPath } from '../../src/proxy/upstream/envoy-config.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { jwks, jwtFilter, now, provider, rule, signingKey, token, type SigningKey } from './support/jwt.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, routerFilter, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const at = new FieldPath('Listener inbound|8080', 'http_filters[0].typed_config');
let key: SigningKey;
let dir: string;

function rejected(message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

function withProvider(extra: Obj, rest: Obj = {}): Obj {
  return { providers: { origins: provider('https://issuer.example.com', jwks(key.jwk), extra) }, ...rest };
}

before(async () => {
  key = await signingKey('RS256', 'k1');
  dir = mkdtempSync(path.join(tmpdir(), 'weft-jwks-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('JwtAuthentication rejections', () => {
  it('remote_jwks: the control plane inlines JWKS as local_jwks', () => {
    const config = { providers: { origins: { issuer: 'x', remote_jwks: { http_uri: { uri: 'https://idp/jwks', cluster: 'idp' } } } } };
    assert.throws(() => compileJwtAuthnConfig(config, at),
      rejected(/^Listener inbound\|8080: http_filters\[0\]\.typed_config\.providers\.origins\.remote_jwks is not supported: the control plane inlines JWKS as local_jwks$/));
  });

  it('a provider without any JWKS', () => {
    assert.throws(() => compileJwtAuthnConfig({ providers: { origins: { issuer: 'x' } } }, at), rejected(/providers\.origins must set local_jwks/));
  });

  it('a local_jwks that is not a JWKS', () => {
    const bad = { providers: { origins: { issuer: 'x', local_jwks: { inline_string: 'ACADADADADA' } } } };
    assert.throws(() => compileJwtAuthnConfig(bad, at), rejected(/providers\.origins\.local_jwks is not a JSON Web Key Set: not valid JSON/));
    const noKeys = { providers: { origins: { issuer: 'x', local_jwks: { inline_string: '{"kid":"x"}' } } } };
    assert.throws(() => compileJwtAuthnConfig(noKeys, at), rejected(/local_jwks is not a JSON Web Key Set: it has no \[keys\] array/));
  });

  it('a local_jwks file that cannot be read', () => {
    const config = { providers: { origins: { issuer: 'x', local_jwks: { filename: path.join(dir, 'missing.json') } } } };
    assert.throws(() => compileJwtAuthnConfig(config, at), rejected(/local_jwks\.filename ".*missing\.json" cannot be read: ENOENT/));
  });

  it('filter_state_rules and failed_status_in_metadata', () => {
    assert.throws(() => compileJwtAuthnConfig(withProvider({}, { filter_state_rules: { name: 'x', requires: {} } }), at),
      rejected(/typed_config\.filter_state_rules is not supported$/));
    assert.throws(() => compileJwtAuthnConfig(withProvider({ failed_status_in_metadata: 'status' }), at),
      rejected(/providers\.origins\.failed_status_in_metadata is not supported$/));
  });

  it('an unknown field', () => {
    assert.throws(() => compileJwtAuthnConfig(withProvider({ jwks_cache: true }), at), rejected(/providers\.origins\.jwks_cache is not supported$/));
  });

  it('a requirement naming a provider that is not configured', () => {
    const config = withProvider({}, { rules: [rule('/', { requires_any: { requirements: [{ provider_name: 'origins-1' }, { allow_missing: {} }] } })] });
    assert.throws(() => compileJwtAuthnConfig(config, at),
      rejected(/rules\[0\]\.requires\.requires_any\.requirements\[0\]\.provider_name names provider "origins-1", which is not configured in providers$/));
  });

  it('a rule naming a requirement that is not in requirement_map, or setting both requires and requirement_name', () => {
    assert.throws(() => compileJwtAuthnConfig(withProvider({}, { rules: [{ match: { prefix: '/' }, requirement_name: 'r' }] }), at),
      rejected(/rules\[0\]\.requirement_name names requirement "r", which is not in requirement_map$/));
    const both = withProvider({}, { rules: [{ match: { prefix: '/' }, requirement_name: 'r', requires: { provider_name: 'origins' } }], requirement_map: { r: {} } });
    assert.throws(() => compileJwtAuthnConfig(both, at), rejected(/rules\[0\] sets requires and requirement_name/));
  });

  it('a requires_any of one requirement, a requirement setting two kinds, a rule without a match', () => {
    assert.throws(() => compileJwtAuthnConfig(withProvider({}, { rules: [rule('/', { requires_any: { requirements: [{ provider_name: 'origins' }] } })] }), at),
      rejected(/requires_any\.requirements must have at least 2 requirements/));
    assert.throws(() => compileJwtAuthnConfig(withProvider({}, { rules: [rule('/', { provider_name: 'origins', allow_missing: {} })] }), at),
      rejected(/rules\[0\]\.requires sets provider_name and allow_missing; at most one is allowed/));
    assert.throws(() => compileJwtAuthnConfig(withProvider({}, { rules: [{ requires: { provider_name: 'origins' } }] }), at),
      rejected(/rules\[0\]\.match is required/));
  });

  it('invalid header names in from_headers, forward_payload_header and claim_to_headers', () => {
    assert.throws(() => compileJwtAuthnConfig(withProvider({ from_headers: [{ name: 'bad header' }] }), at),
      rejected(/from_headers\[0\]\.name "bad header" is not a valid header name/));
    assert.throws(() => compileJwtAuthnConfig(withProvider({ forward_payload_header: 'x:y' }), at),
      rejected(/forward_payload_header "x:y" is not a valid header name/));
    assert.throws(() => compileJwtAuthnConfig(withProvider({ claim_to_headers: [{ header_name: 'x-sub' }] }), at),
      rejected(/claim_to_headers\[0\]\.claim_name is required/));
  });

  it('PerRouteConfig: exactly one of disabled (true) and requirement_name', () => {
    const rp = new FieldPath('RouteConfiguration r', 'virtual_hosts[0].routes[0].typed_per_filter_config["envoy.filters.http.jwt_authn"]');
    assert.throws(() => compileJwtPerRoute({}, rp), rejected(/must set disabled or requirement_name/));
    assert.throws(() => compileJwtPerRoute({ disabled: false }, rp), rejected(/disabled must be true/));
    assert.throws(() => compileJwtPerRoute({ disabled: true, requirement_name: 'x' }, rp), rejected(/sets disabled and requirement_name/));
    assert.equal(compileJwtPerRoute({ requirement_name: 'x' }, rp).requirementName, 'x');
  });
});

describe('JWKS sources', () => {
  const cluster = 'outbound|8000||httpbin.default.svc.cluster.local';
  const harness = new Harness();
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream('httpbin');
    const file = path.join(dir, 'jwks.json');
    writeFileSync(file, jwks(key.jwk));
    const providers = {
      file: provider('https://file.example.com', '', { local_jwks: { filename: file } }),
      bytes: provider('https://bytes.example.com', '', { local_jwks: { inline_bytes: Buffer.from(jwks(key.jwk)) } }),
      // Istio's JWKS for an issuer whose keys could not be fetched: valid, but no token verifies with it.
      unusable: provider('https://unusable.example.com', '', { local_jwks: { inline_string: jwks({ kty: 'RSA', n: '', e: 'AQAB' }) } }),
    };
    const requires = { requires_any: { requirements: [{ provider_name: 'file' }, { provider_name: 'bytes' }, { provider_name: 'unusable' }] } };
    await harness.apply({
      clusters: [edsCluster(cluster)],
      endpoints: [assignment(cluster, [upstream.port])],
      listeners: [httpListener('jwks', { rds: 'jwks', hcm: { http_filters: [jwtFilter({ providers, rules: [rule('/', requires)] }), routerFilter] } })],
      routes: [routeConfig('jwks', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster))])])],
    });
  });

  after(async () => {
    await harness.close();
    await upstream.close();
  });

  for (const [name, issuer] of [['a file', 'https://file.example.com'], ['inline bytes', 'https://bytes.example.com']]) {
    it(`verifies tokens with a JWKS from ${name}`, async () => {
      const t = await token(key, { iss: issuer, exp: now() + 60 });
      const reply = await send(harness.port('jwks'), '/', { headers: { authorization: `Bearer ${t}` } });
      assert.equal(reply.status, 200, reply.body);
    });
  }

  it('refuses every token of a provider whose JWKS has no usable key', async () => {
    const t = await token(key, { iss: 'https://unusable.example.com', exp: now() + 60 });
    const reply = await send(harness.port('jwks'), '/', { headers: { authorization: `Bearer ${t}` } });
    assert.equal(reply.status, 401);
    assert.equal(reply.body, "Jwks doesn't have any valid public key");
  });

  it('rejects a listener whose JWT filter config is invalid, naming the listener and the field, and keeps serving the old one', async () => {
    const bad = httpListener('jwks', {
      rds: 'jwks',
      hcm: { http_filters: [jwtFilter({ providers: { p: { issuer: 'x', remote_jwks: { http_uri: { uri: 'https://idp/jwks' } } } } }), routerFilter] },
    });
    await assert.rejects(harness.apply({ listeners: [bad] }), rejected(/jwks.*providers\.p\.remote_jwks is not supported: the control plane inlines JWKS as local_jwks/));
    const t = await token(key, { iss: 'https://file.example.com', exp: now() + 60 });
    assert.equal((await send(harness.port('jwks'), '/', { headers: { authorization: `Bearer ${t}` } })).status, 200);
  });
});
