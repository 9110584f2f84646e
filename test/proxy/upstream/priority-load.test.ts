// Envoy's priority load and panic computations (overprovisioning factor 1.4, panic threshold 50 %
// unless said otherwise); the first case is the table of Envoy's priority levels documentation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computePriorityLoad, type PriorityCounts } from '../../../src/proxy/upstream/load-balancers/priority-load.ts';

/** Priorities of 100 endpoints each with the given healthy percentages. */
const healthy = (...percents: number[]): PriorityCounts[] => percents.map((p) => ({ total: 100, healthy: p, degraded: 0 }));

describe('priority load', () => {
  it('keeps all traffic on P0 while it is healthy enough, then spills to P1 (Envoy docs table)', () => {
    const cases: [number, number, number][] = [[100, 100, 0], [72, 100, 0], [71, 99, 1], [50, 70, 30], [25, 35, 65], [0, 0, 100]];
    for (const [p0, toP0, toP1] of cases) {
      assert.deepEqual(computePriorityLoad(healthy(p0, 100), 140, 50).healthy, [toP0, toP1], `P0 ${p0} % healthy`);
    }
  });

  it('spills through several priorities (P0 20 %, P1 30 %, P2 100 % healthy → 28/42/30)', () => {
    assert.deepEqual(computePriorityLoad(healthy(20, 30, 100), 140, 50).healthy, [28, 42, 30]);
  });

  it('scales loads up when the total health is below 100 % (20 %/20 % healthy → 50/50)', () => {
    const load = computePriorityLoad(healthy(20, 20), 140, 50);
    assert.deepEqual(load.healthy, [50, 50]);
  });

  it('puts a priority below the panic threshold in panic only when the total health is below 100 %', () => {
    // P0 at 10 % healthy but P1 can take the rest: no panic.
    assert.deepEqual(computePriorityLoad(healthy(10, 100), 140, 50).panic, [false, false]);
    // P0 40 %, P1 20 % healthy → normalized total 84 %; both below 50 %: both in panic.
    const load = computePriorityLoad(healthy(40, 20), 140, 50);
    assert.deepEqual(load.panic, [true, true]);
    // Total panic: load by number of endpoints.
    assert.deepEqual(load.healthy, [50, 50]);
  });

  it('balances in total panic by endpoint count', () => {
    const load = computePriorityLoad([{ total: 3, healthy: 0, degraded: 0 }, { total: 1, healthy: 0, degraded: 0 }], 140, 50);
    assert.deepEqual(load.panic, [true, true]);
    assert.deepEqual(load.healthy, [75, 25]);
  });

  it('has no panic with a threshold of 0: P0 takes the load and has nothing healthy to give', () => {
    const load = computePriorityLoad(healthy(0, 0), 140, 0);
    assert.deepEqual(load.panic, [false, false]);
    assert.deepEqual(load.healthy, [100, 0]);
  });

  it('sends load to degraded endpoints after every healthy one', () => {
    const load = computePriorityLoad([{ total: 2, healthy: 0, degraded: 2 }, { total: 2, healthy: 1, degraded: 0 }], 140, 50);
    // P1 healthy: 70; P0 degraded: 100 → normalized total 100: healthy P1 70, degraded P0 30.
    assert.deepEqual(load.healthy, [0, 70]);
    assert.deepEqual(load.degraded, [30, 0]);
  });

  it('honours the overprovisioning factor', () => {
    assert.deepEqual(computePriorityLoad(healthy(80, 100), 100, 50).healthy, [80, 20]);
  });
});
