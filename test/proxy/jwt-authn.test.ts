// JWT authentication (envoy.filters.http.jwt_authn) as a control plane configures it from Istio's
// RequestAuthentication: providers with inline JWKS, rules by path, and requires_any with allow_missing
// so that a request without a token passes and one with a bad token is refused with 401. Tokens are
// made with jose here and sent through a real proxy to a real upstream, which echoes what it received.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { registerHttpFilter } from '../../src/proxy/http/filters/registry.ts';
import { FilterStatus, PassThroughFilter } from '../../src/proxy/http/filters/filter.ts';
import { jwtAuthnStatsOf } from '../../src/proxy/http/filters/jwt-authn/stats.ts';
import type { HttpStream } from '../../src/proxy/http/stream.ts';
import { send, type Reply } from './support/client.ts';
import { Harness } from './support/harness.ts';
import {
  hmacToken, jwks, jwtFilter, now, perRouteJwt, provider, rule, signingKey, token, unsignedToken, type SigningKey,
} from './support/jwt.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, routerFilter, virtualHost } from './support/resources.ts';
import { startUpstream, type Seen, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
const cluster = 'outbound|8000||httpbin.default.svc.cluster.local';
const rsaIssuer = 'https://rsa.example.com';
const ecIssuer = 'https://ec.example.com';
const paramIssuer = 'https://param.example.com';
const cookieIssuer = 'https://cookie.example.com';
const secondIssuer = 'https://second.example.com';
const hmacIssuer = 'https://hmac.example.com';
const hmacSecret = Buffer.from('a shared secret of at least thirty-two bytes');
let upstream: Upstream;
let agent: http.Agent;
let rsa: SigningKey;
let ec: SigningKey;
/** A key of the right issuer's algorithm that is not in any JWKS. */
let stranger: SigningKey;

/** A filter placed after the JWT filter: copies the request's dynamic metadata into a header, so the upstream shows it. */
const metadataEchoTypeUrl = 'type.googleapis.com/weft.test.DynamicMetadataEcho';
class DynamicMetadataEcho extends PassThroughFilter {
  override decodeHeaders(stream: HttpStream): FilterStatus {
    if (stream.dynamicMetadata !== null) stream.requestHeaders.push('x-dynamic-metadata', JSON.stringify(stream.dynamicMetadata));
    return FilterStatus.Continue;
  }
}

function jwtConfig(): Obj {
  return {
    providers: {
      // Without alg, as many identity providers publish keys: only the key type then keeps HS256 away from it.
      rsa: provider(rsaIssuer, jwks({ ...rsa.jwk, alg: undefined }), {
        audiences: ['api.example.com'],
        forward_payload_header: 'x-jwt-payload',
        payload_in_metadata: 'payload',
        claim_to_headers: [
          { header_name: 'x-jwt-sub', claim_name: 'sub' },
          { header_name: 'x-jwt-tier', claim_name: 'org.tier' },
          { header_name: 'x-jwt-level', claim_name: 'level' },
          { header_name: 'x-jwt-admin', claim_name: 'admin' },
          { header_name: 'x-jwt-groups', claim_name: 'groups' },
        ],
      }),
      ec: provider(ecIssuer, jwks(ec.jwk), {
        forward: true,
        from_headers: [{ name: 'x-ec-token', value_prefix: 'Token ' }],
        forward_payload_header: 'x-ec-payload',
        pad_forward_payload_header: true,
      }),
      param: provider(paramIssuer, jwks(rsa.jwk), { from_params: ['jwt'] }),
      cookie: provider(cookieIssuer, jwks(ec.jwk), { from_cookies: ['session'] }),
      // Reads the default locations, like "rsa" (Authorization: Bearer): two jwtRules of one RequestAuthentication.
      second: provider(secondIssuer, jwks(stranger.jwk, rsa.jwk)),
      hmac: provider(hmacIssuer, jwks({ kty: 'oct', k: hmacSecret.toString('base64url'), alg: 'HS256' }, { ...rsa.jwk, alg: undefined }), { from_headers: [{ name: 'x-hmac-token' }] }),
    },
    rules: [
      rule('/istio', {
        requires_any: { requirements: [{ provider_name: 'rsa' }, { provider_name: 'ec' }, { provider_name: 'second' }, { allow_missing: {} }] },
      }),
      rule('/hmac', { provider_name: 'hmac' }),
      rule('/required', { provider_name: 'rsa' }),
      rule('/ec', { provider_name: 'ec' }),
      rule('/param', { provider_name: 'param' }),
      rule('/cookie', { provider_name: 'cookie' }),
      rule('/all', { requires_all: { requirements: [{ provider_name: 'rsa' }, { provider_name: 'ec' }] } }),
      rule('/audience', { provider_and_audiences: { provider_name: 'ec', audiences: ['reports'] } }),
      rule('/named', undefined),
      { match: { prefix: '/by-name' }, requirement_name: 'rsa-only' },
      rule('/public'),
    ],
    requirement_map: { 'rsa-only': { provider_name: 'rsa' } },
    bypass_cors_preflight: true,
  };
}

/** Istio's config for a RequestAuthentication with two jwtRules reading the same (default) location. */
function istioTwoRules(): Obj {
  const origin = (i: number): Obj => ({ requires_any: { requirements: [{ provider_name: `origins-${i}` }, { allow_missing: {} }] } });
  return {
    providers: {
      'origins-0': provider(rsaIssuer, jwks(rsa.jwk), { payload_in_metadata: 'payload', normalize_payload_in_metadata: { space_delimited_claims: ['scope', 'permission'] } }),
      'origins-1': provider(secondIssuer, jwks(stranger.jwk), { payload_in_metadata: 'payload', normalize_payload_in_metadata: {} }),
    },
    rules: [rule('/', {
      requires_any: { requirements: [{ provider_name: 'origins-0' }, { provider_name: 'origins-1' }, { requires_all: { requirements: [origin(0), origin(1)] } }] },
    })],
    bypass_cors_preflight: true,
  };
}

function routes(): Obj {
  return routeConfig('jwt', [virtualHost('all', ['*'], [
    { ...route({ prefix: '/required/disabled' }, routeTo(cluster)), ...perRouteJwt({ disabled: true }) },
    { ...route({ prefix: '/public/by-name' }, routeTo(cluster)), ...perRouteJwt({ requirement_name: 'rsa-only' }) },
    { ...route({ prefix: '/public/unknown-name' }, routeTo(cluster)), ...perRouteJwt({ requirement_name: 'nope' }) },
    route({ prefix: '/' }, routeTo(cluster)),
  ])]);
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return send(harness.port('jwt'), path, { method, headers, agent, host: 'api.example.com' });
}

function seen(reply: Reply): Seen {
  assert.equal(reply.status, 200, `expected the request to reach the upstream, got ${reply.status} ${reply.body}`);
  return JSON.parse(reply.body) as Seen;
}

function bearer(t: string): Record<string, string> {
  return { authorization: `Bearer ${t}` };
}

/** A 401 from the filter with Envoy's body and challenge. */
function assertRefused(reply: Reply, body: string, path: string, status = 401): void {
  assert.equal(reply.status, status, `body: ${reply.body}`);
  assert.equal(reply.body, body);
  assert.equal(reply.headers['www-authenticate'], `Bearer realm="http://api.example.com${path}", error="invalid_token"`);
}

function rsaClaims(extra: Obj = {}): Obj {
  return { iss: rsaIssuer, sub: 'alice', aud: 'api.example.com', exp: now() + 600, ...extra };
}

before(async () => {
  [rsa, ec, stranger] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-1'), signingKey('RS256', 'rsa-2')]);
  registerHttpFilter(metadataEchoTypeUrl, (_config, _at, name) => () => new DynamicMetadataEcho(name));
  upstream = await startUpstream('httpbin');
  await harness.apply({
    clusters: [edsCluster(cluster)],
    endpoints: [assignment(cluster, [upstream.port])],
    listeners: [
      httpListener('jwt', {
        rds: 'jwt',
        hcm: { http_filters: [jwtFilter(jwtConfig()), { name: 'metadata-echo', typed_config: { '@type': metadataEchoTypeUrl } }, routerFilter] },
      }),
      httpListener('istio', {
        rds: 'jwt',
        hcm: { http_filters: [jwtFilter(istioTwoRules()), { name: 'metadata-echo', typed_config: { '@type': metadataEchoTypeUrl } }, routerFilter] },
      }),
    ],
    routes: [routes()],
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
});

after(async () => {
  agent.destroy();
  await harness.close();
  await upstream.close();
});

describe('a valid token', () => {
  it('signed with RS256 reaches the upstream with the payload and claims as headers, and without the token', async () => {
    const claims = rsaClaims({ org: { tier: 'gold' }, level: 3, admin: true, groups: ['dev', 'ops'] });
    const t = await token(rsa, claims);
    const got = seen(await get('/required/x', bearer(t)));
    assert.equal(got.headers.authorization, undefined, 'forward is false: the Authorization header is removed');
    assert.equal(got.headers['x-jwt-payload'], t.split('.')[1]);
    assert.deepEqual(JSON.parse(Buffer.from(got.headers['x-jwt-payload'] as string, 'base64url').toString()), claims);
    assert.equal(got.headers['x-jwt-sub'], 'alice');
    assert.equal(got.headers['x-jwt-tier'], 'gold', 'a nested claim named with dots');
    assert.equal(got.headers['x-jwt-level'], '3');
    assert.equal(got.headers['x-jwt-admin'], 'true');
    // Envoy copies list and object claims as base64 of their JSON.
    assert.equal(Buffer.from(got.headers['x-jwt-groups'] as string, 'base64').toString(), '["dev","ops"]');
  });

  it('signed with ES256, from a custom header with a value prefix, is forwarded (forward: true) with a padded payload header', async () => {
    const t = await token(ec, { iss: ecIssuer, sub: 'bob', exp: now() + 600 });
    const got = seen(await get('/ec', { 'x-ec-token': `Token ${t}` }));
    assert.equal(got.headers['x-ec-token'], `Token ${t}`);
    const payload = t.split('.')[1];
    const padded = payload + '='.repeat((4 - (payload.length % 4)) % 4);
    assert.equal(got.headers['x-ec-payload'], padded);
  });

  it('is read from a query parameter (left in the URL) and from a cookie', async () => {
    const p = await token(rsa, { iss: paramIssuer, exp: now() + 600 });
    const viaParam = seen(await get(`/param?jwt=${p}&x=1`));
    assert.equal(viaParam.url, `/param?jwt=${p}&x=1`);
    const c = await token(ec, { iss: cookieIssuer, exp: now() + 600 });
    seen(await get('/cookie', { cookie: `theme=dark; session=${c}` }));
    assertRefused(await get('/cookie', { cookie: `session=${p}` }), 'Jwt issuer is not configured', '/cookie');
  });

  it('within the clock skew (60 s by default) is still accepted after exp and before nbf', async () => {
    seen(await get('/required', bearer(await token(rsa, rsaClaims({ exp: now() - 30 })))));
    seen(await get('/required', bearer(await token(rsa, rsaClaims({ nbf: now() + 30 })))));
  });

  it('puts its payload in dynamic metadata under envoy.filters.http.jwt_authn / payload_in_metadata', async () => {
    const claims = rsaClaims({ groups: ['dev'] });
    const got = seen(await get('/required', bearer(await token(rsa, claims))));
    assert.deepEqual(JSON.parse(got.headers['x-dynamic-metadata'] as string), { 'envoy.filters.http.jwt_authn': { payload: claims } });
  });

  it('in an array aud matches one of the provider audiences (scheme and trailing slash ignored, as Envoy)', async () => {
    seen(await get('/required', bearer(await token(rsa, rsaClaims({ aud: ['other', 'https://api.example.com/'] })))));
  });
});

describe('an invalid token is refused with 401, Envoy\'s reason and www-authenticate', () => {
  it('expired', async () => {
    assertRefused(await get('/required', bearer(await token(rsa, rsaClaims({ exp: now() - 120 })))), 'Jwt is expired', '/required');
  });

  it('not yet valid', async () => {
    assertRefused(await get('/required', bearer(await token(rsa, rsaClaims({ nbf: now() + 120 })))), 'Jwt not yet valid', '/required');
  });

  it('from another issuer', async () => {
    const reply = await get('/required', bearer(await token(rsa, rsaClaims({ iss: 'https://evil.example.com' }))));
    assertRefused(reply, 'Jwt issuer is not configured', '/required');
  });

  it('for another audience (403, as Envoy answers a disallowed audience)', async () => {
    const reply = await get('/required?q=1', bearer(await token(rsa, rsaClaims({ aud: 'someone-else' }))));
    assertRefused(reply, 'Audiences in Jwt are not allowed', '/required?q=1', 403);
  });

  it('with a bad signature', async () => {
    const good = await token(rsa, rsaClaims());
    const forged = await token(rsa, rsaClaims({ sub: 'mallory' }));
    const [h, p] = forged.split('.');
    assertRefused(await get('/required', bearer(`${h}.${p}.${good.split('.')[2]}`)), 'Jwt verification fails', '/required');
  });

  it('with alg none', async () => {
    assertRefused(await get('/required', bearer(unsignedToken(rsaClaims()))), 'Jwt header [alg] is not supported', '/required');
  });

  it('signed by a key that is not in the JWKS (unknown kid)', async () => {
    const reply = await get('/required', bearer(await token(stranger, rsaClaims())));
    assertRefused(reply, "Jwks doesn't have key to match kid or alg from Jwt", '/required');
  });

  it('signed by a key that is not in the JWKS but claims its kid', async () => {
    const reply = await get('/required', bearer(await token(stranger, rsaClaims(), { kid: 'rsa-1' })));
    assertRefused(reply, 'Jwt verification fails', '/required');
  });

  it('HS256 "signed" with the RSA public key (PEM or JWK bytes): an asymmetric key is never an HMAC secret', async () => {
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    for (const secret of [pem, JSON.stringify(rsa.jwk), Buffer.from(rsa.jwk.n!, 'base64url')]) {
      for (const kid of [undefined, 'rsa-1']) {
        const reply = await get('/required', bearer(hmacToken(secret, rsaClaims(), kid === undefined ? {} : { kid })));
        assertRefused(reply, "Jwks doesn't have key to match kid or alg from Jwt", '/required');
      }
    }
  });

  it('that is not a JWT at all', async () => {
    const reply = await get('/required', bearer('not-a-token'));
    assertRefused(reply, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections', '/required');
  });
});

describe('requirements', () => {
  it('a missing token fails a provider_name requirement with 401 "Jwt is missing" and a challenge without error', async () => {
    const before = upstream.count;
    const reply = await get('/required');
    assert.equal(reply.status, 401);
    assert.equal(reply.body, 'Jwt is missing');
    assert.equal(reply.headers['www-authenticate'], 'Bearer realm="http://api.example.com/required"');
    assert.equal(upstream.count, before, 'not forwarded');
  });

  it('Istio\'s requires_any with allow_missing: no token passes, a valid token of either provider passes, an invalid one gets 401', async () => {
    const noToken = seen(await get('/istio'));
    assert.equal(noToken.headers['x-dynamic-metadata'], undefined);
    const rsaOk = seen(await get('/istio', bearer(await token(rsa, rsaClaims()))));
    assert.equal(rsaOk.headers['x-jwt-sub'], 'alice');
    seen(await get('/istio', { 'x-ec-token': `Token ${await token(ec, { iss: ecIssuer, exp: now() + 60 })}` }));
    assertRefused(await get('/istio', bearer(await token(rsa, rsaClaims({ exp: now() - 3600 })))), 'Jwt is expired', '/istio');
    assertRefused(await get('/istio', bearer(await token(stranger, rsaClaims()))), "Jwks doesn't have key to match kid or alg from Jwt", '/istio');
    assertRefused(await get('/istio', bearer(await token(rsa, rsaClaims({ iss: 'https://unknown.example.com' })))), 'Jwt issuer is not configured', '/istio');
  });

  it('a token is tried against the provider of its issuer when several providers read the same header', async () => {
    // "rsa" and "second" both read Authorization: Bearer; a token is checked by the provider of its iss.
    const got = seen(await get('/istio', bearer(await token(stranger, { iss: secondIssuer, exp: now() + 60 }))));
    assert.equal(got.headers.authorization, undefined);
    assert.equal(got.headers['x-jwt-sub'], undefined, 'rsa\'s claim_to_headers are not applied to second\'s token');
    // second's own failure is reported, not rsa's "issuer not configured".
    assertRefused(await get('/istio', bearer(await token(stranger, { iss: secondIssuer, exp: now() - 3600 }))), 'Jwt is expired', '/istio');
    // "param" trusts the RSA key but reads only ?jwt=: its token in Authorization is not its.
    assertRefused(await get('/istio', bearer(await token(rsa, { iss: paramIssuer, exp: now() + 60 }))), 'Jwt issuer is not configured', '/istio');
  });

  it('HS256 verifies with an oct key of the JWKS (and only with it)', async () => {
    seen(await get('/hmac', { 'x-hmac-token': hmacToken(hmacSecret, { iss: hmacIssuer, exp: now() + 60 }) }));
    const wrongSecret = hmacToken(Buffer.from('another secret'), { iss: hmacIssuer, exp: now() + 60 });
    assertRefused(await get('/hmac', { 'x-hmac-token': wrongSecret }), 'Jwt verification fails', '/hmac');
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    assertRefused(await get('/hmac', { 'x-hmac-token': hmacToken(pem, { iss: hmacIssuer, exp: now() + 60 }) }), 'Jwt verification fails', '/hmac');
  });

  it('Istio\'s form for two jwtRules on one location: no token passes, a valid token of either passes, an invalid one gets 401', async () => {
    const istio = (path: string, headers: Record<string, string> = {}): Promise<Reply> =>
      send(harness.port('istio'), path, { headers, agent, host: 'api.example.com' });
    const none = seen(await istio('/anything'));
    assert.equal(none.headers['x-dynamic-metadata'], undefined);
    const first = seen(await istio('/a', bearer(await token(rsa, rsaClaims({ scope: 'read write' })))));
    assert.deepEqual(JSON.parse(first.headers['x-dynamic-metadata'] as string)['envoy.filters.http.jwt_authn'].payload.scope, ['read', 'write']);
    const second = seen(await istio('/b', bearer(await token(stranger, { iss: secondIssuer, sub: 'svc' }))));
    assert.equal(JSON.parse(second.headers['x-dynamic-metadata'] as string)['envoy.filters.http.jwt_authn'].payload.sub, 'svc');
    const expired = await istio('/c', bearer(await token(stranger, { iss: secondIssuer, exp: now() - 3600 })));
    assertRefused(expired, 'Jwt is expired', '/c');
    const wrongKey = await istio('/d', bearer(await token(rsa, { iss: secondIssuer })));
    assertRefused(wrongKey, "Jwks doesn't have key to match kid or alg from Jwt", '/d');
    assertRefused(await istio('/e', bearer(await token(rsa, { iss: 'https://nobody.example.com' }))), 'Jwt issuer is not configured', '/e');
  });

  it('requires_all needs every provider\'s token', async () => {
    const r = await token(rsa, rsaClaims());
    const e = await token(ec, { iss: ecIssuer, exp: now() + 60 });
    const both = seen(await get('/all', { ...bearer(r), 'x-ec-token': `Token ${e}` }));
    assert.equal(both.headers['x-jwt-sub'], 'alice');
    const onlyRsa = await get('/all', bearer(r));
    assert.equal(onlyRsa.status, 401);
    assert.equal(onlyRsa.body, 'Jwt is missing');
  });

  it('provider_and_audiences replaces the provider\'s audiences', async () => {
    const forReports = await token(ec, { iss: ecIssuer, aud: 'reports', exp: now() + 60 });
    seen(await get('/audience', { 'x-ec-token': `Token ${forReports}` }));
    const forOthers = await token(ec, { iss: ecIssuer, aud: 'api.example.com', exp: now() + 60 });
    assertRefused(await get('/audience', { 'x-ec-token': `Token ${forOthers}` }), 'Audiences in Jwt are not allowed', '/audience', 403);
  });

  it('a rule without requires, or no matching rule, lets requests through unverified', async () => {
    seen(await get('/named'));
    seen(await get('/public', bearer('garbage')));
    seen(await get('/elsewhere', bearer('garbage')));
  });

  it('requirement_name refers to requirement_map', async () => {
    assert.equal((await get('/by-name')).body, 'Jwt is missing');
    seen(await get('/by-name', bearer(await token(rsa, rsaClaims()))));
  });

  it('a route can turn verification off or name a requirement (PerRouteConfig)', async () => {
    seen(await get('/required/disabled'));
    assert.equal((await get('/public/by-name')).status, 401);
    seen(await get('/public/by-name', bearer(await token(rsa, rsaClaims()))));
    const unknown = await get('/public/unknown-name');
    assert.equal(unknown.status, 403);
    assert.match(unknown.body, /^Failed JWT authentication: .*nope/);
  });

  it('CORS preflights pass without a token with bypass_cors_preflight', async () => {
    const reply = await get('/required', { origin: 'https://app.example.com', 'access-control-request-method': 'GET' }, 'OPTIONS');
    assert.equal(reply.status, 200);
    const plainOptions = await get('/required', {}, 'OPTIONS');
    assert.equal(plainOptions.status, 401);
  });

  it('headers only the filter may write are removed from incoming requests', async () => {
    const got = seen(await get('/istio', { 'x-jwt-sub': 'admin', 'x-jwt-payload': 'forged' }));
    assert.equal(got.headers['x-jwt-sub'], undefined);
    assert.equal(got.headers['x-jwt-payload'], undefined);
  });

  it('are counted as allowed and denied under the connection manager\'s stat_prefix', async () => {
    const stats = jwtAuthnStatsOf(harness.stats.httpConnectionManagers.get('jwt')!);
    const before = { allowed: stats.allowed, denied: stats.denied };
    await get('/required');
    seen(await get('/required', bearer(await token(rsa, rsaClaims()))));
    assert.deepEqual({ allowed: stats.allowed - before.allowed, denied: stats.denied - before.denied }, { allowed: 1, denied: 1 });
  });
});
