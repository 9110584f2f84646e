// An endpoint of a cluster as the load balancer sees it, with its connection pool. A Host outlives
// endpoint updates that keep its address, so its pooled connections and in-flight requests survive.
import type { EndpointHealth, EndpointSpec } from './endpoint-config.ts';
import type { EndpointPool } from './endpoint-pool.ts';

export class Host {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  weight: number;
  health: EndpointHealth;
  readonly pool: EndpointPool;
  /** Requests of the router on this endpoint, from dispatch to their end (queued ones included). */
  activeRequests = 0;

  constructor(spec: EndpointSpec, pool: EndpointPool) {
    this.key = spec.key;
    this.address = spec.address;
    this.port = spec.port;
    this.weight = spec.weight;
    this.health = spec.health;
    this.pool = pool;
  }

  /**
   * The outcome of a request on this endpoint, for outlier detection: the upstream's response status
   * (as soon as its headers arrive).
   */
  recordResponse(_status: number): void {}

  /**
   * A locally originated failure on this endpoint: connect failure, connection reset before a response,
   * or a timeout (Envoy counts these like a 503 unless split_external_local_origin_errors is set).
   */
  recordLocalOriginFailure(): void {}
}
