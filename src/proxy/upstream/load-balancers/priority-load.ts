// Envoy's priority load: how much of the traffic (integer percents adding up to 100) each priority's
// healthy and degraded endpoints take, and which priorities are in panic (LoadBalancerBase's
// recalculatePerPriorityState / recalculatePerPriorityPanic / recalculateLoadInTotalPanic).
//  - A priority's health is min(100, overprovisioning_factor × healthy / endpoints) (integer percent),
//    its degraded availability the same with degraded endpoints; their sum over priorities, capped at
//    100, is the normalized total availability.
//  - Load goes to healthy endpoints priority by priority (each at most its health, scaled up when the
//    total availability is below 100), then to degraded ones the same way; what rounding leaves goes to
//    the first priority with availability. So P0 keeps everything until its health drops below 100 %
//    (fewer than 100/1.4 ≈ 72 % of it healthy with the default factor), then spills to P1, and so on.
//  - Panic: when the normalized total availability is below 100, a priority whose available share
//    (healthy + degraded) is below healthy_panic_threshold is in panic and balances over all its
//    endpoints, ejected ones included. When every priority is in panic (total panic), load follows the
//    number of endpoints per priority. A threshold of 0 disables panic; with nothing available then,
//    P0 gets the load (and has nothing to pick: 503 no healthy upstream).
// Endpoints the control plane marked UNHEALTHY, DRAINING or TIMEOUT are not counted at all (see
// endpoint-config.ts).

export type PriorityCounts = { total: number; healthy: number; degraded: number };

export type PriorityLoad = {
  /** Percent of requests for the healthy endpoints of each priority. */
  healthy: number[];
  /** Percent of requests for the degraded endpoints of each priority. */
  degraded: number[];
  panic: boolean[];
};

export function computePriorityLoad(priorities: readonly PriorityCounts[], overprovisioningFactor: number, panicThreshold: number): PriorityLoad {
  const n = priorities.length;
  const load: PriorityLoad = { healthy: new Array(n).fill(0), degraded: new Array(n).fill(0), panic: new Array(n).fill(false) };
  if (n === 0) return load;
  const health = priorities.map((p) => (p.total === 0 ? 0 : Math.min(100, Math.floor((overprovisioningFactor * p.healthy) / p.total))));
  const degraded = priorities.map((p) => (p.total === 0 ? 0 : Math.min(100, Math.floor((overprovisioningFactor * p.degraded) / p.total))));
  const total = Math.min(100, health.reduce((a, b) => a + b, 0) + degraded.reduce((a, b) => a + b, 0));

  if (total === 0 && panicThreshold === 0) {
    load.healthy[0] = 100;
    return load;
  }
  if (total > 0) {
    let remaining = 100;
    let firstHealthy = -1;
    let firstDegraded = -1;
    for (let i = 0; i < n; i++) {
      if (firstHealthy < 0 && health[i] > 0) firstHealthy = i;
      load.healthy[i] = Math.min(remaining, Math.floor((health[i] * 100) / total));
      remaining -= load.healthy[i];
    }
    for (let i = 0; i < n; i++) {
      if (firstDegraded < 0 && degraded[i] > 0) firstDegraded = i;
      load.degraded[i] = Math.min(remaining, Math.floor((degraded[i] * 100) / total));
      remaining -= load.degraded[i];
    }
    if (remaining > 0) {
      if (firstHealthy >= 0) load.healthy[firstHealthy] += remaining;
      else load.degraded[firstDegraded] += remaining;
    }
  }

  let totalPanic = true;
  for (let i = 0; i < n; i++) {
    const p = priorities[i];
    const available = p.total === 0 ? 0 : (100 * (p.healthy + p.degraded)) / p.total;
    load.panic[i] = total === 100 ? false : available < panicThreshold;
    totalPanic &&= load.panic[i];
  }
  if (totalPanic) {
    // Every priority in panic: load by number of endpoints, regardless of health.
    const endpoints = priorities.reduce((sum, p) => sum + p.total, 0);
    load.healthy.fill(0);
    load.degraded.fill(0);
    if (endpoints === 0) {
      load.healthy[0] = 100;
      return load;
    }
    let remaining = 100;
    let firstNonEmpty = -1;
    for (let i = 0; i < n; i++) {
      if (firstNonEmpty < 0 && priorities[i].total > 0) firstNonEmpty = i;
      load.healthy[i] = Math.floor((100 * priorities[i].total) / endpoints);
      remaining -= load.healthy[i];
    }
    load.healthy[firstNonEmpty] += remaining;
  }
  return load;
}
