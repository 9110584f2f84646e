// VirtualService building blocks shared by HTTP, TLS and TCP routes: Destination, weighted
// destinations and their weight rules, gateway references.

import { integer, object, report, string, type Context, type Problem, type Schema } from '../schema.ts';
import { fqdnProblem, isIstioDnsLabel } from '../names.ts';
import { portSelector, serviceHostProblem, type PortSelector } from './common.ts';

/** Where traffic goes: a service host in the registry, optionally a subset and a port. */
export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
}

export const destination: Schema<Destination> = object<Destination>({
  host: string({ check: (h) => (h === '*' ? 'must name a service, not "*"' : serviceHostProblem(h)) }),
  subset: string({ check: subsetNameProblem }),
  port: portSelector,
}, { required: ['host'] });

/** A subset name (in a destination, and in a DestinationRule): a DNS label. */
export function subsetNameProblem(name: string): Problem {
  if (name === '') return 'must not be empty';
  return isIstioDnsLabel(name) ? undefined : `subset name "${name}" is not a valid DNS label`;
}

/** Weight of a destination in a route: an integer 0..100. */
export const weight = (): Schema<number> => integer({ min: 0, max: 100 });

/** L4 (TLS and TCP) weighted destination. */
export interface RouteDestination {
  destination: Destination;
  weight?: number;
}

export const routeDestination: Schema<RouteDestination> = object<RouteDestination>({
  destination,
  weight: weight(),
}, { required: ['destination'] });

/**
 * Weights: a route with a single destination may omit its weight (it gets all traffic); a route
 * with more than one destination must give weights that sum to 100 (an omitted weight counts as 0).
 */
export function checkWeights(routes: readonly { weight?: number }[] | undefined, path: string, ctx: Context): void {
  if (routes === undefined || routes.length < 2) return;
  const sum = routes.reduce((total, r) => total + (r.weight ?? 0), 0);
  if (sum !== 100) {
    report(ctx, 'WEFT_E_WEIGHT_SUM', path,
      `weights must sum to 100 when a route has more than one destination (they sum to ${sum})`);
  }
}

/** A gateway reference: `mesh`, `<gateway name>`, `<namespace>/<gateway name>` or a legacy FQDN. */
export function gatewayNameProblem(name: string): Problem {
  const slash = name.indexOf('/');
  if (slash < 0) return fqdnProblem(name) === undefined ? undefined : `"${name}" is not a valid gateway name`;
  const ns = name.slice(0, slash);
  const gw = name.slice(slash + 1);
  if (ns === '' || gw === '') return `"${name}": namespace and gateway name must not be empty`;
  if (!isIstioDnsLabel(ns)) return `"${name}": invalid namespace "${ns}"`;
  if (!isIstioDnsLabel(gw)) return `"${name}": invalid gateway name "${gw}"`;
  return undefined;
}
