// The balancer of a whole cluster, built from its endpoints each time they change (assignment, outlier
// ejection or return, slow start step): Envoy's priority / locality / panic layer above the lb_policy.
//  1. A priority is chosen by the priority load (priority-load.ts): at random, or from the request hash
//     for hash-based policies (Envoy: hash % 100), so that a key keeps its priority.
//  2. In panic, the priority's balancer over all its endpoints (ejected ones included) picks.
//  3. Otherwise, with common_lb_config.locality_weighted_lb_config, a locality of that priority is
//     chosen by its effective weight, load_balancing_weight × min(1, overprovisioning × available share)
//     (a locality without a weight takes no traffic), by smooth weighted round robin (Envoy: EDF); then
//     that locality's balancer picks. Hash-based policies fold the locality weights into the endpoint
//     weights instead (Envoy's normalised host weights), so one ring / table per priority.
//  4. Else the lb_policy's balancer over the priority's healthy (or degraded) endpoints picks.
// Endpoint weights are multiplied by the slow start factor for healthy endpoints inside their window.
// A retry may exclude priorities (the previous_priorities retry priority): step 1 then uses a load that
// gives theirs to the other priorities (priority-load.ts excludedPriorityLoad), computed once per set
// of excluded priorities and kept with the balancer; if nothing is left, the unmodified load.
// A cluster with one priority, no panic and no locality weighting gets the lb_policy's balancer
// directly: nothing of this layer runs per request.
import type { ClusterStats } from '../../telemetry/stat-objects.ts';
import { EndpointHealth } from '../endpoint-config.ts';
import type { Host } from '../host.ts';
import { computePriorityLoad, excludedPriorityLoad, priorityAvailability, type PriorityAvailability, type PriorityCounts } from './priority-load.ts';
import { emptyLoadBalancer, priorityBit, type CompiledLoadBalancer, type LoadBalancer } from './registry.ts';
import { slowStartFactor } from './slow-start.ts';
import { SmoothWeightedRotation } from './smooth-weighted.ts';

export type SelectionSettings = {
  lb: CompiledLoadBalancer;
  /** Percent (Envoy's default 140). */
  overprovisioningFactor: number;
  /** Percent; 0 disables panic mode. */
  panicThreshold: number;
  localityWeighted: boolean;
};

export type Selection = {
  lb: LoadBalancer;
  /** Healthy, not ejected. */
  healthy: number;
  /** Degraded, not ejected. */
  degraded: number;
  /** Some endpoint's weight is still ramping up (slow start): rebuild later. */
  rampingUp: boolean;
};

/** The endpoints of one priority that are not excluded, by availability. */
class PriorityGroup {
  readonly all: Host[] = [];
  readonly healthy: Host[] = [];
  readonly degraded: Host[] = [];
}

/** Smooth weighted round robin over the localities of a priority, each with its own balancer. */
class LocalityPicker {
  readonly balancers: readonly LoadBalancer[];
  readonly rotation: SmoothWeightedRotation;

  constructor(balancers: LoadBalancer[], weights: number[]) {
    this.balancers = balancers;
    this.rotation = new SmoothWeightedRotation(Float64Array.from(weights));
  }

  pick(): Host | null {
    return this.balancers[this.rotation.next()].pick();
  }
}

/** What one priority picks from. */
class PrioritySources {
  readonly panic: boolean;
  /** Hash-based policies: the one balancer of the priority (over all endpoints in panic). */
  readonly hashed: LoadBalancer;
  readonly healthy: LoadBalancer;
  readonly degraded: LoadBalancer;
  /** In panic: every endpoint. */
  readonly all: LoadBalancer;
  readonly healthyLocalities: LocalityPicker | null;
  readonly degradedLocalities: LocalityPicker | null;

  constructor(panic: boolean, hashed: LoadBalancer, healthy: LoadBalancer, degraded: LoadBalancer, all: LoadBalancer,
    healthyLocalities: LocalityPicker | null, degradedLocalities: LocalityPicker | null) {
    this.panic = panic;
    this.hashed = hashed;
    this.healthy = healthy;
    this.degraded = degraded;
    this.all = all;
    this.healthyLocalities = healthyLocalities;
    this.degradedLocalities = degradedLocalities;
  }
}

/** The healthy and degraded load of each priority when some are excluded. */
type AdjustedLoad = { healthy: readonly number[]; degraded: readonly number[] };

