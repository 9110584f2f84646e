import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValid, errorCodes, errorTexts } from './helpers.ts';

const DR = 'DestinationRule';
const E = (rest: string) => `DestinationRule default/r: ${rest}`;
const policy = (trafficPolicy: unknown) => ({ host: 'reviews', trafficPolicy });

test('a DestinationRule using every traffic policy field is valid', () => {
  assertValid(DR, {
    host: 'reviews.default.svc.cluster.local',
    exportTo: ['.'],
    workloadSelector: { matchLabels: { app: 'reviews' } },
    trafficPolicy: {
      loadBalancer: {
        consistentHash: { httpCookie: { name: 'user', path: '/', ttl: '0s', attributes: [{ name: 'SameSite', value: 'Strict' }] }, maglev: { tableSize: 65537 } },
        localityLbSetting: { enabled: true, distribute: [{ from: 'us-west/zone1/*', to: { 'us-west/zone1/*': 80, 'us-west/zone2/*': 20 } }] },
        warmupDurationSecs: '60s',
      },
      connectionPool: {
        tcp: { maxConnections: 100, connectTimeout: '30ms', tcpKeepalive: { probes: 3, time: '7200s', interval: '75s' }, maxConnectionDuration: '1h', idleTimeout: '0s' },
        http: {
          http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3, idleTimeout: '1h',
          h2UpgradePolicy: 'UPGRADE', useClientProtocol: false, maxConcurrentStreams: 100, http2KeepAlive: { interval: '10s', timeout: '5s' },
        },
      },
      outlierDetection: {
        consecutive5xxErrors: 7, consecutiveGatewayErrors: 5, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3,
        interval: '5m', baseEjectionTime: '15m', maxEjectionPercent: 100, minHealthPercent: 0, outlierDetectionHttpErrorCodes: [500, 503],
      },
      tls: { mode: 'SIMPLE', sni: 'reviews.example.com', subjectAltNames: ['spiffe://cluster.local/ns/default/sa/reviews'], caCertificates: '/etc/ca.pem' },
      portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { simple: 'LEAST_REQUEST' } }],
      proxyProtocol: { version: 'V2' },
      retryBudget: { percent: 20, minRetryConcurrency: 3, budgetInterval: '0ms' },
    },
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2', 'app.kubernetes.io/name': 'reviews' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN', zoneAwareLbSetting: { enabled: true, minClusterSize: 6 } } } },
    ],
  });
  assertValid(DR, policy({ tunnel: { protocol: 'CONNECT', targetHost: 'egress.example.com', targetPort: 443 }, tls: { mode: 'MUTUAL', credentialName: 'client-cert' } }));
  assertValid(DR, policy({ loadBalancer: { simple: 'RANDOM', warmup: { duration: '30s', minimumPercent: 10, aggression: 1.5 } } }));
});

test('host is required', () => {
  assert.deepEqual(errorTexts(DR, { subsets: [{ name: 'v1' }] }), [E('spec.host: is required')]);
  assert.deepEqual(errorTexts(DR, { host: 'a..b' }), [E('spec.host: "a..b" is not a valid host name (label "" is invalid)')]);
});

test('subset names are required, valid DNS labels and unique', () => {
  assert.deepEqual(errorTexts(DR, { host: 'reviews', subsets: [{ name: 'v1' }, { name: 'v1', labels: { version: 'v1' } }, { name: 'v2.0' }] }), [
    E('spec.subsets[2].name: subset name "v2.0" is not a valid DNS label'),
    E('spec.subsets[1].name: duplicate subset name "v1"'),
  ]);
  assert.deepEqual(errorTexts(DR, { host: 'reviews', subsets: [{ labels: { version: 'v1' } }] }), [E('spec.subsets[0].name: is required')]);
  assert.deepEqual(errorTexts(DR, { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 1 } }] }), [
    E('spec.subsets[0].labels.version: must be a string'),
  ]);
});

test('a traffic policy must set something', () => {
  assert.deepEqual(errorTexts(DR, policy({})), [
    E('spec.trafficPolicy: a traffic policy must set at least one of loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol, retryBudget'),
  ]);
  assert.deepEqual(errorTexts(DR, policy({ portLevelSettings: [{ tls: { mode: 'DISABLE' } }, { port: { number: 80 } }] })), [
    E('spec.trafficPolicy.portLevelSettings[0].port: is required'),
    E('spec.trafficPolicy.portLevelSettings[1]: a port traffic policy must set at least one of loadBalancer, connectionPool, outlierDetection, tls'),
  ]);
});

