// ROUND_ROBIN (Envoy's default lb_policy). Equal weights: a plain rotating index, started at a random
// offset so that many proxies do not all hit the first endpoint first (as Envoy does). Unequal weights
// (endpoint weights, locality-normalised weights or slow start): smooth weighted round robin
// (smooth-weighted.ts).
import { FieldPath, checkFields, type Message } from '../../envoy-config.ts';
import type { Host } from '../../host.ts';
import { emptyLoadBalancer, equalWeights, registerLoadBalancer, type CompiledLoadBalancer, type LoadBalancer } from '../registry.ts';
import { compileSlowStart } from '../slow-start.ts';
import { SmoothWeightedRotation } from '../smooth-weighted.ts';

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
  readonly rotation: SmoothWeightedRotation;

  constructor(hosts: readonly Host[], weights: Float64Array) {
    this.hosts = hosts;
    this.rotation = new SmoothWeightedRotation(weights);
  }

  pick(): Host | null {
    return this.hosts[this.rotation.next()];
  }
}

export function createRoundRobin(hosts: readonly Host[], weights: Float64Array): LoadBalancer {
  if (hosts.length === 0) return emptyLoadBalancer;
  return equalWeights(weights) ? new RoundRobin(hosts) : new SmoothWeightedRoundRobin(hosts, weights);
}

// locality_lb_config (zone aware routing) is not supported.
const roundRobinFields = new Set(['slow_start_config']);

function compile(at: FieldPath, config: Message | undefined): CompiledLoadBalancer {
  if (config) checkFields(at, config, roundRobinFields);
  const slowStart = config ? compileSlowStart(at.field('slow_start_config'), config.slow_start_config) : null;
  return { factory: createRoundRobin, hashBased: false, slowStart };
}

export function register(): void {
  registerLoadBalancer('ROUND_ROBIN', { configField: 'round_robin_lb_config', compile });
}
