// AuthorizationPolicy semantics as a table, end to end: each row's Istio YAML goes through the
// control plane's generator into a workload's inbound listeners of a real data plane, and real
// requests (plaintext, or mutual TLS with a SPIFFE client certificate; JWTs made with jose) must get
// the answer Istio gives. A row fails when either the translation or the enforcement of its rule
// shape is wrong.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyTable, type HttpProbe, type TcpProbe } from './policy-table-support.ts';

interface Row {
  /** The rule shape and action, as a user would say it. */
  name: string;
  /** AuthorizationPolicy documents (YAML). */
  policies: string;
  /** Adds the RequestAuthentication that trusts the table's JWT issuer. */
  jwt?: boolean;
  http?: HttpProbe[];
  tcp?: TcpProbe[];
  /** Dry run: the HTTP shadow counter (with its stat prefix) that the row's requests must each add to. */
  shadow?: { counter: 'shadow_allowed' | 'shadow_denied'; prefix: string };
  /** A known gap: the row runs but its failure does not fail the suite. */
  todo?: string;
}

const selector = 'selector: { matchLabels: { app: httpbin } }';

/** One AuthorizationPolicy in namespace foo; `spec` is a YAML flow mapping's content. */
function policy(spec: string, options: { name?: string; namespace?: string; annotations?: string } = {}): string {
  const annotations = options.annotations ? `, annotations: ${options.annotations}` : '';
  return `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${options.name ?? 'policy'}, namespace: ${options.namespace ?? 'foo'}${annotations} }
spec: { ${spec} }
`;
}
const allow = (rules: string, name = 'allow') => policy(`${selector}, action: ALLOW, rules: ${rules}`, { name });
const deny = (rules: string, name = 'deny') => policy(`${selector}, action: DENY, rules: ${rules}`, { name });
const audit = (rules: string, name = 'audit') => policy(`${selector}, action: AUDIT, rules: ${rules}`, { name });

const from = (source: string) => `[{ from: [{ source: { ${source} } }] }]`;
const to = (operation: string) => `[{ to: [{ operation: { ${operation} } }] }]`;
const when = (condition: string, operation = '') => `[{ ${operation ? `to: [{ operation: { ${operation} } }], ` : ''}when: [{ ${condition} }] }]`;

