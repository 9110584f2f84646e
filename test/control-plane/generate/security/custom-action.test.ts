// Action CUSTOM: an RBAC filter that only evaluates (shadow rules) followed by the ext_authz filter
// of the extension provider, enabled only for the requests the CUSTOM rules select.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExtensionProvider } from '../../../../src/api/index.ts';
import { authorizationPolicy, filtersFor, service, type Json } from './fixtures.ts';

const authzService = service('ext-authz.auth.svc.cluster.local', 'auth', 8000);
const provider: ExtensionProvider = { name: 'my-authz', envoyExtAuthzHttp: { service: 'ext-authz.auth.svc.cluster.local', port: 8000 } };
const custom = (name: string, providerName: string, annotations?: Record<string, string>) => authorizationPolicy(name, 'foo', {
  action: 'CUSTOM', provider: { name: providerName }, rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }],
}, annotations);
const adminPaths = [{ and_rules: { rules: [{ or_rules: { rules: [{ url_path: { path: { prefix: '/admin/' } } }] } }] } }];
const anyone = [{ and_ids: { ids: [{ any: true }] } }];

test('CUSTOM: a shadow-only RBAC filter names the matching policy, and ext_authz runs only for it', () => {
  const { http, warnings } = filtersFor({ authorizationPolicies: [custom('ext', 'my-authz')], extensionProviders: [provider], services: [authzService] });
  assert.deepEqual(warnings, []);
  assert.deepEqual(http.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz']);
  assert.deepEqual(http[0].typed_config, {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
    shadow_rules: { action: 'DENY', policies: { 'istio-ext-authz-my-authz-ns[foo]-policy[ext]-rule[0]': { permissions: adminPaths, principals: anyone } } },
    shadow_rules_stat_prefix: 'istio_ext_authz_',
  });
  assert.deepEqual(http[1].typed_config, {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
    http_service: {
      server_uri: { uri: 'http://ext-authz.auth.svc.cluster.local', cluster: 'outbound|8000||ext-authz.auth.svc.cluster.local', timeout: { seconds: 600 } },
    },
    transport_api_version: 'V3',
    filter_enabled_metadata: {
      filter: 'envoy.filters.http.rbac',
      path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
      value: { string_match: { prefix: 'istio-ext-authz-my-authz' } },
    },
  });
});

test('CUSTOM: every setting of the HTTP provider reaches the ext_authz filter', () => {
  const full: ExtensionProvider = {
    name: 'full',
    envoyExtAuthzHttp: {
      service: 'ext-authz.auth', port: 8000, timeout: '1.5s', pathPrefix: '/check', failOpen: true, statusOnError: '503',
      includeRequestHeadersInCheck: ['x-user', 'x-ext-*', '*-id'],
      includeAdditionalHeadersInCheck: { 'x-b': 'two', 'x-a': 'one' },
      headersToUpstreamOnAllow: ['x-auth-user'],
      headersToDownstreamOnDeny: ['x-reason'],
      headersToDownstreamOnAllow: ['set-cookie'],
      includeRequestBodyInCheck: { maxRequestBytes: 4096, allowPartialMessage: true },
    },
  };
  const { http, warnings } = filtersFor({ authorizationPolicies: [custom('ext', 'full')], extensionProviders: [full], services: [authzService] });
  assert.deepEqual(warnings, []);
  const config = http[1].typed_config as Json;
  const ci = (m: Json) => ({ ...m, ignore_case: true });
  assert.deepEqual(config.http_service, {
    server_uri: { uri: 'http://ext-authz.auth.svc.cluster.local', cluster: 'outbound|8000||ext-authz.auth.svc.cluster.local', timeout: { seconds: 1, nanos: 500_000_000 } },
    path_prefix: '/check',
    authorization_request: { headers_to_add: [{ key: 'x-a', value: 'one' }, { key: 'x-b', value: 'two' }] },
    authorization_response: {
      allowed_upstream_headers: { patterns: [ci({ exact: 'x-auth-user' })] },
      allowed_client_headers: { patterns: [ci({ exact: 'x-reason' })] },
      allowed_client_headers_on_success: { patterns: [ci({ exact: 'set-cookie' })] },
    },
  });
  assert.equal(config.failure_mode_allow, true);
  assert.deepEqual(config.status_on_error, { code: 'ServiceUnavailable' });
  assert.deepEqual(config.allowed_headers, { patterns: [ci({ exact: 'x-user' }), ci({ prefix: 'x-ext-' }), ci({ suffix: '-id' })] });
  assert.deepEqual(config.with_request_body, { max_request_bytes: 4096, allow_partial_message: true });
});

test('CUSTOM runs before DENY and ALLOW, after JWT authentication', () => {
  const { http } = filtersFor({
    authorizationPolicies: [
      authorizationPolicy('allow', 'foo', { rules: [{}] }),
      custom('ext', 'my-authz'),
      authorizationPolicy('deny', 'foo', { action: 'DENY', rules: [{}] }),
    ],
    requestAuthentications: [{ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'foo' }, spec: { jwtRules: [{ issuer: 'i', jwks: '{"keys":[]}' }] } }],
    extensionProviders: [provider],
    services: [authzService],
  });
  assert.deepEqual(http.map((f) => [f.name, (f.typed_config as Json).rules?.action ?? null]), [
    ['envoy.filters.http.jwt_authn', null],
    ['envoy.filters.http.rbac', null],
    ['envoy.filters.http.ext_authz', null],
    ['envoy.filters.http.rbac', 'DENY'],
    ['envoy.filters.http.rbac', 'ALLOW'],
  ]);
});

