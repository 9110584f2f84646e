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
  /** Retries under way across the cluster (from the retry decision until the retried attempt's outcome). */
  retries = 0;

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

  /** max_retries, or the retry budget when one is set (a share of the active requests, at least min_retry_concurrency). */
  canRetry(): boolean {
    const budget = this.limits.retryBudget;
    if (budget === null) return this.retries < this.limits.maxRetries;
    const allowed = Math.max(budget.minRetryConcurrency, Math.floor(budget.budgetPercent / 100 * this.stats.upstreamRqActive));
    return this.retries < allowed;
  }
}
