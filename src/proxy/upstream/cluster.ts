// A cluster at run time: its endpoints (Hosts with their pools) and the load balancer over the usable
// ones. The "concrete" layer of the outbound path (DESIGN.md habit 6): the router asks it for a host.
import type { ClusterStats } from '../telemetry/stat-objects.ts';
import type { ClusterResources } from './circuit-breakers.ts';
import type { ClusterSpec } from './cluster-config.ts';
import { EndpointHealth, type AssignmentSpec } from './endpoint-config.ts';
import { EndpointPool } from './endpoint-pool.ts';
import { Host } from './host.ts';
import type { LoadBalancer } from './load-balancers/registry.ts';

export class Cluster {
  readonly name: string;
  readonly spec: ClusterSpec;
  readonly stats: ClusterStats;
  readonly resources: ClusterResources;
  /** Every endpoint of the current assignment, usable or not, by `address:port`. */
  hosts: Map<string, Host>;
  /** Replaced as a whole on every endpoint update (a request picks from one balancer, never a mix). */
  lb: LoadBalancer;
  private readonly maxIdle: number;

  /** Takes over `previous`'s hosts (and their pools) when its pool settings are the same. */
  constructor(spec: ClusterSpec, resources: ClusterResources, maxIdle: number, previous: Cluster | undefined) {
    this.name = spec.name;
    this.spec = spec;
    this.resources = resources;
    this.stats = resources.stats;
    this.maxIdle = maxIdle;
    this.hosts = new Map();
    this.lb = spec.lbFactory([]);
    if (previous && previous.spec.poolKey === spec.poolKey) {
      this.hosts = previous.hosts;
      previous.hosts = new Map();
      for (const host of this.hosts.values()) host.pool.resources = resources;
      this.rebuildBalancer();
    }
  }

  /** The endpoint for one request, or null when none is usable. */
  pick(): Host | null {
    return this.lb.pick();
  }

  /**
   * Applies an endpoint assignment (undefined: none yet). Endpoints that remain keep their Host and
   * pool (in-flight requests and idle connections survive); removed ones close once idle.
   */
  setAssignment(assignment: AssignmentSpec | undefined): void {
    const next = new Map<string, Host>();
    for (const spec of assignment?.endpoints ?? []) {
      let host = this.hosts.get(spec.key);
      if (host) {
        host.weight = spec.weight;
        host.health = spec.health;
      } else {
        host = new Host(spec, new EndpointPool(`http://${spec.key}`, this.spec.pool, this.resources, this.maxIdle));
      }
      next.set(spec.key, host);
    }
    for (const [key, host] of this.hosts) {
      if (!next.has(key)) void host.pool.close();
    }
    this.hosts = next;
    this.rebuildBalancer();
  }

  /** Graceful: no new connections are kept; in-flight requests finish. */
  close(): Promise<void> {
    const closing = [...this.hosts.values()].map((h) => h.pool.close());
    return Promise.all(closing).then(() => {});
  }

  destroy(): void {
    for (const host of this.hosts.values()) host.pool.destroy();
  }

  private rebuildBalancer(): void {
    const healthy: Host[] = [];
    const degraded: Host[] = [];
    for (const host of this.hosts.values()) {
      if (host.health === EndpointHealth.Healthy) healthy.push(host);
      else if (host.health === EndpointHealth.Degraded) degraded.push(host);
    }
    this.stats.membershipTotal = this.hosts.size;
    this.stats.membershipHealthy = healthy.length;
    // As Envoy: degraded endpoints take traffic only when no healthy one is left.
    this.lb = this.spec.lbFactory(healthy.length > 0 ? healthy : degraded);
  }
}
