// Each shape of an authorization rule (every source and operation field and its negation, every
// `when` key) → the Envoy RBAC permissions and principals it becomes, checked against Envoy's protos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthorizationRule } from '../../../../src/api/index.ts';
import { authorizationPolicy, filtersFor, onlyFilter, type Json } from './fixtures.ts';

const and = (rules: Json[]) => ({ and_rules: { rules } });
const or = (rules: Json[]) => ({ or_rules: { rules } });
const not = (rule: Json) => ({ not_rule: rule });
const andIds = (ids: Json[]) => ({ and_ids: { ids } });
const orIds = (ids: Json[]) => ({ or_ids: { ids } });
const notId = (id: Json) => ({ not_id: id });
const anyPermission = and([{ any: true }]);
const anyPrincipal = andIds([{ any: true }]);
const identity = (m: Json) => ({ authenticated: { principal_name: m } });
const jwt = (path: string[], value: Json) => ({ metadata: { filter: 'envoy.filters.http.jwt_authn', path: ['payload', ...path].map((key) => ({ key })), value } });
const str = (m: Json) => ({ string_match: m });
const claimOneOf = (value: Json) => ({ or_match: { value_matchers: [{ list_match: { one_of: value } }, value] } });
const cidr = (address_prefix: string, len: number) => ({ address_prefix, prefix_len: { value: len } });
const authority = (m: Json) => ({ header: { name: ':authority', ...m } });

interface Row {
  name: string;
  rule: AuthorizationRule;
  permissions?: Json[];
  principals?: Json[];
  trustDomain?: string;
}

