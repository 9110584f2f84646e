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
// endpoint-config.ts). A retry under the previous_priorities retry priority may exclude the priorities
// it already tried: their load goes to the others (excludedPriorityLoad).

export type PriorityCounts = { total: number; healthy: number; degraded: number };

export type PriorityLoad = {
  /** Percent of requests for the healthy endpoints of each priority. */
  healthy: number[];
  /** Percent of requests for the degraded endpoints of each priority. */
  degraded: number[];
  panic: boolean[];
};

/** Each priority's health and degraded availability (integer percents, each at most 100). */
export type PriorityAvailability = { health: number[]; degraded: number[] };

export function priorityAvailability(priorities: readonly PriorityCounts[], overprovisioningFactor: number): PriorityAvailability {
  return {
    health: priorities.map((p) => (p.total === 0 ? 0 : Math.min(100, Math.floor((overprovisioningFactor * p.healthy) / p.total)))),
    degraded: priorities.map((p) => (p.total === 0 ? 0 : Math.min(100, Math.floor((overprovisioningFactor * p.degraded) / p.total)))),
  };
}

export function computePriorityLoad(priorities: readonly PriorityCounts[], overprovisioningFactor: number, panicThreshold: number): PriorityLoad {
  const n = priorities.length;
  const load: PriorityLoad = { healthy: new Array(n).fill(0), degraded: new Array(n).fill(0), panic: new Array(n).fill(false) };
  if (n === 0) return load;
  const { health, degraded } = priorityAvailability(priorities, overprovisioningFactor);
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

/**
 * The priority load of a retry that excludes some priorities (the previous_priorities retry priority,
 * Envoy's PreviousPrioritiesRetryPriority::adjustForAttemptedPriorities): the excluded priorities count
 * as unavailable and the load is spread over the others by their availability, healthy endpoints
 * first; what rounding leaves is handed out again in the same order. Null when the priorities left have
 * no availability at all (the caller keeps the unmodified load then).
 */
export function excludedPriorityLoad(availability: PriorityAvailability, excluded: readonly boolean[]): { healthy: number[]; degraded: number[] } | null {
  const n = availability.health.length;
  const health = availability.health.map((h, i) => (excluded[i] ? 0 : h));
  const degraded = availability.degraded.map((d, i) => (excluded[i] ? 0 : d));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += health[i] + degraded[i];
  const total = Math.min(100, sum);
  if (total === 0) return null;
  const load = { healthy: new Array<number>(n).fill(0), degraded: new Array<number>(n).fill(0) };
  // Each pass hands out at least one percent (some share is at least 1 when total > 0), so this ends.
  let remaining = 100;
  while (remaining > 0) {
    for (let i = 0; i < n; i++) {
      const delta = Math.min(remaining, Math.floor((health[i] * 100) / total));
      load.healthy[i] += delta;
      remaining -= delta;
    }
    for (let i = 0; i < n; i++) {
      const delta = Math.min(remaining, Math.floor((degraded[i] * 100) / total));
      load.degraded[i] += delta;
      remaining -= delta;
    }
  }
  return load;
}
