// RANDOM: each request picks an endpoint at random, in proportion to its weight.
import type { Host } from '../../host.ts';
import { emptyLoadBalancer, registerLoadBalancer, type CompiledLoadBalancer, type LoadBalancer } from '../registry.ts';

class WeightedRandom implements LoadBalancer {
  readonly hosts: readonly Host[];
  /** cumulative[i] = sum of weights of hosts[0..i]. */
  readonly cumulative: Float64Array;
  readonly total: number;

  constructor(hosts: readonly Host[], weights: Float64Array) {
    this.hosts = hosts;
    this.cumulative = new Float64Array(hosts.length);
    let sum = 0;
    for (let i = 0; i < hosts.length; i++) this.cumulative[i] = sum += weights[i];
    this.total = sum;
  }

  pick(): Host | null {
    const r = Math.random() * this.total;
    const c = this.cumulative;
    let i = 0;
    while (i < c.length - 1 && r >= c[i]) i++;
    return this.hosts[i];
  }
}

export function createRandom(hosts: readonly Host[], weights: Float64Array): LoadBalancer {
  return hosts.length === 0 ? emptyLoadBalancer : new WeightedRandom(hosts, weights);
}

const compiled: CompiledLoadBalancer = { factory: createRandom, hashBased: false, slowStart: null };

export function register(): void {
  // Envoy's RANDOM has no lb_config of its own.
  registerLoadBalancer('RANDOM', { configField: null, compile: () => compiled });
}
