// An endpoint of a cluster as the load balancer sees it, with its connection pool. A Host outlives
// endpoint updates that keep its address, so its pooled connections and in-flight requests survive.
// Its outcome hooks feed the cluster's outlier detector (outlier-detection/) when one is configured.
import { EndpointHealth, type EndpointSpec } from './endpoint-config.ts';
import type { EndpointPool } from './endpoint-pool.ts';
import type { HostMonitor } from './outlier-detection/host-monitor.ts';
import type { WorkloadPeer } from '../telemetry/peer-metadata.ts';

export class Host {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  weight: number;
  health: EndpointHealth;
  priority: number;
  /** `region/zone/sub_zone`. */
  locality: string;
  /** Its locality's load_balancing_weight; 0 when unset. */
  localityWeight: number;
  readonly pool: EndpointPool;
  /** Requests of the router on this endpoint, from dispatch to their end (queued ones included). */
  activeRequests = 0;
  /** Ejected by outlier detection: out of the healthy set until its ejection time is over. */
  ejected = false;
  /** performance.now() when it was first seen healthy (the start of its slow start window); -1 while never healthy. */
  healthySince: number;
  /** The outlier detector's record of this endpoint; null when the cluster has no outlier detection. */
  outlier: HostMonitor | null = null;
  /** The workload serving this endpoint (its `istio.workload` metadata), for telemetry; null when unknown. */
  workload: WorkloadPeer | null;

  constructor(spec: EndpointSpec, pool: EndpointPool) {
    this.key = spec.key;
    this.address = spec.address;
    this.port = spec.port;
    this.weight = spec.weight;
    this.health = spec.health;
    this.priority = spec.priority;
    this.locality = spec.locality;
    this.localityWeight = spec.localityWeight;
    this.pool = pool;
    this.workload = spec.workload ?? null;
    this.healthySince = spec.health === EndpointHealth.Healthy ? performance.now() : -1;
  }

  /** Takes an endpoint update for the same address. */
  update(spec: EndpointSpec): void {
    this.weight = spec.weight;
    this.health = spec.health;
    this.priority = spec.priority;
    this.locality = spec.locality;
    this.localityWeight = spec.localityWeight;
    this.workload = spec.workload ?? null;
    if (this.healthySince < 0 && spec.health === EndpointHealth.Healthy) this.healthySince = performance.now();
  }

  /**
   * The outcome of a request on this endpoint, for outlier detection: the upstream's response status
   * (as soon as its headers arrive).
   */
  recordResponse(status: number): void {
    if (this.outlier !== null) this.outlier.putResponse(status);
  }

  /**
   * A locally originated failure on this endpoint: connect failure, connection reset before a response,
   * or a timeout (Envoy counts these like a 503 unless split_external_local_origin_errors is set).
   */
  recordLocalOriginFailure(): void {
    if (this.outlier !== null) this.outlier.putLocalOriginFailure();
  }
}