test('CUSTOM with an unknown provider denies the requests its rules select, with a warning', () => {
  const { http, warnings } = filtersFor({ authorizationPolicies: [custom('ext', 'nope')], extensionProviders: [provider], services: [authzService] });
  assert.deepEqual(http.map((f) => f.name), ['envoy.filters.http.rbac']);
  assert.deepEqual(http[0].typed_config, {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
    rules: { action: 'DENY', policies: { 'istio-ext-authz-nope-ns[foo]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action': { permissions: adminPaths, principals: anyone } } },
  });
  assert.match(warnings.join('\n'), /AuthorizationPolicy foo\/ext: action CUSTOM cannot use provider "nope" \(extension provider "nope" is not defined in the mesh config\); the requests it selects are denied/);
});

test('CUSTOM whose provider service is not in the registry denies what it selects, with a warning', () => {
  const { http, network, warnings } = filtersFor({ authorizationPolicies: [custom('ext', 'my-authz')], extensionProviders: [provider] });
  assert.equal((http[0].typed_config as Json).rules.action, 'DENY');
  assert.equal(http.length, 1);
  assert.match(warnings.join('\n'), /service "ext-authz\.auth\.svc\.cluster\.local" is not in the mesh registry/);
  // On TCP the path condition cannot be evaluated; a DENY rule then covers every connection.
  assert.deepEqual((network[0].typed_config as Json).rules.policies['istio-ext-authz-my-authz-ns[foo]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action'].permissions,
    [{ and_rules: { rules: [{ any: true }] } }]);
});

test('CUSTOM with an HTTP provider does not apply to TCP traffic', () => {
  const { network, warnings } = filtersFor({ authorizationPolicies: [custom('ext', 'my-authz')], extensionProviders: [provider], services: [authzService] });
  assert.deepEqual(network, []);
  assert.deepEqual(warnings, []);
});

test('CUSTOM with two providers: one RBAC + ext_authz pair per provider, sorted by provider name', () => {
  const other: ExtensionProvider = { name: 'a-authz', envoyExtAuthzHttp: { service: 'auth/ext-authz', port: 8000 } };
  const { http } = filtersFor({
    authorizationPolicies: [custom('one', 'my-authz'), custom('two', 'a-authz')],
    extensionProviders: [provider, other],
    services: [authzService],
  });
  assert.deepEqual(http.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz', 'envoy.filters.http.rbac', 'envoy.filters.http.ext_authz']);
  assert.deepEqual(Object.keys((http[0].typed_config as Json).shadow_rules.policies), ['istio-ext-authz-a-authz-ns[foo]-policy[two]-rule[0]']);
  assert.equal((http[1].typed_config as Json).filter_enabled_metadata.value.string_match.prefix, 'istio-ext-authz-a-authz');
  assert.equal((http[3].typed_config as Json).filter_enabled_metadata.value.string_match.prefix, 'istio-ext-authz-my-authz');
});

test('CUSTOM in dry-run is not supported: the policy is ignored with a warning', () => {
  const { http, warnings } = filtersFor({
    authorizationPolicies: [custom('ext', 'my-authz', { 'istio.io/dry-run': 'true' })], extensionProviders: [provider], services: [authzService],
  });
  assert.deepEqual(http, []);
  assert.match(warnings.join('\n'), /AuthorizationPolicy foo\/ext: dry-run is not supported for action CUSTOM/);
});
