// Provider options of the JWT filter beyond the basics: token lifetime limits, allowed subjects, what
// a verified token leaves in dynamic metadata (header, normalised payload) and how RBAC reads it,
// routing on a claim header after clear_route_cache, stripped failure responses, and requests with
// bodies waiting while the signature is checked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type http2 from 'node:http2';
import { registerHttpFilter } from '../../src/proxy/http/filters/registry.ts';
import { FilterStatus, PassThroughFilter } from '../../src/proxy/http/filters/filter.ts';
import type { HttpStream } from '../../src/proxy/http/stream.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { send, type Reply } from './support/client.ts';
import { connect, request } from './support/http2.ts';
import { Harness } from './support/harness.ts';
import { jwks, jwtFilter, now, provider, rule, signingKey, token, type SigningKey } from './support/jwt.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, routerFilter, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
const cluster = 'outbound|8000||httpbin.default.svc.cluster.local';
let upstream: Upstream;
let agent: http.Agent;
let key: SigningKey;
let session: http2.ClientHttp2Session | null = null;

const metadataEchoTypeUrl = 'type.googleapis.com/weft.test.JwtMetadataEcho';
/** Copies the request's dynamic metadata into a request header, so the upstream shows it. */
class MetadataEcho extends PassThroughFilter {
  override decodeHeaders(stream: HttpStream): FilterStatus {
    if (stream.dynamicMetadata !== null) stream.requestHeaders.push('x-dynamic-metadata', JSON.stringify(stream.dynamicMetadata));
    return FilterStatus.Continue;
  }
}

function jwtConfig(extra: Obj = {}): Obj {
  const k = jwks(key.jwk);
  return {
    providers: {
      life: provider('https://life.example.com', k, { max_lifetime: { seconds: 3600 } }),
      expiring: provider('https://expiring.example.com', k, { require_expiration: true }),
      subjects: provider('https://spiffe.example.com', k, { subjects: { prefix: 'spiffe://example.com/' } }),
      meta: provider('https://meta.example.com', k, {
        payload_in_metadata: 'payload',
        header_in_metadata: 'header',
        normalize_payload_in_metadata: { space_delimited_claims: ['scope'] },
        claim_to_headers: [{ header_name: 'x-tier', claim_name: 'tier' }],
        clear_route_cache: true,
      }),
    },
    rules: [
      rule('/life', { provider_name: 'life' }),
      rule('/require-exp', { provider_name: 'expiring' }),
      rule('/subjects', { provider_name: 'subjects' }),
      rule('/', { provider_name: 'meta' }),
    ],
    ...extra,
  };
}

/** RBAC allowing only requests whose verified payload has sub "alice" (as Istio's requestPrincipals become). */
const rbacFilter = {
  name: 'envoy.filters.http.rbac',
  typed_config: {
    '@type': TypeUrl.Rbac,
    rules: {
      action: 'ALLOW',
      policies: {
        alice: {
          permissions: [{ any: true }],
          principals: [{
            metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'sub' }], value: { string_match: { exact: 'alice' } } },
          }],
        },
      },
    },
  },
};

function routes(name: string): Obj {
  return routeConfig(name, [virtualHost('all', ['*'], [
    { match: { prefix: '/tiered', headers: [{ name: 'x-tier', string_match: { exact: 'gold' } }] }, direct_response: { status: 200, body: { inline_string: 'gold route' } } },
    route({ prefix: '/' }, routeTo(cluster)),
  ])]);
}

function get(listener: string, path: string, t?: string, options: { method?: string; body?: string } = {}): Promise<Reply> {
  return send(harness.port(listener), path, { ...options, agent, headers: t === undefined ? {} : { authorization: `Bearer ${t}` } });
}

function upstreamSaw(reply: Reply): { headers: Record<string, string>; url: string } {
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body) as { headers: Record<string, string>; url: string };
}

