// Policy actions → the RBAC filters and their order: AUDIT (LOG), DENY, ALLOW; empty policies,
// empty rules, dry-run shadow rules, and the TCP filter chain's handling of HTTP-only fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizationPolicy, filtersFor, onlyFilter, type Json } from './fixtures.ts';

const getOnly = { to: [{ operation: { methods: ['GET'] } }] };
const fromNs = { from: [{ source: { namespaces: ['bar'] } }] };
const never = { permissions: [{ not_rule: { any: true } }], principals: [{ not_id: { any: true } }] };
const rbacType = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const tcpRbacType = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

test('no authorization policy: no RBAC filter, every request is allowed', () => {
  const { http, network, warnings } = filtersFor({});
  assert.deepEqual(http, []);
  assert.deepEqual(network, []);
  assert.deepEqual(warnings, []);
});

test('filters come in Istio\'s order: AUDIT (LOG), then DENY, then ALLOW', () => {
  const { http } = filtersFor({
    authorizationPolicies: [
      authorizationPolicy('allow', 'foo', { action: 'ALLOW', rules: [getOnly] }),
      authorizationPolicy('deny', 'foo', { action: 'DENY', rules: [fromNs] }),
      authorizationPolicy('audit', 'foo', { action: 'AUDIT', rules: [{}] }),
    ],
  });
  assert.deepEqual(http.map((f) => [f.name, f.typed_config['@type'], (f.typed_config as Json).rules.action]), [
    ['envoy.filters.http.rbac', rbacType, 'LOG'],
    ['envoy.filters.http.rbac', rbacType, 'DENY'],
    ['envoy.filters.http.rbac', rbacType, 'ALLOW'],
  ]);
  assert.deepEqual(Object.keys((http[1].typed_config as Json).rules.policies), ['ns[foo]-policy[deny]-rule[0]']);
});

test('an action left out means ALLOW; every rule of every ALLOW policy is one Envoy policy', () => {
  const { http } = filtersFor({
    authorizationPolicies: [
      authorizationPolicy('a', 'foo', { rules: [getOnly, fromNs] }),
      authorizationPolicy('b', 'foo', { action: 'ALLOW', rules: [{}] }),
    ],
  });
  const rbac = onlyFilter(http, 'envoy.filters.http.rbac');
  assert.equal(rbac.rules.action, 'ALLOW');
  assert.deepEqual(Object.keys(rbac.rules.policies), ['ns[foo]-policy[a]-rule[0]', 'ns[foo]-policy[a]-rule[1]', 'ns[foo]-policy[b]-rule[0]']);
  assert.equal(rbac.shadow_rules, undefined);
});

test('an ALLOW policy without rules allows nothing: its only Envoy policy never matches', () => {
  const { http } = filtersFor({ authorizationPolicies: [authorizationPolicy('deny-all', 'foo', {})] });
  const rbac = onlyFilter(http, 'envoy.filters.http.rbac');
  assert.deepEqual(rbac.rules, { action: 'ALLOW', policies: { 'ns[foo]-policy[deny-all]-rule[0]': never } });
});

test('a DENY policy without rules denies nothing', () => {
  const { http } = filtersFor({ authorizationPolicies: [authorizationPolicy('nothing', 'foo', { action: 'DENY' })] });
  assert.deepEqual(onlyFilter(http, 'envoy.filters.http.rbac').rules, { action: 'DENY', policies: { 'ns[foo]-policy[nothing]-rule[0]': never } });
});

test('an ALLOW policy with an empty rule allows everything', () => {
  const { http } = filtersFor({ authorizationPolicies: [authorizationPolicy('allow-all', 'foo', { rules: [{}] })] });
  assert.deepEqual(onlyFilter(http, 'envoy.filters.http.rbac').rules.policies, {
    'ns[foo]-policy[allow-all]-rule[0]': { permissions: [{ and_rules: { rules: [{ any: true }] } }], principals: [{ and_ids: { ids: [{ any: true }] } }] },
  });
});

test('dry-run ALLOW and DENY policies go to shadow rules with Istio\'s stat prefixes, and are not enforced', () => {
  const dryRun = { 'istio.io/dry-run': 'true' };
  const { http } = filtersFor({
    authorizationPolicies: [
      authorizationPolicy('deny-dry', 'foo', { action: 'DENY', rules: [fromNs] }, dryRun),
      authorizationPolicy('allow-dry', 'foo', { rules: [getOnly] }, dryRun),
      authorizationPolicy('allow-real', 'foo', { rules: [fromNs] }),
    ],
  });
  const [deny, allow] = http.map((f) => f.typed_config as Json);
  assert.equal(deny.rules, undefined, 'a filter with only dry-run policies enforces nothing');
  assert.equal(deny.shadow_rules_stat_prefix, 'istio_dry_run_deny_');
  assert.deepEqual(Object.keys(deny.shadow_rules.policies), ['ns[foo]-policy[deny-dry]-rule[0]']);
  assert.equal(deny.shadow_rules.action, 'DENY');
  assert.deepEqual(Object.keys(allow.rules.policies), ['ns[foo]-policy[allow-real]-rule[0]']);
  assert.deepEqual(Object.keys(allow.shadow_rules.policies), ['ns[foo]-policy[allow-dry]-rule[0]']);
  assert.equal(allow.shadow_rules_stat_prefix, 'istio_dry_run_allow_');
});

