import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValid, errorCodes, errorTexts } from './helpers.ts';

const VS = 'VirtualService';
const E = (rest: string) => `VirtualService default/r: ${rest}`;
const to = (subset: string, weight?: number) => ({ destination: { host: 'reviews', subset }, ...(weight === undefined ? {} : { weight }) });
const vs = (http: unknown[]) => ({ hosts: ['reviews'], http });

test('a VirtualService using every HTTP, TLS and TCP field is valid', () => {
  assertValid(VS, {
    hosts: ['reviews', 'reviews.prod.svc.cluster.local', '*.example.com'],
    gateways: ['mesh', 'istio-system/ingress', 'my-gateway'],
    exportTo: ['.', 'prod'],
    http: [{
      name: 'jason',
      match: [{
        name: 'm', uri: { prefix: '/api' }, scheme: { exact: 'https' }, method: { regex: '(?i)get|post' },
        authority: { exact: 'reviews' }, headers: { 'end-user': { exact: 'jason' }, ':path': { prefix: '/' } },
        port: 9080, sourceLabels: { app: 'productpage' }, gateways: ['mesh'],
        queryParams: { v: { regex: '^\\d+$' } }, ignoreUriCase: true, withoutHeaders: { 'x-debug': {} },
        sourceNamespace: 'default', statPrefix: 'jason',
      }],
      route: [
        { destination: { host: 'reviews', subset: 'v2', port: { number: 9080 } }, weight: 75,
          headers: { request: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] }, response: { remove: ['x-d'] } } },
        { destination: { host: 'reviews', subset: 'v3' }, weight: 25 },
      ],
      rewrite: { uri: '/v2', authority: 'reviews.internal' },
      timeout: '10s',
      retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,503', retryRemoteLocalities: true },
      fault: { delay: { fixedDelay: '7s', percentage: { value: 0.5 } }, abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 10 } } },
      mirror: { host: 'reviews', subset: 'v1' },
      mirrorPercentage: { value: 50 },
      corsPolicy: {
        allowOrigins: [{ exact: 'https://example.com' }], allowMethods: ['GET', 'POST'], allowHeaders: ['x-a'],
        exposeHeaders: ['*'], maxAge: '24h', allowCredentials: false, unmatchedPreflights: 'IGNORE',
      },
      headers: { request: { set: { 'x-route': 'jason' } } },
    }, {
      route: [{ destination: { host: 'reviews' } }],
      mirrors: [{ destination: { host: 'reviews', subset: 'v1' }, percentage: { value: 5 } }],
      mirrorPercent: 10,
      fault: { delay: { fixedDelay: '100ms', percent: 50 }, abort: { httpStatus: 503 } },
    }],
    tls: [{ match: [{ sniHosts: ['a.example.com'], port: 443, destinationSubnets: ['10.0.0.0/8'] }], route: [{ destination: { host: 'a.example.com' } }] }],
    tcp: [{ match: [{ port: 3306, sourceSubnet: '10.1.0.0/16' }], route: [to('v1', 40), to('v2', 60)] }],
  });
});

test('redirect, direct response and delegate routes are valid on their own', () => {
  assertValid(VS, vs([
    { match: [{ uri: { exact: '/old' } }], redirect: { uri: '/new', redirectCode: 301, derivePort: 'FROM_REQUEST_PORT', scheme: 'https' } },
    { match: [{ uri: { exact: '/teapot' } }], directResponse: { status: 418, body: { string: 'short and stout' } } },
    { match: [{ uri: { prefix: '/b' } }], directResponse: { status: 200, body: { bytes: 'aGVsbG8=' } } },
    { delegate: { name: 'reviews-routes', namespace: 'prod' } },
  ]));
});

test('a single destination may omit its weight', () => {
  assertValid(VS, vs([{ route: [to('v1')] }]));
});

test('weights of several destinations must sum to 100', () => {
  assert.deepEqual(errorTexts(VS, vs([{ route: [to('v1', 80), to('v2', 30)] }])), [
    E('spec.http[0].route: weights must sum to 100 when a route has more than one destination (they sum to 110)'),
  ]);
  assert.deepEqual(errorCodes(VS, vs([{ route: [to('v1'), to('v2')] }])), [['WEFT_E_WEIGHT_SUM', 'spec.http[0].route']]);
  assertValid(VS, vs([{ route: [to('v1', 0), to('v2', 100)] }]));
});

test('a weight must be an integer 0..100', () => {
  assert.deepEqual(errorTexts(VS, vs([{ route: [to('v1', 50), to('v2', 150)] }])), [
    E('spec.http[0].route[1].weight: must be an integer 0..100'),
    E('spec.http[0].route: weights must sum to 100 when a route has more than one destination (they sum to 200)'),
  ]);
  assert.deepEqual(errorCodes(VS, vs([{ route: [to('v1', 50.5), to('v2', 49.5)] }])), [
    ['WEFT_E_WRONG_TYPE', 'spec.http[0].route[0].weight'],
    ['WEFT_E_WRONG_TYPE', 'spec.http[0].route[1].weight'],
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ route: [{ ...to('v1'), weight: '100' }] }])), [
    E('spec.http[0].route[0].weight: must be an integer 0..100'),
  ]);
});