test('load balancer settings are checked', () => {
  assert.deepEqual(errorTexts(DR, policy({ loadBalancer: { simple: 'FASTEST' } })), [
    E('spec.trafficPolicy.loadBalancer.simple: must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST (got "FASTEST")'),
  ]);
  assert.deepEqual(errorTexts(DR, policy({ loadBalancer: { simple: 'RANDOM', consistentHash: { useSourceIp: true, httpHeaderName: 'x-user' } } })), [
    E('spec.trafficPolicy.loadBalancer.consistentHash: only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName may be set (found httpHeaderName and useSourceIp)'),
    E('spec.trafficPolicy.loadBalancer: only one of simple, consistentHash may be set (found simple and consistentHash)'),
  ]);
  assert.deepEqual(errorTexts(DR, policy({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 1000 } } } })), [
    E('spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: must be a prime number'),
  ]);
  assert.deepEqual(errorTexts(DR, policy({ loadBalancer: { warmupDurationSecs: '10s', warmup: { duration: '10s', aggression: 0 } } })), [
    E('spec.trafficPolicy.loadBalancer.warmup.aggression: must be greater than 0'),
    E('spec.trafficPolicy.loadBalancer: only one of warmupDurationSecs, warmup may be set (found warmupDurationSecs and warmup)'),
  ]);
});

test('locality weights sum to 100 and failover names distinct regions', () => {
  const locality = (l: unknown) => policy({ loadBalancer: { localityLbSetting: l } });
  assert.deepEqual(errorTexts(DR, locality({ distribute: [{ from: 'a/*', to: { 'a/*': 50, 'b/*': 40 } }] })), [
    E('spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: locality weights must sum to 100 (they sum to 90)'),
  ]);
  assert.deepEqual(errorCodes(DR, locality({ failover: [{ from: 'us-east', to: 'us-east' }], distribute: [{ from: 'a', to: { b: 100 } }] })), [
    ['WEFT_E_CONFLICTING_FIELDS', 'spec.trafficPolicy.loadBalancer.localityLbSetting'],
    ['WEFT_E_INVALID_VALUE', 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]'],
  ]);
});

test('connection pool and outlier detection values are checked', () => {
  assert.deepEqual(errorTexts(DR, policy({
    connectionPool: { tcp: { maxConnections: -1, connectTimeout: '0s' }, http: { h2UpgradePolicy: 'UPGRADE', useClientProtocol: true } },
    outlierDetection: { maxEjectionPercent: 101, outlierDetectionHttpErrorCodes: [503, 600], consecutiveLocalOriginFailures: 2 },
  })), [
    E('spec.trafficPolicy.connectionPool.tcp.maxConnections: must be an integer 0..2147483647'),
    E('spec.trafficPolicy.connectionPool.tcp.connectTimeout: must be at least 1ms'),
    E('spec.trafficPolicy.connectionPool.http: useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE'),
    E('spec.trafficPolicy.outlierDetection.maxEjectionPercent: must be an integer 0..100'),
    E('spec.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes[1]: must be an integer 100..599'),
    E('spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: has no effect unless splitExternalLocalOriginErrors is true'),
  ]);
  assert.deepEqual(errorTexts(DR, policy({ connectionPool: {} })), [E('spec.trafficPolicy.connectionPool: a connection pool must set tcp, http or both')]);
});

test('client TLS settings are checked', () => {
  assert.deepEqual(errorTexts(DR, policy({ tls: { mode: 'MUTUAL' } })), [
    E('spec.trafficPolicy.tls.clientCertificate: is required for MUTUAL TLS (or set credentialName)'),
    E('spec.trafficPolicy.tls.privateKey: is required for MUTUAL TLS (or set credentialName)'),
  ]);
  assert.deepEqual(errorTexts(DR, policy({ tls: { mode: 'SIMPLE', credentialName: 'c', caCertificates: '/ca.pem' } })), [
    E('spec.trafficPolicy.tls: clientCertificate, privateKey, caCertificates and caCrl cannot be set when credentialName is set'),
  ]);
  assert.deepEqual(errorTexts(DR, policy({ tls: { mode: 'STRICT' } })), [
    E('spec.trafficPolicy.tls.mode: must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL (got "STRICT")'),
  ]);
});

test('tunnel settings are checked and exclude the PROXY protocol', () => {
  assert.deepEqual(errorTexts(DR, policy({ tunnel: { protocol: 'GET', targetHost: 'egress' }, proxyProtocol: {} })), [
    E('spec.trafficPolicy.tunnel.protocol: must be "CONNECT" or "POST"'),
    E('spec.trafficPolicy.tunnel.targetPort: is required'),
    E('spec.trafficPolicy: only one of tunnel, proxyProtocol may be set (found tunnel and proxyProtocol)'),
  ]);
});

test('a rule with a workload selector stays in its namespace', () => {
  assert.deepEqual(errorTexts(DR, { host: 'reviews', workloadSelector: { matchLabels: { app: 'x' } }, exportTo: ['*'] }), [
    E('spec.exportTo: a destination rule with a workloadSelector can only be exported to its own namespace'),
  ]);
  assert.deepEqual(errorTexts(DR, { host: 'reviews', workloadSelector: { matchLabels: { app: '*' } } }), [
    E('spec.workloadSelector.matchLabels.app: invalid label value "*" (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)'),
  ]);
});
