// A cluster at run time: its endpoints (Hosts with their pools), its outlier detector, and the balancer
// over the usable endpoints. The "concrete" layer of the outbound path (DESIGN.md habit 6): the router
// asks it for a host. The balancer is rebuilt as a whole (load-balancers/host-selection.ts) whenever
// what it depends on changes: an endpoint assignment, an ejection or a return, or a slow start step.
import type { ClusterStats } from '../telemetry/stat-objects.ts';
import type { ClusterResources } from './circuit-breakers.ts';
import type { ClusterSpec } from './cluster-config.ts';
import { defaultOverprovisioningFactor, type AssignmentSpec } from './endpoint-config.ts';
import { EndpointPool } from './endpoint-pool.ts';
import { Host } from './host.ts';
import { buildSelection, type SelectionSettings } from './load-balancers/host-selection.ts';
import { chooseTransportSocket } from '../tls/transport-socket-match.ts';
import type { UpstreamTlsSpec } from '../tls/upstream-tls-context.ts';
import type { LoadBalancer } from './load-balancers/registry.ts';
import { OutlierDetector } from './outlier-detection/detector.ts';

function tlsKey(tls: UpstreamTlsSpec | null): string {
  return tls === null ? '' : tls.key;
}

function onSlowStartStep(cluster: Cluster): void {
  cluster.slowStartTimer = null;
  cluster.rebuildBalancer();
}

export class Cluster {
  readonly name: string;
  readonly spec: ClusterSpec;
  readonly stats: ClusterStats;
  readonly resources: ClusterResources;
  /** Every endpoint of the current assignment, usable or not, by `address:port`. */
  hosts: Map<string, Host>;
  /** Replaced as a whole on every change (a request picks from one balancer, never a mix). */
  lb: LoadBalancer;
  /** null: no outlier detection. */
  readonly outlierDetector: OutlierDetector | null;
  /** The next slow start rebuild while some endpoint's weight is ramping up. */
  slowStartTimer: NodeJS.Timeout | null = null;
  private readonly maxIdle: number;
  private overprovisioningFactor = defaultOverprovisioningFactor;
  private closed = false;

  /** Takes over `previous`'s hosts (and their pools) when its pool settings are the same. */
  constructor(spec: ClusterSpec, resources: ClusterResources, maxIdle: number, previous: Cluster | undefined) {
    this.name = spec.name;
    this.spec = spec;
    this.resources = resources;
    this.stats = resources.stats;
    this.maxIdle = maxIdle;
    this.hosts = new Map();
    this.lb = spec.lb.factory([], new Float64Array(0));
    this.outlierDetector = spec.outlierDetection === null ? null
      : new OutlierDetector(spec.outlierDetection, this.stats.outlierDetectionStats(), () => this.rebuildBalancer());
    if (previous && previous.spec.poolKey === spec.poolKey) {
      this.hosts = previous.hosts;
      this.overprovisioningFactor = previous.overprovisioningFactor;
      previous.hosts = new Map();
      for (const host of this.hosts.values()) {
        host.pool.resources = resources;
        // A new cluster starts without ejections (as Envoy's new cluster has new hosts).
        host.outlier = null;
        host.ejected = false;
      }
      this.outlierDetector?.setHosts(this.hosts.values());
      this.rebuildBalancer();
    }
  }

  /**
   * The endpoint for one request, or null when none is usable. `hash`: the request's hash from the
   * route's hash policies (hash-based policies only); `attempt`: the host selection retry number;
   * `excludedPriorities`: a mask of priorities (priorityBit) whose load a retry gives to the others.
   */
  pick(hash?: number, attempt?: number, excludedPriorities?: number): Host | null {
    return this.lb.pick(hash, attempt, excludedPriorities);
  }

  /**
   * Applies an endpoint assignment (undefined: none yet). Endpoints that remain keep their Host and
   * pool (in-flight requests and idle connections survive, and their outlier detection record); removed
   * ones close once idle. Each endpoint's transport socket (TLS or plaintext, from transport_socket_matches
   * and its metadata) is chosen here; an endpoint whose choice changed gets a new pool.
   */
  setAssignment(assignment: AssignmentSpec | undefined): void {
    const next = new Map<string, Host>();
    const spec0 = this.spec;
    for (const spec of assignment?.endpoints ?? []) {
      const tls = spec0.transportSocketMatches.length === 0 ? spec0.pool.tls
        : chooseTransportSocket(spec0.transportSocketMatches, spec0.pool.tls, spec.transportSocketMatch);
      let host = this.hosts.get(spec.key);
      if (host && tlsKey(host.pool.tls) !== tlsKey(tls)) host = undefined; // the old one closes below
      if (host) host.update(spec);
      else {
        const settings = tls === spec0.pool.tls ? spec0.pool : { ...spec0.pool, tls };
        host = new Host(spec, new EndpointPool(`http://${spec.key}`, settings, this.resources, this.maxIdle));
      }
      next.set(spec.key, host);
    }
    for (const [key, host] of this.hosts) {
      if (next.get(key) !== host) void host.pool.close();
    }
    this.hosts = next;
    this.overprovisioningFactor = assignment?.overprovisioningFactor ?? defaultOverprovisioningFactor;
    this.outlierDetector?.setHosts(next.values());
    this.rebuildBalancer();
  }

  /** Graceful: no new connections are kept; in-flight requests finish. */
  close(): Promise<void> {
    this.stopTimers();
    const closing = [...this.hosts.values()].map((h) => h.pool.close());
    return Promise.all(closing).then(() => {});
  }

  destroy(): void {
    this.stopTimers();
    for (const host of this.hosts.values()) host.pool.destroy();
  }

  rebuildBalancer(): void {
    if (this.slowStartTimer !== null) {
      clearTimeout(this.slowStartTimer);
      this.slowStartTimer = null;
    }
    const spec = this.spec;
    const settings: SelectionSettings = {
      lb: spec.lb, overprovisioningFactor: this.overprovisioningFactor, panicThreshold: spec.panicThreshold,
      localityWeighted: spec.localityWeighted,
    };
    const selection = buildSelection(this.hosts.values(), settings, this.stats, performance.now());
    this.stats.membershipTotal = this.hosts.size;
    this.stats.membershipHealthy = selection.healthy;
    this.stats.membershipDegraded = selection.degraded;
    this.lb = selection.lb;
    if (selection.rampingUp && !this.closed) {
      // Weights ramp continuously in Envoy; here the balancer is rebuilt in steps of a twentieth of the
      // window (50 ms to 1 s).
      const step = Math.min(1000, Math.max(50, spec.lb.slowStart!.windowMs / 20));
      this.slowStartTimer = setTimeout(onSlowStartStep, step, this);
      this.slowStartTimer.unref();
    }
  }

  private stopTimers(): void {
    this.closed = true;
    this.outlierDetector?.stop();
    if (this.slowStartTimer !== null) {
      clearTimeout(this.slowStartTimer);
      this.slowStartTimer = null;
    }
  }
}
