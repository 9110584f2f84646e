// The security.istio.io kinds: PeerAuthentication, AuthorizationPolicy and RequestAuthentication
// load from Istio's own samples unchanged, under both served apiVersions, and the rules Istio
// enforces across fields (what a policy applies to, actions and providers) hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isKind, jwksUriOf, parseManifests, resourceKey, SECURITY_API_VERSIONS, supportedKinds, validateResource,
} from '../../src/api/index.ts';
import { ISTIO_SECURITY_SAMPLES } from './istio-security-samples.ts';

const KINDS = ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication'];

function doc(kind: string, spec: unknown, apiVersion = 'security.istio.io/v1'): Record<string, unknown> {
  return { apiVersion, kind, metadata: { name: 'policy', namespace: 'shop' }, spec };
}

const errorTexts = (obj: unknown) => validateResource(obj).errors.map((e) => e.text);

test('the three security kinds are supported', () => {
  for (const kind of KINDS) assert.ok(supportedKinds().includes(kind), kind);
});

for (const [path, text] of Object.entries(ISTIO_SECURITY_SAMPLES)) {
  test(`Istio's sample ${path} loads with zero errors`, () => {
    const { resources, errors } = parseManifests(text, { source: path });
    assert.deepEqual(errors.map(String), []);
    assert.ok(resources.length > 0);
    for (const r of resources) assert.ok(KINDS.includes(r.kind), r.kind);
  });
}

test('Istio\'s samples yield the resources they declare, in order, with their namespaces', () => {
  const keys = (path: string) => parseManifests(ISTIO_SECURITY_SAMPLES[path]).resources.map(resourceKey);
  assert.deepEqual(keys('pilot/pkg/security/authz/builder/testdata/http/custom-simple-http-in.yaml'),
    ['AuthorizationPolicy/foo/httpbin-1', 'AuthorizationPolicy/foo/httpbin-2']);
  assert.deepEqual(keys('tests/testdata/config/authn.yaml'), ['PeerAuthentication/default/default']);
  assert.deepEqual(keys('pkg/config/validation/testdata/crds/authz-valid.yaml'),
    ['AuthorizationPolicy/default/full', 'AuthorizationPolicy/default/service-account-and-namespace-principal-split']);
});

test('a validated policy keeps its spec as written, for the generator to read', () => {
  const [pa] = parseManifests(ISTIO_SECURITY_SAMPLES['pilot/pkg/serviceregistry/ambient/testdata/peer-authn-strict-and-disable-port-mtls-in.yaml']).resources;
  assert.ok(isKind(pa, 'PeerAuthentication'));
  assert.deepEqual(pa.spec, { selector: { matchLabels: { app: 'a' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 9090: { mode: 'DISABLE' } } });
  const [ra] = parseManifests(ISTIO_SECURITY_SAMPLES['pkg/config/validation/testdata/crds/reqauth-valid.yaml']).resources;
  assert.ok(isKind(ra, 'RequestAuthentication'));
  assert.equal(ra.spec.jwtRules?.[0].issuer, 'example.com');
  assert.equal(ra.spec.jwtRules?.[0].timeout, '5s');
  assert.deepEqual(ra.spec.targetRefs, [{ group: '', kind: 'Service', name: 'foo' }]);
});

test('security kinds are served as security.istio.io/v1 and v1beta1, and nothing else', () => {
  assert.deepEqual([...SECURITY_API_VERSIONS], ['security.istio.io/v1', 'security.istio.io/v1beta1']);
  for (const kind of KINDS) {
    for (const v of SECURITY_API_VERSIONS) assert.deepEqual(errorTexts(doc(kind, {}, v)), [], `${kind} ${v}`);
  }
  assert.deepEqual(errorTexts(doc('PeerAuthentication', {}, 'networking.istio.io/v1')), [
    'PeerAuthentication shop/policy: apiVersion: networking.istio.io/v1 is not served for PeerAuthentication; use one of security.istio.io/v1, security.istio.io/v1beta1',
  ]);
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', {}, 'security.istio.io/v1alpha1')), [
    'AuthorizationPolicy shop/policy: apiVersion: security.istio.io/v1alpha1 is not served for AuthorizationPolicy; use one of security.istio.io/v1, security.istio.io/v1beta1',
  ]);
});