class PrioritySelector implements LoadBalancer {
  readonly sources: readonly PrioritySources[];
  readonly healthyLoad: readonly number[];
  readonly degradedLoad: readonly number[];
  readonly hashBased: boolean;
  readonly stats: ClusterStats;
  readonly availability: PriorityAvailability;
  /** priorityBit of each source's priority. */
  readonly bits: readonly number[];
  /** Every priority's bit. */
  readonly allBits: number;
  /** Loads by excluded-priorities mask (null: nothing left, the unmodified load); created on the first retry that excludes. */
  adjusted: Map<number, AdjustedLoad | null> | null = null;

  constructor(sources: PrioritySources[], healthyLoad: number[], degradedLoad: number[], hashBased: boolean, stats: ClusterStats,
    availability: PriorityAvailability, bits: number[]) {
    this.sources = sources;
    this.healthyLoad = healthyLoad;
    this.degradedLoad = degradedLoad;
    this.hashBased = hashBased;
    this.stats = stats;
    this.availability = availability;
    this.bits = bits;
    this.allBits = bits.reduce((a, b) => a | b, 0);
  }

  pick(hash?: number, attempt?: number, excludedPriorities?: number): Host | null {
    const r = this.hashBased && hash !== undefined ? hash % 100 : Math.floor(Math.random() * 100);
    let healthy = this.healthyLoad;
    let degraded = this.degradedLoad;
    const excluded = (excludedPriorities ?? 0) & this.allBits;
    if (excluded !== 0) {
      const adjusted = this.adjustedLoad(excluded);
      if (adjusted !== null) {
        healthy = adjusted.healthy;
        degraded = adjusted.degraded;
      }
    }
    let sum = 0;
    for (let p = 0; p < healthy.length; p++) {
      sum += healthy[p];
      if (r < sum) return this.pickIn(this.sources[p], false, hash, attempt);
    }
    for (let p = 0; p < degraded.length; p++) {
      sum += degraded[p];
      if (r < sum) return this.pickIn(this.sources[p], true, hash, attempt);
    }
    return null;
  }

  private adjustedLoad(excluded: number): AdjustedLoad | null {
    this.adjusted ??= new Map();
    let load = this.adjusted.get(excluded);
    if (load === undefined) {
      load = excludedPriorityLoad(this.availability, this.bits.map((b) => (b & excluded) !== 0));
      // Bounded: a cluster with many priorities could otherwise collect every combination.
      if (this.adjusted.size >= 64) this.adjusted.clear();
      this.adjusted.set(excluded, load);
    }
    return load;
  }

  private pickIn(s: PrioritySources, degraded: boolean, hash: number | undefined, attempt: number | undefined): Host | null {
    if (s.panic) this.stats.lbHealthyPanic++;
    if (this.hashBased) return s.hashed.pick(hash, attempt);
    if (s.panic) return s.all.pick();
    const localities = degraded ? s.degradedLocalities : s.healthyLocalities;
    if (localities !== null) return localities.pick();
    return (degraded ? s.degraded : s.healthy).pick();
  }
}