const sourceRows: Row[] = [
  {
    name: 'ALLOW principals exact: only that workload identity is allowed',
    policies: allow(from('principals: ["cluster.local/ns/foo/sa/sleep"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }, { as: 'plaintext', expect: 403 }],
  },
  {
    name: 'ALLOW principals with a prefix wildcard (cluster.local/ns/foo/*)',
    policies: allow(from('principals: ["cluster.local/ns/foo/*"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }],
  },
  {
    name: 'ALLOW principals with a suffix wildcard (*/sa/sleep)',
    policies: allow(from('principals: ["*/sa/sleep"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }],
  },
  {
    name: 'ALLOW principals "*": any mTLS peer, never a plaintext client',
    policies: allow(from('principals: ["*"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 200 }, { as: 'plaintext', expect: 403 }],
  },
  {
    name: 'DENY principals exact: that identity is denied, others pass',
    policies: deny(from('principals: ["cluster.local/ns/foo/sa/sleep"]')),
    http: [{ as: 'sleep', expect: 403 }, { as: 'other', expect: 200 }, { as: 'plaintext', expect: 200 }],
  },
  {
    name: 'ALLOW notPrincipals: everyone but that identity (a plaintext client included)',
    policies: allow(from('notPrincipals: ["cluster.local/ns/foo/sa/sleep"]')),
    http: [{ as: 'sleep', expect: 403 }, { as: 'other', expect: 200 }, { as: 'plaintext', expect: 200 }],
  },
  {
    name: 'DENY notPrincipals: everyone but that identity is denied',
    policies: deny(from('notPrincipals: ["cluster.local/ns/foo/sa/sleep"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }, { as: 'plaintext', expect: 403 }],
  },
  {
    name: 'ALLOW namespaces: peers of that namespace only',
    policies: allow(from('namespaces: ["foo"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }, { as: 'plaintext', expect: 403 }],
  },
  {
    name: 'ALLOW notNamespaces: peers of every other namespace',
    policies: allow(from('notNamespaces: ["foo"]')),
    http: [{ as: 'sleep', expect: 403 }, { as: 'other', expect: 200 }],
  },
  {
    name: 'ALLOW trustDomains: only identities of that trust domain (not anyone, not plaintext)',
    policies: allow(from('trustDomains: ["partner.example"]')),
    http: [{ as: 'sleep', expect: 403 }, { as: 'other', expect: 403 }, { as: 'plaintext', expect: 403 }],
  },
  {
    // As every not- field in Istio (an Envoy not_id): a client without an identity is not of that trust domain either.
    name: 'ALLOW notTrustDomains: everything but identities of that trust domain',
    policies: allow(from('notTrustDomains: ["partner.example"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 200 }, { as: 'plaintext', expect: 200 }],
  },
  {
    name: 'DENY namespaces: peers of that namespace are denied',
    policies: deny(from('namespaces: ["bar"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }],
  },
  {
    name: 'ALLOW serviceAccounts (namespace/name, or a name in the policy namespace)',
    policies: allow(`[{ from: [{ source: { serviceAccounts: ["bar/other"] } }, { source: { serviceAccounts: ["sleep"] } }] }]`),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 200 }, { as: 'plaintext', expect: 403 }],
  },
  {
    name: 'ALLOW serviceAccounts: another account of the same namespace is not allowed',
    policies: allow(from('serviceAccounts: ["foo/httpbin"]')),
    http: [{ as: 'sleep', expect: 403 }],
  },
  {
    name: 'ALLOW ipBlocks: the client address 127.0.0.1/32 matches, 10.0.0.0/8 does not',
    policies: allow(`[{ from: [{ source: { ipBlocks: ["127.0.0.1/32"] } }], to: [{ operation: { paths: ["/local"] } }] },
      { from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }], to: [{ operation: { paths: ["/remote"] } }] }]`),
    http: [{ path: '/local', expect: 200 }, { path: '/remote', expect: 403 }],
  },
  {
    name: 'DENY notIpBlocks: a client outside the block is denied',
    policies: deny(`[{ from: [{ source: { notIpBlocks: ["127.0.0.0/8"] } }], to: [{ operation: { paths: ["/local"] } }] },
      { from: [{ source: { notIpBlocks: ["10.0.0.0/8"] } }], to: [{ operation: { paths: ["/remote"] } }] }]`),
    http: [{ path: '/local', expect: 200 }, { path: '/remote', expect: 403 }],
  },
  {
    name: 'ALLOW remoteIpBlocks and notRemoteIpBlocks: the original client address',
    policies: allow(`[{ from: [{ source: { remoteIpBlocks: ["127.0.0.1"] } }], to: [{ operation: { paths: ["/local"] } }] },
      { from: [{ source: { remoteIpBlocks: ["10.0.0.0/8"] } }], to: [{ operation: { paths: ["/remote"] } }] },
      { from: [{ source: { notRemoteIpBlocks: ["10.0.0.0/8"] } }], to: [{ operation: { paths: ["/not-remote"] } }] }]`),
    http: [{ path: '/local', expect: 200 }, { path: '/remote', expect: 403 }, { path: '/not-remote', expect: 200 }],
  },
];

const operationRows: Row[] = [
  {
    name: 'ALLOW hosts exact, compared case-insensitively; a Host with a port is another value',
    policies: allow(to('hosts: ["HTTPBIN.foo.svc.cluster.local"]')),
    http: [
      { host: 'httpbin.foo.svc.cluster.local', expect: 200 },
      { host: 'HttpBin.Foo.svc.cluster.local', expect: 200 },
      { host: 'httpbin.foo.svc.cluster.local:8000', expect: 403 },
      { host: 'ratings.foo.svc.cluster.local', expect: 403 },
    ],
  },
  {
    name: 'ALLOW hosts naming a port match that Host with its port',
    policies: allow(to('hosts: ["httpbin.foo.svc.cluster.local:8000"]')),
    http: [{ host: 'httpbin.foo.svc.cluster.local:8000', expect: 200 }, { host: 'httpbin.foo.svc.cluster.local', expect: 403 }],
  },
  {
    name: 'ALLOW hosts with a *.suffix wildcard',
    policies: allow(to('hosts: ["*.foo.svc.cluster.local"]')),
    http: [{ host: 'httpbin.foo.svc.cluster.local', expect: 200 }, { host: 'httpbin.bar.svc.cluster.local', expect: 403 }],
  },
  {
    name: 'DENY notHosts: every other host is denied',
    policies: deny(to('notHosts: ["httpbin.foo.svc.cluster.local"]')),
    http: [{ host: 'httpbin.foo.svc.cluster.local', expect: 200 }, { host: 'evil.example.com', expect: 403 }],
  },
  {
    name: 'ALLOW ports: the workload port this listener serves matches, another port does not',
    policies: allow(`[{ to: [{ operation: { ports: ["8000"], paths: ["/here"] } }] }, { to: [{ operation: { ports: ["9999"], paths: ["/there"] } }] }]`),
    http: [{ path: '/here', expect: 200 }, { path: '/there', expect: 403 }],
  },
  {
    name: 'DENY notPorts: a request to another port than the one named is denied',
    policies: deny(`[{ to: [{ operation: { notPorts: ["8000"], paths: ["/a"] } }] }, { to: [{ operation: { notPorts: ["9999"], paths: ["/b"] } }] }]`),
    http: [{ path: '/a', expect: 200 }, { path: '/b', expect: 403 }],
  },
  {
    name: 'ALLOW methods',
    policies: allow(to('methods: ["GET", "HEAD"]')),
    http: [{ method: 'GET', expect: 200 }, { method: 'POST', expect: 403 }, { method: 'DELETE', expect: 403 }],
  },
  {
    name: 'DENY notMethods: every method but GET is denied',
    policies: deny(to('notMethods: ["GET"]')),
    http: [{ method: 'GET', expect: 200 }, { method: 'PUT', expect: 403 }],
  },
  {
    name: 'ALLOW paths exact: the normalised path without its query',
    policies: allow(to('paths: ["/headers"]')),
    http: [
      { path: '/headers', expect: 200 }, { path: '/headers?x=1', expect: 200 }, { path: '/status/../headers', expect: 200 },
      { path: '/headers/x', expect: 403 }, { path: '/Headers', expect: 403 },
    ],
  },
  {
    name: 'ALLOW paths with a prefix wildcard (/api/*)',
    policies: allow(to('paths: ["/api/*"]')),
    http: [{ path: '/api/v1/users', expect: 200 }, { path: '/api/', expect: 200 }, { path: '/apix', expect: 403 }, { path: '/api', expect: 403 }],
  },
  {
    name: 'ALLOW paths with a suffix wildcard (*.html)',
    policies: allow(to('paths: ["*.html"]')),
    http: [{ path: '/docs/index.html', expect: 200 }, { path: '/index.htm', expect: 403 }],
  },
  {
    name: 'ALLOW paths with {*} (one segment) and {**} (any segments) templates',
    policies: allow(to('paths: ["/store/{*}/item", "/shop/{**}/receipt"]')),
    http: [
      { path: '/store/42/item', expect: 200 }, { path: '/store/4/2/item', expect: 403 }, { path: '/store//item', expect: 403 },
      { path: '/shop/a/b/c/receipt', expect: 200 }, { path: '/shop/a/receipt', expect: 200 }, { path: '/shop/a/b/invoice', expect: 403 },
    ],
  },
  {
    name: 'ALLOW notPaths: every path but the one named',
    policies: allow(to('notPaths: ["/admin/*"]')),
    http: [{ path: '/public', expect: 200 }, { path: '/admin/users', expect: 403 }],
  },
];

const conditionRows: Row[] = [
  {
    name: 'ALLOW when request.headers[x-tenant] has one of the values',
    policies: allow(when('key: "request.headers[x-tenant]", values: ["acme", "globex"]')),
    http: [
      { headers: { 'x-tenant': 'acme' }, expect: 200 }, { headers: { 'x-tenant': 'globex' }, expect: 200 },
      { headers: { 'x-tenant': 'initech' }, expect: 403 }, { expect: 403 },
    ],
  },
  {
    name: 'DENY when request.headers[x-tenant] notValues: any other value is denied',
    policies: deny(when('key: "request.headers[x-tenant]", notValues: ["acme"]')),
    http: [{ headers: { 'x-tenant': 'acme' }, expect: 200 }, { headers: { 'x-tenant': 'initech' }, expect: 403 }, { expect: 403 }],
  },
  {
    name: 'ALLOW when request.headers[x-tenant] with prefix and suffix wildcards, or "*" (present)',
    policies: allow(`[{ to: [{ operation: { paths: ["/prefix"] } }], when: [{ key: "request.headers[x-tenant]", values: ["acme-*"] }] },
      { to: [{ operation: { paths: ["/suffix"] } }], when: [{ key: "request.headers[x-tenant]", values: ["*-corp"] }] },
      { to: [{ operation: { paths: ["/present"] } }], when: [{ key: "request.headers[x-tenant]", values: ["*"] }] }]`),
    http: [
      { path: '/prefix', headers: { 'x-tenant': 'acme-eu' }, expect: 200 }, { path: '/prefix', headers: { 'x-tenant': 'globex' }, expect: 403 },
      { path: '/suffix', headers: { 'x-tenant': 'globex-corp' }, expect: 200 }, { path: '/suffix', headers: { 'x-tenant': 'globex' }, expect: 403 },
      { path: '/present', headers: { 'x-tenant': 'x' }, expect: 200 }, { path: '/present', expect: 403 },
    ],
  },
  {
    name: 'ALLOW when source.ip is in a CIDR',
    policies: allow(`[{ to: [{ operation: { paths: ["/local"] } }], when: [{ key: source.ip, values: ["127.0.0.0/8"] }] },
      { to: [{ operation: { paths: ["/remote"] } }], when: [{ key: source.ip, values: ["10.0.0.0/8"] }] }]`),
    http: [{ path: '/local', expect: 200 }, { path: '/remote', expect: 403 }],
  },
  {
    name: 'ALLOW when source.namespace',
    policies: allow(when('key: source.namespace, values: ["foo"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }, { as: 'plaintext', expect: 403 }],
  },
  {
    name: 'ALLOW when source.principal',
    policies: allow(when('key: source.principal, values: ["cluster.local/ns/bar/sa/other"]')),
    http: [{ as: 'other', expect: 200 }, { as: 'sleep', expect: 403 }],
  },
  {
    name: 'ALLOW when destination.port is the workload port this listener serves',
    policies: allow(`[{ to: [{ operation: { paths: ["/here"] } }], when: [{ key: destination.port, values: ["8000"] }] },
      { to: [{ operation: { paths: ["/there"] } }], when: [{ key: destination.port, values: ["9999"] }] }]`),
    http: [{ path: '/here', expect: 200 }, { path: '/there', expect: 403 }],
  },
  {
    name: 'ALLOW when connection.sni: the server name of the mTLS connection',
    policies: allow(when('key: connection.sni, values: ["*.httpbin.foo.svc.cluster.local"]')),
    http: [
      { as: 'sleep', sni: 'outbound_.8000_._.httpbin.foo.svc.cluster.local', expect: 200 },
      { as: 'sleep', sni: 'outbound_.8000_._.ratings.foo.svc.cluster.local', expect: 403 },
      { as: 'plaintext', expect: 403 },
    ],
  },
];

const jwtRows: Row[] = [
  {
    name: 'RequestAuthentication alone: no token passes, a valid token passes',
    jwt: true, policies: '',
    http: [{ expect: 200 }, { token: 'alice', expect: 200 }],
  },
  {
    name: 'RequestAuthentication: a token signed by an unknown key or expired gets 401, whatever the policies',
    jwt: true, policies: allow('[{}]'),
    http: [{ token: 'untrusted', expect: 401 }, { token: 'expired', expect: 401 }],
  },
  {
    name: 'ALLOW requestPrincipals exact (iss/sub): without a token, 403',
    jwt: true, policies: allow(from('requestPrincipals: ["testing@secure.istio.io/alice"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }, { expect: 403 }],
  },
  {
    name: 'ALLOW requestPrincipals with a prefix wildcard (issuer/*)',
    jwt: true, policies: allow(from('requestPrincipals: ["testing@secure.istio.io/*"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 200 }, { expect: 403 }],
  },
  {
    name: 'ALLOW requestPrincipals with a suffix wildcard (*/sub)',
    jwt: true, policies: allow(from('requestPrincipals: ["*/bob"]')),
    http: [{ token: 'bob', expect: 200 }, { token: 'alice', expect: 403 }],
  },
  {
    name: 'ALLOW requestPrincipals "*": any valid token, none is 403',
    jwt: true, policies: allow(from('requestPrincipals: ["*"]')),
    http: [{ token: 'alice', expect: 200 }, { expect: 403 }, { as: 'sleep', expect: 403 }],
  },
  {
    name: 'ALLOW notRequestPrincipals: every request but that principal\'s',
    jwt: true, policies: allow(from('notRequestPrincipals: ["*/bob"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }, { expect: 200 }],
  },
  {
    name: 'DENY requestPrincipals: that principal is denied',
    jwt: true, policies: deny(from('requestPrincipals: ["testing@secure.istio.io/bob"]')),
    http: [{ token: 'bob', expect: 403 }, { token: 'alice', expect: 200 }, { expect: 200 }],
  },
  {
    name: 'ALLOW when request.auth.principal',
    jwt: true, policies: allow(when('key: request.auth.principal, values: ["testing@secure.istio.io/alice"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }, { expect: 403 }],
  },
  {
    name: 'ALLOW when request.auth.audiences (one of the token\'s audiences)',
    jwt: true, policies: allow(when('key: request.auth.audiences, values: ["httpbin"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }],
  },
  {
    name: 'ALLOW when request.auth.presenter (azp)',
    jwt: true, policies: allow(when('key: request.auth.presenter, values: ["frontend"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }],
  },
  {
    name: 'ALLOW when request.auth.claims[group]',
    jwt: true, policies: allow(when('key: "request.auth.claims[group]", values: ["admins"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }, { expect: 403 }],
  },
  {
    name: 'ALLOW when a list claim request.auth.claims[roles] holds one of the values',
    jwt: true, policies: allow(when('key: "request.auth.claims[roles]", values: ["writer"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }],
  },
  {
    name: 'ALLOW when request.auth.claims[scope], a space-separated list, holds the value',
    jwt: true, policies: allow(when('key: "request.auth.claims[scope]", values: ["write"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }],
  },
  {
    name: 'DENY notRequestPrincipals "*": a request without a token is denied',
    jwt: true, policies: deny(from('notRequestPrincipals: ["*"]')),
    http: [{ expect: 403 }, { token: 'alice', expect: 200 }],
  },
  {
    name: 'ALLOW when a nested claim request.auth.claims[org][team]',
    jwt: true, policies: allow(when('key: "request.auth.claims[org][team]", values: ["blue"]')),
    http: [{ token: 'alice', expect: 200 }, { token: 'bob', expect: 403 }],
  },
];

const policyRows: Row[] = [
  {
    name: 'ALLOW with spec {} (allow nothing) denies every request',
    policies: policy(`${selector}`, { name: 'allow-nothing' }),
    http: [{ expect: 403 }, { as: 'sleep', expect: 403 }],
    tcp: [{ expect: 'closed' }, { as: 'sleep', expect: 'closed' }],
  },
  {
    name: 'ALLOW with a rule {} allows every request',
    policies: allow('[{}]'),
    http: [{ expect: 200 }, { as: 'other', method: 'DELETE', path: '/anything', expect: 200 }],
    tcp: [{ expect: 'allowed' }],
  },
  {
    name: 'DENY is evaluated before ALLOW',
    policies: allow('[{}]') + deny(to('paths: ["/admin"]')),
    http: [{ path: '/admin', expect: 403 }, { path: '/', expect: 200 }],
  },
  {
    name: 'AUDIT alone never denies, even the requests it matches',
    policies: audit('[{}]'),
    http: [{ expect: 200 }, { as: 'sleep', path: '/x', expect: 200 }],
    tcp: [{ expect: 'allowed' }],
  },
  {
    name: 'AUDIT principals: the audited workload is still judged by the DENY and ALLOW policies',
    policies: audit(from('principals: ["cluster.local/ns/foo/sa/sleep", "cluster.local/ns/bar/sa/other"]')) + deny(from('namespaces: ["bar"]')),
    http: [{ as: 'sleep', expect: 200 }, { as: 'other', expect: 403 }],
  },
  {
    name: 'AUDIT never allows what an ALLOW policy does not',
    policies: audit(to('paths: ["/audited"]')) + allow(to('paths: ["/public"]')),
    http: [{ path: '/audited', expect: 403 }, { path: '/public', expect: 200 }],
  },
  {
    name: 'a DENY policy with the dry-run annotation is not enforced',
    policies: policy(`${selector}, action: DENY, rules: [{}]`, { name: 'dry', annotations: '{ istio.io/dry-run: "true" }' }),
    http: [{ expect: 200 }, { as: 'sleep', expect: 200 }],
    shadow: { counter: 'shadow_denied', prefix: 'istio_dry_run_deny_' },
    tcp: [{ expect: 'allowed' }],
  },
  {
    name: 'an ALLOW-nothing policy with the dry-run annotation is not enforced',
    policies: policy(`${selector}`, { name: 'dry', annotations: '{ istio.io/dry-run: "true" }' }),
    http: [{ expect: 200 }],
    shadow: { counter: 'shadow_denied', prefix: 'istio_dry_run_allow_' },
  },
  {
    name: 'within a rule, from, to and when must all match (AND)',
    policies: allow(`[{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }],
      to: [{ operation: { methods: ["GET"], paths: ["/data"] } }], when: [{ key: "request.headers[x-team]", values: ["blue"] }] }]`),
    http: [
      { as: 'sleep', path: '/data', headers: { 'x-team': 'blue' }, expect: 200 },
      { as: 'sleep', path: '/data', method: 'POST', headers: { 'x-team': 'blue' }, expect: 403 },
      { as: 'sleep', path: '/other', headers: { 'x-team': 'blue' }, expect: 403 },
      { as: 'sleep', path: '/data', expect: 403 },
      { as: 'other', path: '/data', headers: { 'x-team': 'blue' }, expect: 403 },
    ],
  },
  {
    name: 'across rules, and across from/to entries, any may match (OR)',
    policies: allow(`[{ to: [{ operation: { paths: ["/a"] } }, { operation: { methods: ["PUT"] } }] },
      { from: [{ source: { principals: ["cluster.local/ns/bar/sa/other"] } }] }]`),
    http: [
      { path: '/a', expect: 200 }, { path: '/b', method: 'PUT', expect: 200 }, { as: 'other', path: '/b', expect: 200 },
      { path: '/b', expect: 403 }, { as: 'sleep', path: '/b', expect: 403 },
    ],
  },
  {
    name: 'several ALLOW policies: a request any of them allows is allowed',
    policies: allow(to('paths: ["/one"]'), 'allow-one') + allow(to('paths: ["/two"]'), 'allow-two'),
    http: [{ path: '/one', expect: 200 }, { path: '/two', expect: 200 }, { path: '/three', expect: 403 }],
  },
  {
    name: 'a policy in the root namespace applies to every workload',
    policies: policy('action: DENY, rules: [{ to: [{ operation: { paths: ["/mesh-wide"] } }] }]', { namespace: 'istio-system' }),
    http: [{ path: '/mesh-wide', expect: 403 }, { path: '/', expect: 200 }],
  },
  {
    name: 'a policy whose selector names another workload does not apply',
    policies: policy('selector: { matchLabels: { app: ratings } }, action: DENY, rules: [{}]'),
    http: [{ expect: 200 }],
  },
];

const tcpRows: Row[] = [
  {
    name: 'TCP: ALLOW principals lets that mTLS peer connect and closes the others',
    policies: allow(from('principals: ["cluster.local/ns/foo/sa/sleep"]')),
    tcp: [{ as: 'sleep', expect: 'allowed' }, { as: 'other', expect: 'closed' }, { as: 'plaintext', expect: 'closed' }],
  },
  {
    name: 'TCP: DENY principals closes that peer\'s connections',
    policies: deny(from('principals: ["cluster.local/ns/foo/sa/sleep"]')),
    tcp: [{ as: 'sleep', expect: 'closed' }, { as: 'other', expect: 'allowed' }, { as: 'plaintext', expect: 'allowed' }],
  },
  {
    name: 'TCP: ALLOW namespaces and ipBlocks',
    policies: allow(`[{ from: [{ source: { namespaces: ["bar"], ipBlocks: ["127.0.0.1/32"] } }] }]`),
    tcp: [{ as: 'other', expect: 'allowed' }, { as: 'sleep', expect: 'closed' }, { as: 'plaintext', expect: 'closed' }],
  },
  {
    name: 'TCP: ALLOW when destination.port and connection.sni',
    policies: allow(when('key: connection.sni, values: ["*.tcp-echo.foo.svc.cluster.local"]', 'ports: ["9000"]')),
    tcp: [{ as: 'sleep', expect: 'allowed' }, { as: 'plaintext', expect: 'closed' }],
  },
  {
    name: 'TCP: AUDIT never closes a connection',
    policies: audit(from('principals: ["cluster.local/ns/foo/sa/sleep"]')),
    tcp: [{ as: 'sleep', expect: 'allowed' }, { as: 'plaintext', expect: 'allowed' }],
  },
  {
    name: 'TCP: ALLOW ports allows the connections to that workload port only',
    policies: allow(to(`ports: ["9000"]`)),
    tcp: [{ expect: 'allowed' }, { as: 'sleep', expect: 'allowed' }],
    http: [{ expect: 403 }],
  },
  {
    name: 'TCP: ALLOW on another port closes the connection',
    policies: allow(to(`ports: ["8000"]`)),
    tcp: [{ expect: 'closed' }],
    http: [{ expect: 200 }],
  },
  {
    name: 'TCP: an ALLOW rule with HTTP-only fields matches nothing',
    policies: allow(to('methods: ["GET"]')),
    tcp: [{ expect: 'closed' }, { as: 'sleep', expect: 'closed' }],
    http: [{ expect: 200 }],
  },
  {
    name: 'TCP: a DENY rule with HTTP-only fields drops them and denies more',
    policies: deny(`[{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }], to: [{ operation: { methods: ["POST"] } }] }]`),
    tcp: [{ as: 'sleep', expect: 'closed' }, { as: 'other', expect: 'allowed' }],
    http: [{ as: 'sleep', expect: 200 }, { as: 'sleep', method: 'POST', expect: 403 }],
  },
  {
    name: 'TCP: ALLOW requestPrincipals (an HTTP-only source) matches no connection',
    policies: allow(from('requestPrincipals: ["*"]')),
    tcp: [{ as: 'sleep', expect: 'closed' }, { as: 'plaintext', expect: 'closed' }],
  },
  {
    name: 'TCP: a DENY rule with only HTTP-only fields denies every connection',
    policies: deny(to('paths: ["/admin"]')),
    tcp: [{ expect: 'closed' }],
    http: [{ path: '/', expect: 200 }, { path: '/admin', expect: 403 }],
  },
];

const table = new PolicyTable();
before(() => table.start());
after(() => table.close());

function describeProbe(p: HttpProbe): string {
  const parts = [p.as ?? 'plaintext', p.method ?? 'GET', p.path ?? '/'];
  if (p.host) parts.push(`host=${p.host}`);
  if (p.sni) parts.push(`sni=${p.sni}`);
  if (p.token) parts.push(`token=${p.token}`);
  for (const [k, v] of Object.entries(p.headers ?? {})) parts.push(`${k}=${v}`);
  return parts.join(' ');
}

async function run(row: Row): Promise<void> {
  const yaml = (row.jwt ? table.requestAuthenticationYaml() : '') + row.policies;
  const generated = table.generate(yaml);
  assert.deepEqual(generated.warnings, [], 'the generator must accept every rule of the row');
  await table.install(generated);
  const shadowBefore = row.shadow ? await table.httpRbacCounter(row.shadow.counter, row.shadow.prefix) : 0;
  // Compare all outcomes at once, so a failure shows every probe of the row.
  const expected: string[] = [];
  const actual: string[] = [];
  for (const p of row.http ?? []) {
    const reply = await table.http(p);
    expected.push(`${describeProbe(p)} → ${p.expect}`);
    actual.push(`${describeProbe(p)} → ${reply.status}`);
    if (reply.status === 403 && p.expect === 403) assert.equal(reply.body, 'RBAC: access denied', `${describeProbe(p)}: denied by RBAC`);
  }
  for (const p of row.tcp ?? []) {
    expected.push(`tcp ${p.as ?? 'plaintext'} → ${p.expect}`);
    actual.push(`tcp ${p.as ?? 'plaintext'} → ${await table.tcp(p)}`);
  }
  assert.deepEqual(actual, expected);
  if (row.shadow) {
    const counted = (await table.httpRbacCounter(row.shadow.counter, row.shadow.prefix)) - shadowBefore;
    assert.equal(counted, row.http?.length ?? 0, `every request counted under ${row.shadow.prefix}${row.shadow.counter}`);
  }
}

const groups: [string, Row[]][] = [
  ['sources', sourceRows],
  ['operations', operationRows],
  ['conditions', conditionRows],
  ['request authentication (JWT)', jwtRows],
  ['policies together', policyRows],
  ['TCP', tcpRows],
];

for (const [group, rows] of groups) {
  describe(group, () => {
    for (const row of rows) {
      test(row.name, row.todo ? { todo: row.todo } : {}, () => run(row));
    }
  });
}
