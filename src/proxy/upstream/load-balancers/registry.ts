// The load balancer policies by Envoy lb_policy name. Each one lives in its own folder and registers
// itself once at start (DESIGN.md habit 1): it compiles its part of the Cluster (its lb_config message)
// at config time and builds balancers over lists of hosts. Priorities, localities, panic mode and slow
// start are the cluster's (host-selection.ts): a balancer only ever sees the hosts it must choose from,
// with their effective weights.
import type { FieldPath, Message } from '../envoy-config.ts';
import type { Host } from '../host.ts';
import type { SlowStartConfig } from './slow-start.ts';

/** Picks an endpoint for one request; built at config time (or on a host change) for a fixed list of hosts. */
export interface LoadBalancer {
  /**
   * `hash`: the request's hash from the route's hash policies (a 53-bit number), undefined when there
   * is none (hash-based balancers then pick at random, as Envoy does). `attempt`: 0 for the first pick
   * of a request, n for the n-th retry of the pick (Envoy's host selection retries: a hash-based
   * balancer then moves off the hashed endpoint). Balancers that do not hash ignore both.
   * `excludedPriorities`: a mask of priorities (priorityBit) a retry should not go to; only the
   * cluster's priority layer reads it (host-selection.ts), the lb_policy balancers never see priorities.
   */
  pick(hash?: number, attempt?: number, excludedPriorities?: number): Host | null;
}

/**
 * A priority's bit in an excluded-priorities mask (priorities 0 to 30; a higher one has no bit and is
 * never excluded).
 */
export function priorityBit(priority: number): number {
  return priority < 31 ? 1 << priority : 0;
}

/** Builds a balancer over `hosts`, `weights[i]` being hosts[i]'s effective weight (> 0, not necessarily an integer). */
export type LoadBalancerFactory = (hosts: readonly Host[], weights: Float64Array) => LoadBalancer;

/** A cluster's balancer settings, compiled from its lb_policy and lb_config. */
export type CompiledLoadBalancer = {
  factory: LoadBalancerFactory;
  /** Hash-based (RING_HASH, MAGLEV): the request hash also chooses the priority, and locality weights fold into host weights. */
  hashBased: boolean;
  /** round_robin_lb_config / least_request_lb_config slow_start_config; null when off. */
  slowStart: SlowStartConfig | null;
};

export type LoadBalancerPolicy = {
  /** The Cluster field (of the lb_config oneof) this policy reads, or null. */
  configField: string | null;
  /** `config`: that field's message, undefined when absent; `at` names it in errors. */
  compile(at: FieldPath, config: Message | undefined): CompiledLoadBalancer;
};

const policies = new Map<string, LoadBalancerPolicy>();

export function registerLoadBalancer(lbPolicy: string, policy: LoadBalancerPolicy): void {
  policies.set(lbPolicy, policy);
}

export function loadBalancerPolicy(lbPolicy: string): LoadBalancerPolicy | undefined {
  return policies.get(lbPolicy);
}

export function registeredLoadBalancers(): string[] {
  return [...policies.keys()];
}

/** Every Cluster field that may hold a policy's config (the lb_config oneof). */
export function loadBalancerConfigFields(): string[] {
  const fields: string[] = [];
  for (const p of policies.values()) if (p.configField !== null) fields.push(p.configField);
  return fields;
}

/** The balancer for no hosts at all. */
export const emptyLoadBalancer: LoadBalancer = { pick: () => null };

/** Whether every weight is the same (the balancers' fast paths). */
export function equalWeights(weights: Float64Array): boolean {
  for (let i = 1; i < weights.length; i++) if (weights[i] !== weights[0]) return false;
  return true;
}
