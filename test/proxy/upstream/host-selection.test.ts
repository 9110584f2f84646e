// The cluster-wide balancer (priorities, localities, panic, slow start) and the lb_policy balancers, on
// real Host objects: Envoy's effective locality weights, degraded endpoints, panic counting, slow start
// weights, and LEAST_REQUEST's full scan and active request bias.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStats } from '../../../src/proxy/telemetry/stat-objects.ts';
import { EndpointHealth } from '../../../src/proxy/upstream/endpoint-config.ts';
import { FieldPath } from '../../../src/proxy/upstream/envoy-config.ts';
import type { Host } from '../../../src/proxy/upstream/host.ts';
import { buildSelection, type SelectionSettings } from '../../../src/proxy/upstream/load-balancers/host-selection.ts';
import { registerBuiltinLoadBalancers } from '../../../src/proxy/upstream/load-balancers/index.ts';
import { loadBalancerPolicy, type LoadBalancer } from '../../../src/proxy/upstream/load-balancers/registry.ts';
import { makeHost } from './hosts.ts';

registerBuiltinLoadBalancers();

function compiled(lbPolicy: string, config?: Record<string, unknown>) {
  const policy = loadBalancerPolicy(lbPolicy)!;
  return policy.compile(new FieldPath('Cluster test'), config);
}

function settings(lbPolicy = 'ROUND_ROBIN', extra: Partial<SelectionSettings> = {}, config?: Record<string, unknown>): SelectionSettings {
  return { lb: compiled(lbPolicy, config), overprovisioningFactor: 140, panicThreshold: 50, localityWeighted: false, ...extra };
}

function counts(lb: LoadBalancer, n: number): Map<Host | null, number> {
  const m = new Map<Host | null, number>();
  for (let i = 0; i < n; i++) {
    const h = lb.pick();
    m.set(h, (m.get(h) ?? 0) + 1);
  }
  return m;
}

describe('cluster balancer', () => {
  it('weighs a locality by load_balancing_weight × min(1, overprovisioning × available share)', () => {
    const a1 = makeHost(1, { locality: 'r/a/', localityWeight: 1 });
    const a2 = makeHost(2, { locality: 'r/a/', localityWeight: 1 });
    const b = makeHost(3, { locality: 'r/b/', localityWeight: 1 });
    a2.ejected = true;
    const stats = new ClusterStats('c');
    const { lb } = buildSelection([a1, a2, b], settings('ROUND_ROBIN', { localityWeighted: true }), stats, performance.now());
    const c = counts(lb, 1700);
    // Locality a: 1 × min(1, 1.4 × 1/2) = 0.7 against b's 1: 700 of 1700.
    assert.ok(Math.abs(c.get(a1)! - 700) <= 2, `locality a got ${c.get(a1)}`);
    assert.equal(c.get(a2), undefined);
  });

  it('uses degraded endpoints only for the load healthy ones cannot take', () => {
    const healthy = makeHost(1);
    const degraded = makeHost(2, { health: EndpointHealth.Degraded });
    const { lb } = buildSelection([healthy, degraded], settings(), new ClusterStats('c'), performance.now());
    // Health 1.4 × 1/2 = 70 %, degraded availability 70 %: 70 % healthy, 30 % degraded.
    const c = counts(lb, 2000);
    assert.ok(c.get(degraded)! > 450 && c.get(degraded)! < 750, `degraded got ${c.get(degraded)} of 2000`);
  });

  it('counts the picks made in panic', () => {
    const hosts = [makeHost(1), makeHost(2), makeHost(3)];
    hosts[0].ejected = true;
    hosts[1].ejected = true;
    const stats = new ClusterStats('c');
    const { lb, healthy } = buildSelection(hosts, settings(), stats, performance.now());
    assert.equal(healthy, 1);
    assert.equal(counts(lb, 30).size, 3, 'panic balances over every endpoint');
    assert.equal(stats.lbHealthyPanic, 30);
  });

  it('ramps the weight of an endpoint in slow start from min_weight_percent', () => {
    const now = performance.now();
    const old = makeHost(1);
    old.healthySince = now - 120_000;
    const fresh = makeHost(2);
    fresh.healthySince = now;
    const config = { slow_start_config: { slow_start_window: { seconds: '60' }, min_weight_percent: { value: 20 } } };
    const start = buildSelection([old, fresh], settings('ROUND_ROBIN', {}, config), new ClusterStats('c'), now);
    assert.equal(start.rampingUp, true);
    assert.equal(counts(start.lb, 600).get(fresh), 100, 'weight 0.2 against 1: 100 of 600');
    // Half-way through the window (aggression 1): weight 0.5.
    const half = buildSelection([old, fresh], settings('ROUND_ROBIN', {}, config), new ClusterStats('c'), now + 30_000);
    assert.equal(counts(half.lb, 600).get(fresh), 200);
    const done = buildSelection([old, fresh], settings('ROUND_ROBIN', {}, config), new ClusterStats('c'), now + 61_000);
    assert.equal(done.rampingUp, false);
    assert.equal(counts(done.lb, 600).get(fresh), 300);
  });
});

describe('LEAST_REQUEST balancers', () => {
  it('full scan always picks the endpoint with the fewest active requests', () => {
    const hosts = [makeHost(1), makeHost(2), makeHost(3)];
    hosts[0].activeRequests = 3;
    hosts[1].activeRequests = 1;
    hosts[2].activeRequests = 2;
    const lb = compiled('LEAST_REQUEST', { selection_method: 'FULL_SCAN' }).factory(hosts, new Float64Array(3).fill(1));
    assert.deepEqual([...counts(lb, 50).keys()], [hosts[1]]);
  });

  it('with unequal weights and active_request_bias 0, picks by weight alone', () => {
    const hosts = [makeHost(1), makeHost(2)];
    hosts[0].activeRequests = 100;
    const lb = compiled('LEAST_REQUEST', { active_request_bias: { default_value: 0, runtime_key: 'k' } }).factory(hosts, Float64Array.from([3, 1]));
    const share = counts(lb, 4000).get(hosts[0])! / 4000;
    assert.ok(share > 0.7 && share < 0.8, `weight-3 endpoint got ${share}`);
  });
});