const rows: Row[] = [
  { name: 'an empty rule matches every request', rule: {}, permissions: [anyPermission], principals: [anyPrincipal] },
  {
    name: 'principals: exact, prefix, suffix and any become the SPIFFE identity of the peer certificate',
    rule: { from: [{ source: { principals: ['cluster.local/ns/a/sa/b', 'cluster.local/ns/a/*', '*/sa/b', '*'] } }] },
    principals: [andIds([orIds([
      identity({ exact: 'spiffe://cluster.local/ns/a/sa/b' }),
      identity({ prefix: 'spiffe://cluster.local/ns/a/' }),
      identity({ safe_regex: { regex: 'spiffe://.*/sa/b' } }),
      identity({ safe_regex: { regex: '.+' } }),
    ])])],
  },
  {
    name: 'notPrincipals negates the OR of its values',
    rule: { from: [{ source: { notPrincipals: ['other.td/ns/a/sa/b', 'other.td/ns/c/sa/d'] } }] },
    principals: [andIds([notId(orIds([identity({ exact: 'spiffe://other.td/ns/a/sa/b' }), identity({ exact: 'spiffe://other.td/ns/c/sa/d' })]))])],
  },
  {
    name: 'principals naming cluster.local follow the mesh trust domain',
    trustDomain: 'example.org',
    rule: { from: [{ source: { principals: ['cluster.local/ns/a/sa/b', 'other.td/ns/a/sa/b'] } }] },
    principals: [andIds([orIds([identity({ exact: 'spiffe://example.org/ns/a/sa/b' }), identity({ exact: 'spiffe://other.td/ns/a/sa/b' })])])],
  },
  {
    name: 'namespaces and notNamespaces match the /ns/ segment of the identity, * as a wildcard',
    rule: { from: [{ source: { namespaces: ['prod', 'team.a'], notNamespaces: ['dev*'] } }] },
    principals: [andIds([
      orIds([identity({ safe_regex: { regex: '.*/ns/prod/.*' } }), identity({ safe_regex: { regex: '.*/ns/team\\.a/.*' } })]),
      notId(orIds([identity({ safe_regex: { regex: '.*/ns/dev.*/.*' } })])),
    ])],
  },
  {
    name: 'serviceAccounts and notServiceAccounts: ns/sa, or sa in the policy namespace',
    rule: { from: [{ source: { serviceAccounts: ['bar/sleep'], notServiceAccounts: ['curl'] } }] },
    principals: [andIds([
      orIds([identity({ safe_regex: { regex: 'spiffe://.+/ns/bar/(.+/|)sa/sleep(/.+)?' } })]),
      notId(orIds([identity({ safe_regex: { regex: 'spiffe://.+/ns/foo/(.+/|)sa/curl(/.+)?' } })])),
    ])],
  },
  {
    name: 'ipBlocks and notIpBlocks are the direct peer address, a bare address a full-length prefix',
    rule: { from: [{ source: { ipBlocks: ['10.0.0.0/8', '1.2.3.4'], notIpBlocks: ['10.1.0.0/16', '::1'] } }] },
    principals: [andIds([
      orIds([{ direct_remote_ip: cidr('10.0.0.0', 8) }, { direct_remote_ip: cidr('1.2.3.4', 32) }]),
      notId(orIds([{ direct_remote_ip: cidr('10.1.0.0', 16) }, { direct_remote_ip: cidr('::1', 128) }])),
    ])],
  },
  {
    name: 'remoteIpBlocks and notRemoteIpBlocks are the original client address',
    rule: { from: [{ source: { remoteIpBlocks: ['192.168.0.0/24'], notRemoteIpBlocks: ['192.168.0.7'] } }] },
    principals: [andIds([
      orIds([{ remote_ip: cidr('192.168.0.0', 24) }]),
      notId(orIds([{ remote_ip: cidr('192.168.0.7', 32) }])),
    ])],
  },
  {
    name: 'requestPrincipals iss/sub compares the issuer and subject claims of the JWT',
    rule: { from: [{ source: { requestPrincipals: ['https://issuer.example/alice'] } }] },
    principals: [andIds([orIds([
      andIds([jwt(['iss'], str({ exact: 'https:' })), jwt(['sub'], str({ exact: '/issuer.example/alice' }))]),
      andIds([jwt(['iss'], str({ exact: 'https:/' })), jwt(['sub'], str({ exact: 'issuer.example/alice' }))]),
      andIds([jwt(['iss'], str({ exact: 'https://issuer.example' })), jwt(['sub'], str({ exact: 'alice' }))]),
    ])])],
  },
  {
    name: 'notRequestPrincipals * matches requests without a verified JWT',
    rule: { from: [{ source: { notRequestPrincipals: ['*'] } }] },
    principals: [andIds([notId(jwt(['iss'], { present_match: true }))])],
  },
  {
    name: 'hosts: the :authority header, case-insensitive, with exact, suffix, prefix and presence',
    rule: { to: [{ operation: { hosts: ['example.com', '*.example.com', 'example.*', '*'] } }] },
    permissions: [and([or([
      authority({ string_match: { exact: 'example.com', ignore_case: true } }),
      authority({ string_match: { suffix: '.example.com', ignore_case: true } }),
      authority({ string_match: { prefix: 'example.', ignore_case: true } }),
      authority({ present_match: true }),
    ])])],
  },
  {
    name: 'notHosts negates the OR of its hosts',
    rule: { to: [{ operation: { notHosts: ['admin.example.com'] } }] },
    permissions: [and([not(or([authority({ string_match: { exact: 'admin.example.com', ignore_case: true } })]))])],
  },
  {
    name: 'methods and notMethods: the :method header',
    rule: { to: [{ operation: { methods: ['GET', 'HEAD'], notMethods: ['DELETE'] } }] },
    permissions: [and([
      or([{ header: { name: ':method', string_match: { exact: 'GET' } } }, { header: { name: ':method', string_match: { exact: 'HEAD' } } }]),
      not(or([{ header: { name: ':method', string_match: { exact: 'DELETE' } } }])),
    ])],
  },
  {
    name: 'paths: the path without query, exact, prefix, suffix and any',
    rule: { to: [{ operation: { paths: ['/info', '/api/*', '*.png', '*'] } }] },
    permissions: [and([or([
      { url_path: { path: { exact: '/info' } } },
      { url_path: { path: { prefix: '/api/' } } },
      { url_path: { path: { suffix: '.png' } } },
      { url_path: { path: { safe_regex: { regex: '.+' } } } },
    ])])],
  },
  {
    name: 'notPaths with {*} (one segment) and {**} (any segments) templates match path segments',
    rule: { to: [{ operation: { notPaths: ['/v1/{*}/items.json/{**}'] } }] },
    permissions: [and([not(or([{
      url_path: { path: { safe_regex: { regex: "/v1/[a-zA-Z0-9._~%!$&'()+,;:@=-]+/items\\.json/[a-zA-Z0-9._~%!$&'()+,;:@=/-]*" } } },
    }]))])],
  },
  {
    name: 'ports and notPorts: the destination port',
    rule: { to: [{ operation: { ports: ['8080', '9090'], notPorts: ['15000'] } }] },
    permissions: [and([or([{ destination_port: 8080 }, { destination_port: 9090 }]), not(or([{ destination_port: 15000 }]))])],
  },
  {
    name: 'when request.headers[name]: a header of the request, values and notValues',
    rule: { when: [{ key: 'request.headers[x-token]', values: ['abc', 'pre*'], notValues: ['*bad'] }] },
    permissions: [anyPermission],
    principals: [andIds([
      orIds([{ header: { name: 'x-token', string_match: { exact: 'abc' } } }, { header: { name: 'x-token', string_match: { prefix: 'pre' } } }]),
      notId(orIds([{ header: { name: 'x-token', string_match: { suffix: 'bad' } } }])),
    ])],
  },
  {
    name: 'when source.ip and remote.ip',
    rule: { when: [{ key: 'source.ip', values: ['10.0.0.1'] }, { key: 'remote.ip', notValues: ['10.9.0.0/16'] }] },
    principals: [andIds([orIds([{ direct_remote_ip: cidr('10.0.0.1', 32) }]), notId(orIds([{ remote_ip: cidr('10.9.0.0', 16) }]))])],
  },
  {
    name: 'when source.namespace, source.principal, source.serviceAccount',
    rule: {
      when: [
        { key: 'source.namespace', values: ['bar'] },
        { key: 'source.principal', values: ['cluster.local/ns/bar/sa/sleep'] },
        { key: 'source.serviceAccount', values: ['sleep'] },
      ],
    },
    principals: [andIds([
      orIds([identity({ safe_regex: { regex: '.*/ns/bar/.*' } })]),
      orIds([identity({ exact: 'spiffe://cluster.local/ns/bar/sa/sleep' })]),
      orIds([identity({ safe_regex: { regex: 'spiffe://.+/ns/foo/(.+/|)sa/sleep(/.+)?' } })]),
    ])],
  },
  {
    name: 'when source.trustDomain: any, exact and wildcard',
    rule: { when: [{ key: 'source.trustDomain', values: ['*', 'td1', 'td-*'] }] },
    principals: [andIds([orIds([
      identity({ prefix: 'spiffe://' }),
      identity({ prefix: 'spiffe://td1/' }),
      identity({ safe_regex: { regex: 'spiffe://td-[^/]*/.*' } }),
    ])])],
  },
  {
    name: 'when destination.ip, destination.port and connection.sni are permissions',
    rule: {
      when: [
        { key: 'destination.ip', values: ['10.0.0.0/24'] },
        { key: 'destination.port', notValues: ['8443'] },
        { key: 'connection.sni', values: ['*.example.com'] },
      ],
    },
    permissions: [and([
      or([{ destination_ip: cidr('10.0.0.0', 24) }]),
      not(or([{ destination_port: 8443 }])),
      or([{ requested_server_name: { suffix: '.example.com' } }]),
    ])],
    principals: [anyPrincipal],
  },
  {
    name: 'when request.auth.principal is the JWT iss/sub',
    rule: { when: [{ key: 'request.auth.principal', values: ['iss/sub'] }] },
    principals: [andIds([andIds([jwt(['iss'], str({ exact: 'iss' })), jwt(['sub'], str({ exact: 'sub' }))])])],
  },
  {
    name: 'when request.auth.audiences matches the aud claim, a string or a list',
    rule: { when: [{ key: 'request.auth.audiences', values: ['books'], notValues: ['admin*'] }] },
    principals: [andIds([
      jwt(['aud'], claimOneOf(str({ exact: 'books' }))),
      notId(jwt(['aud'], claimOneOf(str({ prefix: 'admin' })))),
    ])],
  },
  {
    name: 'when request.auth.presenter matches the azp claim, values OR-ed',
    rule: { when: [{ key: 'request.auth.presenter', values: ['web', 'cli'] }] },
    principals: [andIds([jwt(['azp'], claimOneOf({ or_match: { value_matchers: [str({ exact: 'web' }), str({ exact: 'cli' })] } }))])],
  },
  {
    name: 'when request.auth.claims[a][b] matches a nested claim',
    rule: { when: [{ key: 'request.auth.claims[groups]', values: ['admins'] }, { key: 'request.auth.claims[realm][role]', values: ['*'] }] },
    principals: [andIds([
      jwt(['groups'], claimOneOf(str({ exact: 'admins' }))),
      jwt(['realm', 'role'], claimOneOf(str({ safe_regex: { regex: '.+' } }))),
    ])],
  },
  {
    name: 'when experimental.envoy.filters.* reads another filter\'s dynamic metadata',
    rule: { when: [{ key: 'experimental.envoy.filters.network.mysql_proxy[db.table]', values: ['[update]', 'read'] }] },
    permissions: [and([{
      metadata: {
        filter: 'envoy.filters.network.mysql_proxy',
        path: [{ key: 'db.table' }],
        value: { or_match: { value_matchers: [{ list_match: { one_of: str({ exact: 'update' }) } }, str({ exact: 'read' })] } },
      },
    }])],
  },
  {
    name: 'each from is one principal and each to one permission; when conditions join every one of them',
    rule: {
      from: [{ source: { namespaces: ['a'] } }, { source: { ipBlocks: ['10.0.0.1'] } }],
      to: [{ operation: { methods: ['GET'] } }, { operation: { ports: ['80'] } }],
      when: [{ key: 'destination.port', values: ['80'] }, { key: 'source.ip', values: ['10.0.0.2'] }],
    },
    permissions: [
      and([or([{ header: { name: ':method', string_match: { exact: 'GET' } } }]), or([{ destination_port: 80 }])]),
      and([or([{ destination_port: 80 }]), or([{ destination_port: 80 }])]),
    ],
    principals: [
      andIds([orIds([identity({ safe_regex: { regex: '.*/ns/a/.*' } })]), orIds([{ direct_remote_ip: cidr('10.0.0.2', 32) }])]),
      andIds([orIds([{ direct_remote_ip: cidr('10.0.0.1', 32) }]), orIds([{ direct_remote_ip: cidr('10.0.0.2', 32) }])]),
    ],
  },
  {
    name: 'fields of one source are AND-ed in Istio\'s order',
    rule: { from: [{ source: { ipBlocks: ['10.0.0.1'], principals: ['cluster.local/ns/a/sa/b'], namespaces: ['a'] } }] },
    principals: [andIds([
      orIds([identity({ exact: 'spiffe://cluster.local/ns/a/sa/b' })]),
      orIds([identity({ safe_regex: { regex: '.*/ns/a/.*' } })]),
      orIds([{ direct_remote_ip: cidr('10.0.0.1', 32) }]),
    ])],
  },
];