test('TCP and TLS routes follow the same weight rules', () => {
  assert.deepEqual(errorTexts(VS, { hosts: ['db'], tcp: [{ route: [to('v1', 10), to('v2', 10)] }] }), [
    E('spec.tcp[0].route: weights must sum to 100 when a route has more than one destination (they sum to 20)'),
  ]);
});

test('hosts may be left out (a delegate), and otherwise are valid host names', () => {
  assertValid(VS, { http: [{ route: [to('v1')] }] });
  assertValid(VS, { hosts: [], http: [{ route: [to('v1')] }] });
  assert.deepEqual(errorTexts(VS, { hosts: 'reviews', http: [{ route: [to('v1')] }] }), [E('spec.hosts: must be an array of strings')]);
  assert.deepEqual(errorTexts(VS, { hosts: ['reviews', 7], http: [{ route: [to('v1')] }] }), [E('spec.hosts[1]: must be a string')]);
  assert.deepEqual(errorTexts(VS, { hosts: ['bad_host'], http: [{ route: [to('v1')] }] }), [
    E('spec.hosts[0]: "bad_host" is not a valid host name (label "bad_host" is invalid)'),
  ]);
});

test('the wildcard host "*" needs a gateway', () => {
  assert.deepEqual(errorTexts(VS, { hosts: ['*'], http: [{ route: [to('v1')] }] }), [
    E('spec.hosts[0]: the wildcard host "*" is only allowed for virtual services bound to gateways (not to the mesh)'),
  ]);
  assertValid(VS, { hosts: ['*'], gateways: ['bookinfo-gateway'], http: [{ route: [to('v1')] }] });
});

test('a destination needs a host, and a valid subset name and port', () => {
  assert.deepEqual(errorTexts(VS, vs([{ route: [{ destination: { subset: 'v1' } }] }])), [
    E('spec.http[0].route[0].destination.host: is required'),
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ route: [{ destination: { host: '*', subset: 'v_1', port: { number: 0 } } }] }])), [
    E('spec.http[0].route[0].destination.host: must name a service, not "*"'),
    E('spec.http[0].route[0].destination.subset: subset name "v_1" is not a valid DNS label'),
    E('spec.http[0].route[0].destination.port.number: must be an integer 1..65535'),
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ route: [{ weight: 100 }] }])), [E('spec.http[0].route[0].destination: is required')]);
});

test('an unknown field is reported with its path', () => {
  assert.deepEqual(errorTexts(VS, vs([{ rout: [to('v1')] }]), { name: 'reviews' }), [
    'VirtualService default/reviews: spec.http[0].rout: unknown field',
  ]);
  assert.deepEqual(errorCodes(VS, { hosts: ['a'], export_to: ['.'], http: [{ route: [to('v1')] }] }), [
    ['WEFT_E_UNKNOWN_FIELD', 'spec.export_to'],
  ]);
});

test('a route needs exactly one action', () => {
  assert.deepEqual(errorTexts(VS, vs([{ match: [{ uri: { prefix: '/' } }] }])), [
    E('spec.http[0]: one of route, redirect, directResponse or delegate is required'),
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ route: [to('v1')], redirect: { uri: '/x' } }])), [
    E('spec.http[0]: only one of route, redirect, directResponse may be set (found route and redirect)'),
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ redirect: { uri: '/x' }, rewrite: { uri: '/y' } }])), [
    E('spec.http[0]: redirect cannot be combined with rewrite'),
  ]);
  assert.deepEqual(errorTexts(VS, { hosts: ['reviews'] }), [E('spec: at least one of http, tls or tcp routes is required')]);
});

test('a string match sets at most one of exact, prefix and regex', () => {
  assert.deepEqual(errorTexts(VS, vs([{ match: [{ uri: { exact: '/a', prefix: '/b' } }], route: [to('v1')] }])), [
    E('spec.http[0].match[0].uri: only one of exact, prefix, regex may be set (found exact and prefix)'),
  ]);
});

test('regexes must be valid RE2', () => {
  const match = (m: unknown) => vs([{ match: [m], route: [to('v1')] }]);
  assert.deepEqual(errorTexts(VS, match({ uri: { regex: '/(?!admin)' } })), [
    E('spec.http[0].match[0].uri.regex: invalid regex: lookahead (?= or (?! is not supported (Istio uses RE2 syntax)'),
  ]);
  assert.deepEqual(errorTexts(VS, match({ headers: { cookie: { regex: '(a)\\1' } } })), [
    E('spec.http[0].match[0].headers.cookie.regex: invalid regex: backreference \\1 is not supported (Istio uses RE2 syntax)'),
  ]);
  assert.deepEqual(errorCodes(VS, match({ uri: { regex: '/(unclosed' } })), [['WEFT_E_INVALID_REGEX', 'spec.http[0].match[0].uri.regex']]);
  assert.deepEqual(errorCodes(VS, vs([{ route: [to('v1')], rewrite: { uriRegexRewrite: { match: '(?<=x)y', rewrite: '/' } } }])), [
    ['WEFT_E_INVALID_REGEX', 'spec.http[0].rewrite.uriRegexRewrite.match'],
  ]);
  assertValid(VS, match({ uri: { regex: '(?i)^/(?P<v>v[0-9]+)/\\z' }, headers: { 'x-id': { regex: '[[:digit:]]{1,1000}' } } }));
});

