// A cluster's circuit breakers (DEFAULT priority thresholds), shared by the connection pools of all its
// endpoints: connections are counted per cluster as in Envoy, and requests / pending requests are the
// cluster's active gauges. Kept per cluster name across updates so that in-flight accounting survives
// a changed Cluster resource.
import type { ClusterStats } from '../telemetry/stat-objects.ts';
import type { CircuitBreakerLimits } from './cluster-config.ts';

export class ClusterResources {
  limits: CircuitBreakerLimits;
  stats: ClusterStats;
  /** Open or opening upstream connections (pool slots) across all endpoints. */
  connections = 0;

  constructor(limits: CircuitBreakerLimits, stats: ClusterStats) {
    this.limits = limits;
    this.stats = stats;
  }

  canCreateConnection(): boolean {
    return this.connections < this.limits.maxConnections;
  }

  canQueueRequest(): boolean {
    return this.stats.upstreamRqPendingActive < this.limits.maxPendingRequests;
  }

  canSendRequest(): boolean {
    return this.stats.upstreamRqActive < this.limits.maxRequests;
  }
}
