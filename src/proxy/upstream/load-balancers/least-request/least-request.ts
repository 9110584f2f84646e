// LEAST_REQUEST, as Envoy: with equal weights, "power of N choices": choice_count (default 2) hosts are
// sampled at random (with replacement) and the one with the fewest active requests wins (the first
// sampled on a tie); selection_method FULL_SCAN (or enable_full_scan) looks at every host instead,
// ties broken at random. With unequal weights (endpoint weights, locality-normalised weights, slow
// start), each request picks at random in proportion to weight / (active + 1) ^ active_request_bias
// (Envoy's formula; bias 1.0 by default, 0 turns it into plain weighted random). Envoy draws from an
// EDF schedule with those weights; here the draw is weighted random over the current values, one pass
// over the hosts per pick. Active requests are Host.activeRequests, kept by the router.
import { FieldPath, boolWrapper, checkFields, uintWrapper, type Message } from '../../envoy-config.ts';
import type { Host } from '../../host.ts';
import { emptyLoadBalancer, equalWeights, registerLoadBalancer, type CompiledLoadBalancer, type LoadBalancer } from '../registry.ts';
import { compileSlowStart, runtimeDouble, type SlowStartConfig } from '../slow-start.ts';

class ChoiceOfN implements LoadBalancer {
  readonly hosts: readonly Host[];
  readonly choices: number;

  constructor(hosts: readonly Host[], choices: number) {
    this.hosts = hosts;
    this.choices = choices;
  }

  pick(): Host | null {
    const hosts = this.hosts;
    const n = hosts.length;
    let best = hosts[Math.floor(Math.random() * n)];
    for (let i = 1; i < this.choices; i++) {
      const sampled = hosts[Math.floor(Math.random() * n)];
      if (sampled.activeRequests < best.activeRequests) best = sampled;
    }
    return best;
  }
}

class FullScan implements LoadBalancer {
  readonly hosts: readonly Host[];

  constructor(hosts: readonly Host[]) {
    this.hosts = hosts;
  }

  pick(): Host | null {
    const hosts = this.hosts;
    let best = hosts[0];
    let ties = 1;
    for (let i = 1; i < hosts.length; i++) {
      const h = hosts[i];
      if (h.activeRequests < best.activeRequests) {
        best = h;
        ties = 1;
      } else if (h.activeRequests === best.activeRequests && Math.random() * ++ties < 1) {
        best = h; // reservoir sampling: each of the tied hosts is kept with probability 1/ties
      }
    }
    return best;
  }
}

class WeightedLeastRequest implements LoadBalancer {
  readonly hosts: readonly Host[];
  readonly weights: Float64Array;
  readonly bias: number;
  /** This pick's effective weights (reused). */
  readonly effective: Float64Array;

  constructor(hosts: readonly Host[], weights: Float64Array, bias: number) {
    this.hosts = hosts;
    this.weights = weights;
    this.bias = bias;
    this.effective = new Float64Array(hosts.length);
  }

  pick(): Host | null {
    const { hosts, weights, effective, bias } = this;
    let total = 0;
    for (let i = 0; i < hosts.length; i++) {
      const active = hosts[i].activeRequests + 1;
      const w = bias === 1 ? weights[i] / active : bias === 0 ? weights[i] : weights[i] / Math.pow(active, bias);
      effective[i] = w;
      total += w;
    }
    let r = Math.random() * total;
    for (let i = 0; i < hosts.length - 1; i++) {
      r -= effective[i];
      if (r < 0) return hosts[i];
    }
    return hosts[hosts.length - 1];
  }
}

type LeastRequestSettings = { choiceCount: number; fullScan: boolean; bias: number };

function factoryFor(settings: LeastRequestSettings) {
  return (hosts: readonly Host[], weights: Float64Array): LoadBalancer => {
    if (hosts.length === 0) return emptyLoadBalancer;
    if (!equalWeights(weights)) return new WeightedLeastRequest(hosts, weights, settings.bias);
    return settings.fullScan ? new FullScan(hosts) : new ChoiceOfN(hosts, settings.choiceCount);
  };
}

// locality_lb_config (zone aware routing) is not supported.
const leastRequestFields = new Set(['choice_count', 'active_request_bias', 'slow_start_config', 'enable_full_scan', 'selection_method']);

function compile(at: FieldPath, config: Message | undefined): CompiledLoadBalancer {
  const settings: LeastRequestSettings = { choiceCount: 2, fullScan: false, bias: 1 };
  let slowStart: SlowStartConfig | null = null;
  if (config) {
    checkFields(at, config, leastRequestFields);
    const choices = uintWrapper(at.field('choice_count'), config.choice_count);
    if (choices !== undefined) {
      if (choices < 2) at.field('choice_count').reject('must be at least 2');
      settings.choiceCount = choices;
    }
    const bias = runtimeDouble(at.field('active_request_bias'), config.active_request_bias);
    if (bias !== undefined) {
      if (bias < 0) at.field('active_request_bias').field('default_value').reject('must not be negative');
      settings.bias = bias;
    }
    const method = (config.selection_method ?? 'N_CHOICES') as string;
    if (method !== 'N_CHOICES' && method !== 'FULL_SCAN') at.field('selection_method').reject(`${method} is not a known selection method`);
    settings.fullScan = method === 'FULL_SCAN' || boolWrapper(at.field('enable_full_scan'), config.enable_full_scan) === true;
    slowStart = compileSlowStart(at.field('slow_start_config'), config.slow_start_config);
  }
  return { factory: factoryFor(settings), hashBased: false, slowStart };
}

export function register(): void {
  registerLoadBalancer('LEAST_REQUEST', { configField: 'least_request_lb_config', compile });
}
