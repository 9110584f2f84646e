// Holds the cluster set (CDS) and the endpoint assignments (EDS). Each update validates and compiles
// the complete set first (throwing ConfigRejectedError and changing nothing on any problem), then swaps
// in one synchronous step. A request reads `current` once when it starts and keeps that map: it sees
// the old cluster set or the new one, never a mix.
import type { Logger } from '../../common/log.ts';
import type { ProxyStats } from '../telemetry/stats.ts';
import { ClusterResources } from './circuit-breakers.ts';
import { compileCluster, type ClusterSpec } from './cluster-config.ts';
import { Cluster } from './cluster.ts';
import { compileAssignment, type AssignmentSpec } from './endpoint-config.ts';
import { DnsResolution } from './dns-resolution.ts';
import { ConfigRejectedError } from './envoy-config.ts';
import type { SecretStore } from '../tls/secret-store.ts';

export type ClusterSet = ReadonlyMap<string, Cluster>;

export class ClusterManager {
  /** The cluster set in force; replaced (never mutated) by update(). */
  current: ClusterSet = new Map();
  private assignments = new Map<string, AssignmentSpec>();
  private readonly resources = new Map<string, ClusterResources>();
  private readonly retiring = new Map<Cluster, Promise<void>>();
  /** The name resolution of each STRICT_DNS / LOGICAL_DNS cluster in force. */
  private readonly dnsResolutions = new Map<Cluster, DnsResolution>();
  private readonly stats: ProxyStats;
  private readonly logger: Logger;
  private readonly maxIdle: number;
  /** SDS secrets the clusters' TLS contexts refer to (null: references are refused). */
  private readonly secrets: SecretStore | null;

  constructor(stats: ProxyStats, logger: Logger, maxIdleConnectionsPerEndpoint: number, secrets: SecretStore | null = null) {
    this.stats = stats;
    this.logger = logger;
    this.maxIdle = maxIdleConnectionsPerEndpoint;
    this.secrets = secrets;
  }

  update(resources: object[]): void {
    const specs = new Map<string, ClusterSpec>();
    for (const resource of resources) {
      const spec = compileCluster(resource, this.secrets);
      if (specs.has(spec.name)) throw new ConfigRejectedError(`Cluster ${spec.name}: name appears twice in the update`);
      specs.set(spec.name, spec);
    }

    const previous = this.current;
    const next = new Map<string, Cluster>();
    for (const spec of specs.values()) {
      const old = previous.get(spec.name);
      if (old && old.spec.fingerprint === spec.fingerprint) {
        next.set(spec.name, old);
        continue;
      }
      const cluster = new Cluster(spec, this.resourcesFor(spec), this.maxIdle, old);
      if (spec.dns !== null) {
        const resolution = new DnsResolution(cluster, spec.dns, this.logger);
        this.dnsResolutions.set(cluster, resolution);
        resolution.start();
      } else {
        cluster.setAssignment(spec.type === 'STATIC' ? spec.staticAssignment! : this.assignments.get(spec.edsServiceName));
      }
      next.set(spec.name, cluster);
      if (old) this.retire(old);
    }
    this.current = next;

    for (const [name, old] of previous) {
      if (next.has(name)) continue;
      this.retire(old);
      this.resources.delete(name);
      this.stats.removeCluster(old.spec.statName);
    }
    this.logger.debug('clusters updated', { clusters: next.size });
  }

  updateEndpoints(resources: object[]): void {
    const assignments = new Map<string, AssignmentSpec>();
    for (const resource of resources) {
      const name = (resource as { cluster_name?: unknown }).cluster_name;
      const assignment = compileAssignment(`ClusterLoadAssignment ${typeof name === 'string' && name !== '' ? name : '(unnamed)'}`, resource);
      if (assignments.has(assignment.clusterName)) {
        throw new ConfigRejectedError(`ClusterLoadAssignment ${assignment.clusterName}: cluster_name appears twice in the update`);
      }
      assignments.set(assignment.clusterName, assignment);
    }
    this.assignments = assignments;
    for (const cluster of this.current.values()) {
      if (cluster.spec.type === 'EDS') cluster.setAssignment(assignments.get(cluster.spec.edsServiceName));
    }
    this.logger.debug('endpoints updated', { assignments: assignments.size });
  }

  /** Resolves when every retired cluster's connections are closed. */
  async settled(): Promise<void> {
    while (this.retiring.size > 0) await Promise.all([...this.retiring.values()]);
  }

  /** Closes every connection now. */
  destroy(): void {
    for (const resolution of this.dnsResolutions.values()) resolution.stop();
    this.dnsResolutions.clear();
    for (const cluster of this.current.values()) cluster.destroy();
    for (const cluster of this.retiring.keys()) cluster.destroy();
    this.current = new Map();
  }

  private resourcesFor(spec: ClusterSpec): ClusterResources {
    let r = this.resources.get(spec.name);
    if (!r || r.stats.name !== spec.statName) {
      r = new ClusterResources(spec.limits, this.stats.cluster(spec.statName));
      this.resources.set(spec.name, r);
    } else {
      r.limits = spec.limits;
    }
    return r;
  }

  private retire(cluster: Cluster): void {
    this.dnsResolutions.get(cluster)?.stop();
    this.dnsResolutions.delete(cluster);
    this.retiring.set(cluster, cluster.close().then(() => { this.retiring.delete(cluster); }));
  }
}