test('header names in matches and header operations are checked', () => {
  assert.deepEqual(errorTexts(VS, vs([{ match: [{ headers: { 'bad header': { exact: 'x' } } }], route: [to('v1')] }])), [
    E('spec.http[0].match[0].headers["bad header"]: "bad header" is not a valid header name'),
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ route: [to('v1')], headers: { response: { set: { host: 'x' } } } }])), [
    E('spec.http[0].headers.response.set.host: the Host header cannot be changed here (use rewrite.authority)'),
  ]);
});

test('fault injection values are checked', () => {
  const fault = (f: unknown) => vs([{ fault: f, route: [to('v1')] }]);
  assert.deepEqual(errorTexts(VS, fault({ abort: { httpStatus: 700, percentage: { value: 101 } } })), [
    E('spec.http[0].fault.abort.httpStatus: must be an integer 200..599'),
    E('spec.http[0].fault.abort.percentage.value: must be a number 0..100'),
  ]);
  assert.deepEqual(errorTexts(VS, fault({ abort: { grpcStatus: '14' } })), [
    E('spec.http[0].fault.abort.grpcStatus: "14" is not a gRPC status name (e.g. UNAVAILABLE, NOT_FOUND)'),
  ]);
  assert.deepEqual(errorTexts(VS, fault({ delay: { fixedDelay: '7' } })), [
    E('spec.http[0].fault.delay.fixedDelay: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "7")'),
  ]);
  assert.deepEqual(errorTexts(VS, fault({})), [E('spec.http[0].fault: fault injection must set delay, abort or both')]);
});

test('retries, timeouts and redirects are checked', () => {
  assert.deepEqual(errorTexts(VS, vs([{ route: [to('v1')], timeout: '0.5ms', retries: { perTryTimeout: '1s', retryOn: '5xx,sometimes' } }])), [
    E('spec.http[0].timeout: must be at least 1ms'),
    E('spec.http[0].retries.retryOn: "sometimes" is not a valid retryOn policy (an Envoy retry-on name such as 5xx, connect-failure or unavailable, or an HTTP status code)'),
    E('spec.http[0].retries: retry settings are given but attempts is 0 (retries disabled)'),
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ redirect: { redirectCode: 200, scheme: 'ftp', port: 80, derivePort: 'FROM_REQUEST_PORT' } }])), [
    E('spec.http[0].redirect.redirectCode: must be an integer 300..399'),
    E('spec.http[0].redirect.scheme: must be "http" or "https"'),
    E('spec.http[0].redirect: only one of port, derivePort may be set (found port and derivePort)'),
  ]);
  assert.deepEqual(errorTexts(VS, vs([{ redirect: { derivePort: 'SAME' } }])), [
    E('spec.http[0].redirect.derivePort: must be one of FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT (got "SAME")'),
  ]);
});

test('mirror and mirrors cannot both be set', () => {
  assert.deepEqual(errorCodes(VS, vs([{ route: [to('v1')], mirror: { host: 'a' }, mirrors: [{ destination: { host: 'b' } }] }])), [
    ['WEFT_E_CONFLICTING_FIELDS', 'spec.http[0]'],
  ]);
});

test('TLS routes need SNI hosts that belong to the virtual service', () => {
  assert.deepEqual(errorTexts(VS, { hosts: ['*.example.com'], tls: [{ match: [{ sniHosts: ['a.example.com', 'other.org'] }], route: [to('v1')] }] }), [
    E('spec.tls[0].match[0].sniHosts[1]: SNI host "other.org" is not one of the virtual service\'s hosts (*.example.com)'),
  ]);
  assert.deepEqual(errorTexts(VS, { hosts: ['a'], tls: [{ route: [to('v1')] }] }), [E('spec.tls[0].match: is required')]);
});

test('gateways and exportTo are checked', () => {
  assert.deepEqual(errorTexts(VS, { hosts: ['a'], gateways: ['ns/'], exportTo: ['.', 'default', 'Bad'], http: [{ route: [to('v1')] }] }), [
    E('spec.gateways[0]: "ns/": namespace and gateway name must not be empty'),
    E('spec.exportTo[1]: duplicate entry "default"'),
    E('spec.exportTo[2]: must be ".", "*" or a namespace name (got "Bad")'),
  ]);
  assert.deepEqual(errorTexts(VS, { hosts: ['a'], exportTo: ['~'], http: [{ route: [to('v1')] }] }), [
    E('spec.exportTo[0]: must be ".", "*" or a namespace name (got "~")'),
  ]);
});
