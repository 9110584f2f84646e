// ROUND_ROBIN (Envoy's default lb_policy). Equal weights: a plain rotating index, started at a random
// offset so that many proxies do not all hit the first endpoint first (as Envoy does). Unequal weights:
// smooth weighted round robin (nginx's algorithm): over every cycle of sum(weights) picks, each host is
// chosen exactly its weight times, interleaved rather than in bursts.
import type { Host } from '../../host.ts';
import { emptyLoadBalancer, registerLoadBalancer, type LoadBalancer } from '../registry.ts';

class RoundRobin implements LoadBalancer {
  readonly hosts: readonly Host[];
  index: number;

  constructor(hosts: readonly Host[]) {
    this.hosts = hosts;
    this.index = Math.floor(Math.random() * hosts.length);
  }

  pick(): Host | null {
    const i = this.index;
    this.index = i + 1 === this.hosts.length ? 0 : i + 1;
    return this.hosts[i];
  }
}

class SmoothWeightedRoundRobin implements LoadBalancer {
  readonly hosts: readonly Host[];
  readonly weights: Float64Array;
  readonly current: Float64Array;
  readonly total: number;

  constructor(hosts: readonly Host[]) {
    this.hosts = hosts;
    this.weights = Float64Array.from(hosts, (h) => h.weight);
    this.current = new Float64Array(hosts.length);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  pick(): Host | null {
    const { weights, current } = this;
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= this.total;
    return this.hosts[best];
  }
}

export function createRoundRobin(hosts: readonly Host[]): LoadBalancer {
  if (hosts.length === 0) return emptyLoadBalancer;
  const w = hosts[0].weight;
  return hosts.every((h) => h.weight === w) ? new RoundRobin(hosts) : new SmoothWeightedRoundRobin(hosts);
}

export function register(): void {
  registerLoadBalancer('ROUND_ROBIN', createRoundRobin);
}