/** Builds the cluster's balancer over `hosts` (all endpoints of the assignment, excluded ones included). */
export function buildSelection(hosts: Iterable<Host>, settings: SelectionSettings, stats: ClusterStats, now: number): Selection {
  const groups = new Map<number, PriorityGroup>();
  const weights = new Map<Host, number>();
  const slowStart = settings.lb.slowStart;
  let healthyCount = 0;
  let degradedCount = 0;
  let rampingUp = false;
  for (const host of hosts) {
    if (host.health === EndpointHealth.Excluded) continue;
    let group = groups.get(host.priority);
    if (group === undefined) groups.set(host.priority, (group = new PriorityGroup()));
    group.all.push(host);
    let weight = host.weight;
    if (!host.ejected) {
      if (host.health === EndpointHealth.Healthy) {
        group.healthy.push(host);
        healthyCount++;
        if (slowStart !== null && host.healthySince >= 0) {
          const factor = slowStartFactor(slowStart, now - host.healthySince);
          if (factor < 1) {
            weight *= factor;
            rampingUp = true;
          }
        }
      } else {
        group.degraded.push(host);
        degradedCount++;
      }
    }
    weights.set(host, weight);
  }
  const order = [...groups.keys()].sort((a, b) => a - b);
  const priorities = order.map((p) => groups.get(p)!);
  if (priorities.length === 0) return { lb: emptyLoadBalancer, healthy: 0, degraded: 0, rampingUp: false };

  const counts: PriorityCounts[] = priorities.map((g) => ({ total: g.all.length, healthy: g.healthy.length, degraded: g.degraded.length }));
  const load = computePriorityLoad(counts, settings.overprovisioningFactor, settings.panicThreshold);
  const { lb, localityWeighted } = settings;
  const factor = settings.overprovisioningFactor / 100;
  const build = (list: Host[]): LoadBalancer => lb.factory(list, Float64Array.from(list, (h) => weights.get(h)!));
  const sources = priorities.map((g, p) => {
    const panic = load.panic[p];
    if (lb.hashBased) {
      const list = panic ? g.all : g.healthy.length > 0 ? g.healthy : g.degraded;
      const hashed = localityWeighted ? buildHashed(lb, list, weights) : build(list);
      return new PrioritySources(panic, hashed, emptyLoadBalancer, emptyLoadBalancer, emptyLoadBalancer, null, null);
    }
    return new PrioritySources(panic, emptyLoadBalancer, build(g.healthy), g.degraded.length > 0 ? build(g.degraded) : emptyLoadBalancer,
      panic ? build(g.all) : emptyLoadBalancer,
      localityWeighted ? localityPicker(g, g.healthy, factor, build) : null,
      localityWeighted && g.degraded.length > 0 ? localityPicker(g, g.degraded, factor, build) : null);
  });

  const single = sources.length === 1 && !load.panic[0] && load.degraded[0] === 0;
  let selection: LoadBalancer;
  if (single && lb.hashBased) selection = sources[0].hashed;
  else if (single && !localityWeighted) selection = sources[0].healthy;
  else {
    selection = new PrioritySelector(sources, load.healthy, load.degraded, lb.hashBased, stats,
      priorityAvailability(counts, settings.overprovisioningFactor), order.map(priorityBit));
  }
  return { lb: selection, healthy: healthyCount, degraded: degradedCount, rampingUp };
}

/**
 * The localities of a priority with their effective weights for one availability (`available`: its
 * healthy or its degraded endpoints); null when none has a weight (the priority's own balancer then picks).
 */
function localityPicker(group: PriorityGroup, available: Host[], factor: number, build: (list: Host[]) => LoadBalancer): LocalityPicker | null {
  const totals = new Map<string, number>();
  for (const h of group.all) totals.set(h.locality, (totals.get(h.locality) ?? 0) + 1);
  const members = new Map<string, Host[]>();
  for (const h of available) {
    let list = members.get(h.locality);
    if (list === undefined) members.set(h.locality, (list = []));
    list.push(h);
  }
  const balancers: LoadBalancer[] = [];
  const weights: number[] = [];
  for (const [locality, list] of members) {
    const weight = list[0].localityWeight * Math.min(1, (factor * list.length) / totals.get(locality)!);
    if (weight <= 0) continue;
    balancers.push(build(list));
    weights.push(weight);
  }
  return balancers.length === 0 ? null : new LocalityPicker(balancers, weights);
}

/**
 * A hash-based balancer over `list` with locality weights folded in: an endpoint's weight becomes its
 * share of its locality's endpoint weight times its locality's share of the locality weights (endpoints
 * of localities without a weight are left out). Without any locality weight, plain endpoint weights.
 */
function buildHashed(lb: CompiledLoadBalancer, list: Host[], weights: Map<Host, number>): LoadBalancer {
  const localityTotals = new Map<string, number>();
  const localityWeights = new Map<string, number>();
  for (const h of list) {
    localityTotals.set(h.locality, (localityTotals.get(h.locality) ?? 0) + weights.get(h)!);
    localityWeights.set(h.locality, h.localityWeight);
  }
  let sum = 0;
  for (const w of localityWeights.values()) sum += w;
  if (sum === 0) return lb.factory(list, Float64Array.from(list, (h) => weights.get(h)!));
  const kept = list.filter((h) => h.localityWeight > 0);
  return lb.factory(kept, Float64Array.from(kept, (h) => (weights.get(h)! / localityTotals.get(h.locality)!) * (h.localityWeight / sum)));
}