before(async () => {
  key = await signingKey('ES256', 'k1');
  registerHttpFilter(metadataEchoTypeUrl, (_c, _at, name) => () => new MetadataEcho(name));
  upstream = await startUpstream('httpbin', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ headers: req.headers, url: req.url, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  const echo = { name: 'echo', typed_config: { '@type': metadataEchoTypeUrl } };
  await harness.apply({
    clusters: [edsCluster(cluster)],
    endpoints: [assignment(cluster, [upstream.port])],
    listeners: [
      httpListener('opts', { rds: 'opts', hcm: { http_filters: [jwtFilter(jwtConfig()), echo, routerFilter] } }),
      httpListener('strip', { rds: 'opts', hcm: { http_filters: [jwtFilter(jwtConfig({ strip_failure_response: true })), routerFilter] } }),
      httpListener('rbac', { rds: 'opts', hcm: { http_filters: [jwtFilter(jwtConfig()), rbacFilter, routerFilter] } }),
      httpListener('h2', { rds: 'opts', hcm: { codec_type: 'HTTP2', http_filters: [jwtFilter(jwtConfig()), routerFilter] } }),
    ],
    routes: [routes('opts')],
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
});

after(async () => {
  session?.close();
  agent.destroy();
  await harness.close();
  await upstream.close();
});

describe('token lifetime and subjects', () => {
  it('max_lifetime refuses a token that lives longer, or has no exp', async () => {
    upstreamSaw(await get('opts', '/life', await token(key, { iss: 'https://life.example.com', exp: now() + 600 })));
    const long = await get('opts', '/life', await token(key, { iss: 'https://life.example.com', exp: now() + 7200 }));
    assert.equal(long.status, 401);
    assert.equal(long.body, 'Jwt is expired');
    assert.equal((await get('opts', '/life', await token(key, { iss: 'https://life.example.com' }))).status, 401);
  });

  it('require_expiration refuses a token without exp', async () => {
    upstreamSaw(await get('opts', '/require-exp', await token(key, { iss: 'https://expiring.example.com', exp: now() + 999_999 })));
    assert.equal((await get('opts', '/require-exp', await token(key, { iss: 'https://expiring.example.com' }))).status, 401);
  });

  it('subjects restricts the sub a provider may assert', async () => {
    upstreamSaw(await get('opts', '/subjects', await token(key, { iss: 'https://spiffe.example.com', sub: 'spiffe://example.com/ns/a/sa/b' })));
    const other = await get('opts', '/subjects', await token(key, { iss: 'https://spiffe.example.com', sub: 'spiffe://evil.com/ns/a/sa/b' }));
    assert.equal(other.status, 401);
    assert.equal(other.body, 'Jwt verification fails');
  });
});

describe('what a verified token leaves behind', () => {
  it('the JWT header and the payload (space-delimited claims as lists) in dynamic metadata', async () => {
    const claims = { iss: 'https://meta.example.com', sub: 'alice', scope: 'read  write', exp: now() + 60 };
    const saw = upstreamSaw(await get('opts', '/meta', await token(key, claims)));
    assert.deepEqual(JSON.parse(saw.headers['x-dynamic-metadata']), {
      'envoy.filters.http.jwt_authn': {
        header: { alg: 'ES256', kid: 'k1', typ: 'JWT' },
        payload: { ...claims, scope: ['read', 'write'] },
      },
    });
  });

  it('RBAC reads the payload there: only alice is allowed', async () => {
    upstreamSaw(await get('rbac', '/meta', await token(key, { iss: 'https://meta.example.com', sub: 'alice' })));
    const bob = await get('rbac', '/meta', await token(key, { iss: 'https://meta.example.com', sub: 'bob' }));
    assert.equal(bob.status, 403);
    assert.equal(bob.body, 'RBAC: access denied');
  });

  it('clear_route_cache: the route is chosen again with the claim header', async () => {
    const gold = await get('opts', '/tiered', await token(key, { iss: 'https://meta.example.com', tier: 'gold' }));
    assert.equal(gold.body, 'gold route');
    const silver = upstreamSaw(await get('opts', '/tiered', await token(key, { iss: 'https://meta.example.com', tier: 'silver' })));
    assert.equal(silver.headers['x-tier'], 'silver');
  });
});

describe('answers', () => {
  it('strip_failure_response: a bare 401, without body or www-authenticate', async () => {
    const reply = await get('strip', '/meta', 'x.y.z');
    assert.equal(reply.status, 401);
    assert.equal(reply.body, '');
    assert.equal(reply.headers['www-authenticate'], undefined);
  });

  it('a request body waits while the signature is checked, then reaches the upstream whole', async () => {
    const body = 'x'.repeat(256 * 1024);
    const reply = await get('opts', '/upload', await token(key, { iss: 'https://meta.example.com' }), { method: 'POST', body });
    const saw = JSON.parse(reply.body) as { body: string };
    assert.equal(reply.status, 200);
    assert.equal(saw.body.length, body.length);
  });

  it('over HTTP/2: a token is verified and a failure is answered with the challenge', async () => {
    session = connect(harness.port('h2'));
    const t = await token(key, { iss: 'https://meta.example.com', tier: 'silver' });
    const ok = await request(session, '/h2', { authority: 'api.example.com', headers: { authorization: `Bearer ${t}` } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as { headers: Record<string, string> }).headers['x-tier'], 'silver');
    const bad = await request(session, '/h2', { authority: 'api.example.com', headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.body, 'Jwt header is an invalid JSON');
    assert.equal(bad.headers['www-authenticate'], 'Bearer realm="http://api.example.com/h2", error="invalid_token"');
  });
});
