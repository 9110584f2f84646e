// Hosts for balancer-level tests: real Host objects with real (never connected) endpoint pools.
import { ClusterResources } from '../../../src/proxy/upstream/circuit-breakers.ts';
import { defaultLimits } from '../../../src/proxy/upstream/cluster-config.ts';
import { EndpointHealth, type EndpointSpec } from '../../../src/proxy/upstream/endpoint-config.ts';
import { EndpointPool } from '../../../src/proxy/upstream/endpoint-pool.ts';
import { Host } from '../../../src/proxy/upstream/host.ts';
import { http1Protocol } from '../../../src/proxy/upstream/upstream-protocol.ts';
import { ClusterStats } from '../../../src/proxy/telemetry/stat-objects.ts';

const resources = new ClusterResources({ ...defaultLimits, retryBudget: null }, new ClusterStats('test'));
const pool = { connectTimeoutMs: 1000, idleTimeoutMs: 1000, maxRequestsPerConnection: 0, protocol: http1Protocol, tcpKeepaliveMs: null, tls: null };

export function makeHost(index: number, overrides: Partial<EndpointSpec> = {}): Host {
  const address = `10.0.${index >> 8}.${index & 255}`;
  const spec: EndpointSpec = {
    key: `${address}:8080`, address, port: 8080, weight: 1, health: EndpointHealth.Healthy, priority: 0, locality: '//', localityWeight: 0,
    ...overrides,
  };
  return new Host(spec, new EndpointPool(`http://${spec.key}`, pool, resources, 1));
}

export function makeHosts(n: number, overrides: Partial<EndpointSpec> = {}): Host[] {
  return Array.from({ length: n }, (_, i) => makeHost(i + 1, overrides));
}

export function unitWeights(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}