test('a dry-run annotation that is not a boolean is reported and the policy is enforced', () => {
  const { http, warnings } = filtersFor({
    authorizationPolicies: [authorizationPolicy('p', 'foo', { rules: [{}] }, { 'istio.io/dry-run': 'maybe' })],
  });
  assert.ok(onlyFilter(http, 'envoy.filters.http.rbac').rules);
  assert.match(warnings.join('\n'), /AuthorizationPolicy foo\/p: annotation istio\.io\/dry-run must be true or false/);
});

test('TCP: network RBAC filters with stat prefix tcp., in the same order as HTTP', () => {
  const { network } = filtersFor({
    authorizationPolicies: [
      authorizationPolicy('allow', 'foo', { rules: [fromNs] }),
      authorizationPolicy('deny', 'foo', { action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }] }] }),
    ],
  });
  assert.deepEqual(network.map((f) => [f.name, f.typed_config['@type'], (f.typed_config as Json).stat_prefix, (f.typed_config as Json).rules.action]), [
    ['envoy.filters.network.rbac', tcpRbacType, 'tcp.', 'DENY'],
    ['envoy.filters.network.rbac', tcpRbacType, 'tcp.', 'ALLOW'],
  ]);
  assert.deepEqual(Object.keys((network[1].typed_config as Json).rules.policies), ['ns[foo]-policy[allow]-rule[0]']);
});

test('TCP: an ALLOW rule with an HTTP-only field is dropped, so it allows no connection', () => {
  const { network, http } = filtersFor({
    authorizationPolicies: [authorizationPolicy('p', 'foo', { rules: [getOnly, { to: [{ operation: { ports: ['3306'] } }] }] })],
  });
  const tcp = onlyFilter(network, 'envoy.filters.network.rbac');
  assert.deepEqual(Object.keys(tcp.rules.policies), ['ns[foo]-policy[p]-rule[1]']);
  assert.deepEqual(Object.keys(onlyFilter(http, 'envoy.filters.http.rbac').rules.policies), ['ns[foo]-policy[p]-rule[0]', 'ns[foo]-policy[p]-rule[1]']);
});

test('TCP: every HTTP-only field (hosts, methods, paths, requestPrincipals, request.* conditions) drops an ALLOW rule', () => {
  const rules = [
    { to: [{ operation: { hosts: ['a'] } }] },
    { to: [{ operation: { notPaths: ['/a'] } }] },
    { from: [{ source: { requestPrincipals: ['a/b'] } }] },
    { from: [{ source: { notRequestPrincipals: ['*'] } }] },
    { when: [{ key: 'request.headers[x]', values: ['a'] }] },
    { when: [{ key: 'request.auth.claims[groups]', values: ['a'] }] },
    { when: [{ key: 'request.auth.audiences', values: ['a'] }] },
    { when: [{ key: 'request.auth.presenter', values: ['a'] }] },
    { when: [{ key: 'request.auth.principal', values: ['a/b'] }] },
  ];
  const { network, warnings } = filtersFor({ authorizationPolicies: [authorizationPolicy('p', 'foo', { rules })] });
  assert.deepEqual(onlyFilter(network, 'envoy.filters.network.rbac').rules, { action: 'ALLOW', policies: {} });
  assert.deepEqual(warnings, [], 'HTTP-only fields are expected to be absent from TCP traffic');
});

test('TCP: a DENY rule keeps only its TCP fields, so it denies more connections', () => {
  const { network } = filtersFor({
    authorizationPolicies: [authorizationPolicy('p', 'foo', {
      action: 'DENY',
      rules: [
        { to: [{ operation: { methods: ['POST'], ports: ['8080'] } }] },
        { from: [{ source: { requestPrincipals: ['*'] } }], when: [{ key: 'request.headers[x]', values: ['a'] }] },
      ],
    })],
  });
  assert.deepEqual(onlyFilter(network, 'envoy.filters.network.rbac').rules.policies, {
    'ns[foo]-policy[p]-rule[0]': {
      permissions: [{ and_rules: { rules: [{ or_rules: { rules: [{ destination_port: 8080 }] } }] } }],
      principals: [{ and_ids: { ids: [{ any: true }] } }],
    },
    'ns[foo]-policy[p]-rule[1]': {
      permissions: [{ and_rules: { rules: [{ any: true }] } }],
      principals: [{ and_ids: { ids: [{ any: true }] } }],
    },
  });
});

test('AUDIT rules on TCP behave as DENY rules: HTTP-only fields are dropped, not the rule', () => {
  const { network } = filtersFor({
    authorizationPolicies: [authorizationPolicy('audit', 'foo', { action: 'AUDIT', rules: [getOnly] })],
  });
  const rbac = onlyFilter(network, 'envoy.filters.network.rbac');
  assert.equal(rbac.rules.action, 'LOG');
  assert.deepEqual(Object.keys(rbac.rules.policies), ['ns[foo]-policy[audit]-rule[0]']);
});