test('Istio\'s CRD test cases that must be refused are refused, naming the field', () => {
  const cases: [kind: string, spec: unknown, path: string][] = [
    ['AuthorizationPolicy', { rules: [{ from: [{ source: { serviceAccounts: ['bar/sa'], namespaces: ['bar'] } }] }] }, 'spec.rules[0].from[0].source'],
    ['AuthorizationPolicy', { rules: [{ from: [{ source: { serviceAccounts: ['baz/sa'], principals: ['bar'] } }] }] }, 'spec.rules[0].from[0].source'],
    ['PeerAuthentication', { mtls: { mode: 'BLAH' } }, 'spec.mtls.mode'],
    ['PeerAuthentication', { selector: { matchLabels: { foo: 'bar' } }, portLevelMtls: { acd: { mode: 'STRICT' } } }, 'spec.portLevelMtls.acd'],
    ['PeerAuthentication', { portLevelMtls: { 80: { mode: 'STRICT' } } }, 'spec.selector'],
    ['PeerAuthentication', { selector: { matchLabels: { foo: 'bar' } }, portLevelMtls: {} }, 'spec.portLevelMtls'],
    ['PeerAuthentication', { selector: { matchLabels: { foo: 'bar' } }, portLevelMtls: { 0: { mode: 'STRICT' } } }, 'spec.portLevelMtls.0'],
    ['RequestAuthentication', { targetRefs: [{ group: '', kind: 'Service', name: 'foo' }], targetRef: { group: '', kind: 'Service', name: 'foo' } }, 'spec'],
    ['RequestAuthentication', { targetRef: { group: '', kind: 'Service' } }, 'spec.targetRef.name'],
    ['RequestAuthentication', { targetRef: { group: '', kind: 'Service', name: 'foo', namespace: 'bar' } }, 'spec.targetRef.namespace'],
    ['RequestAuthentication', { jwtRules: [{ issuer: 'example', jwksUri: 'hTPp\\\\blah' }] }, 'spec.jwtRules[0].jwksUri'],
    ['RequestAuthentication', { jwtRules: [{ issuer: 'example', outputClaimToHeaders: [{ claim: 'x', header: ':authority' }] }] }, 'spec.jwtRules[0].outputClaimToHeaders[0].header'],
    ['RequestAuthentication', { jwtRules: [{ issuer: 'example', timeout: 'apple' }] }, 'spec.jwtRules[0].timeout'],
    ['RequestAuthentication', { jwtRules: [{ issuer: 'example', presence: 'MANDATORY' }] }, 'spec.jwtRules[0].presence'],
  ];
  for (const [kind, spec, path] of cases) {
    const result = validateResource(doc(kind, spec));
    assert.equal(result.resource, undefined, JSON.stringify(spec));
    assert.deepEqual(result.errors.map((e) => e.path), [path], JSON.stringify(spec));
  }
});

test('an AuthorizationPolicy applies to a selector or to target references, never both', () => {
  const selector = { matchLabels: { app: 'cart' } };
  const targetRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingress' };
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { selector })), []);
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { targetRef })), []);
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { targetRefs: [targetRef] })), []);
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { selector, targetRef, targetRefs: [targetRef] })), [
    'AuthorizationPolicy shop/policy: spec: only one of selector, targetRef, targetRefs may be set (found selector and targetRef and targetRefs)',
  ]);
  // An empty targetRefs list targets nothing, so it does not conflict (as in Istio).
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { selector, targetRefs: [] })), []);
});

test('a CUSTOM policy needs a provider and rules; other actions take no provider', () => {
  const rules = [{ to: [{ operation: { paths: ['/admin/*'] } }] }];
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { action: 'CUSTOM', provider: { name: 'ext-authz' }, rules })), []);
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { action: 'CUSTOM', rules })), [
    'AuthorizationPolicy shop/policy: spec.provider.name: is required with action CUSTOM (the name of an extension provider in the mesh config)',
  ]);
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { action: 'DENY', provider: { name: 'ext-authz' }, rules })), [
    'AuthorizationPolicy shop/policy: spec.provider: can only be set with action CUSTOM (action is DENY)',
  ]);
  // No action means ALLOW.
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { provider: { name: 'ext-authz' }, rules })), [
    'AuthorizationPolicy shop/policy: spec.provider: can only be set with action CUSTOM (action is ALLOW)',
  ]);
});

test('ALLOW without rules (allow nothing) is valid; DENY without rules is refused', () => {
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', {})), []);
  assert.deepEqual(errorTexts(doc('AuthorizationPolicy', { action: 'DENY', rules: [{}] })), []);
  assert.equal(errorTexts(doc('AuthorizationPolicy', { action: 'DENY' })).length, 1);
});

test('every error of a policy is reported at once, each at its own path, in the order written', () => {
  const spec = {
    action: 'ALLOW',
    rules: [{
      from: [{ source: { ipBlocks: ['10.0.0.0/33'], principals: [''] } }],
      to: [{ operation: { ports: ['http'], paths: ['/a/{id}'] } }],
      when: [{ key: 'destination.port', values: ['99999'] }],
    }],
  };
  assert.deepEqual(validateResource(doc('AuthorizationPolicy', spec)).errors.map((e) => e.path), [
    'spec.rules[0].from[0].source.ipBlocks[0]',
    'spec.rules[0].from[0].source.principals[0]',
    'spec.rules[0].to[0].operation.ports[0]',
    'spec.rules[0].to[0].operation.paths[0]',
    'spec.rules[0].when[0].values[0]',
  ]);
});

test('the JWKS URI is read from either of Istio\'s spellings', () => {
  assert.equal(jwksUriOf({ issuer: 'a', jwksUri: 'https://a.example.com/k' }), 'https://a.example.com/k');
  assert.equal(jwksUriOf({ issuer: 'a', jwks_uri: 'https://b.example.com/k' }), 'https://b.example.com/k');
  assert.equal(jwksUriOf({ issuer: 'a' }), undefined);
});

test('a RequestAuthentication with an invalid rule is refused as a whole', () => {
  const spec = { jwtRules: [{ issuer: 'https://good.example.com' }, { issuer: 'https://bad.example.com', jwksUri: 'file:///etc/jwks.json' }] };
  const result = validateResource(doc('RequestAuthentication', spec));
  assert.equal(result.resource, undefined);
  assert.deepEqual(result.errors.map((e) => [e.code, e.path]), [['WEFT_E_INVALID_VALUE', 'spec.jwtRules[1].jwksUri']]);
});
