// Load balancers are registered by the Envoy lb_policy name they implement (DESIGN.md habit 1); a
// cluster asking for a policy that is not registered is rejected.
import type { Host } from '../host.ts';

/** Picks an endpoint for one request; built at config time for a fixed list of hosts. */
export interface LoadBalancer {
  pick(): Host | null;
}

/** Builds a balancer over `hosts` (each with a weight >= 1). */
export type LoadBalancerFactory = (hosts: readonly Host[]) => LoadBalancer;

const factories = new Map<string, LoadBalancerFactory>();

export function registerLoadBalancer(lbPolicy: string, factory: LoadBalancerFactory): void {
  factories.set(lbPolicy, factory);
}

export function loadBalancerFactory(lbPolicy: string): LoadBalancerFactory | undefined {
  return factories.get(lbPolicy);
}

export function registeredLoadBalancers(): string[] {
  return [...factories.keys()];
}

/** The balancer for no hosts at all. */
export const emptyLoadBalancer: LoadBalancer = { pick: () => null };