for (const row of rows) {
  test(`authorization rule shape: ${row.name}`, () => {
    const { http, warnings } = filtersFor({
      authorizationPolicies: [authorizationPolicy('p', 'foo', { rules: [row.rule] })],
      trustDomain: row.trustDomain,
    });
    assert.deepEqual(warnings, []);
    const rbac = onlyFilter(http, 'envoy.filters.http.rbac');
    assert.equal(rbac.rules.action, 'ALLOW');
    const policy = rbac.rules.policies['ns[foo]-policy[p]-rule[0]'];
    assert.ok(policy, 'the rule is named after its namespace, policy and index');
    assert.deepEqual(policy.permissions, row.permissions ?? [anyPermission]);
    assert.deepEqual(policy.principals, row.principals ?? [anyPrincipal]);
  });
}

test('path templates: {*} matches exactly one segment, {**} any number of them', async () => {
  const { pathTemplateRegex } = await import('../../../../src/control-plane/generate/security/rbac-permissions.ts');
  const matches = (template: string, path: string) => new RegExp(`^(?:${pathTemplateRegex(template)})$`).test(path);
  assert.equal(matches('/v1/{*}/items', '/v1/abc/items'), true);
  assert.equal(matches('/v1/{*}/items', '/v1/a/b/items'), false);
  assert.equal(matches('/v1/{*}/items', '/v1//items'), false);
  assert.equal(matches('/v1/{*}/items', '/v1/abc/itemsX'), false);
  assert.equal(matches('/files/{**}', '/files/a/b/c.txt'), true);
  assert.equal(matches('/files/{**}', '/files/'), true);
  assert.equal(matches('/files/{**}', '/filesX/a'), false);
  assert.equal(matches('/a.b/{*}', '/aXb/c'), false, 'literal parts are not regex');
});
