// A DataPlane in-process, fed hand-written Envoy resources; cleaned up by the test file's after().
import type { ProxyNodeInfo } from '../../../src/proxy/http/stream-observers.ts';
import type net from 'node:net';
import { DataPlane } from '../../../src/proxy/data-plane.ts';
import { ProxyStats } from '../../../src/proxy/telemetry/stats.ts';
import { silentLogger } from '../../../src/common/log.ts';

export type Resources = { secrets?: object[]; clusters?: object[]; endpoints?: object[]; routes?: object[]; listeners?: object[] };

export class Harness {
  readonly stats = new ProxyStats();
  readonly dataPlane: DataPlane;

  constructor(options: { drainTimeoutMs?: number; maxIdleConnectionsPerEndpoint?: number; reservedListeners?: Map<number, net.Server>; node?: ProxyNodeInfo } = {}) {
    this.dataPlane = new DataPlane({ logger: silentLogger, stats: this.stats, ...options });
  }

  /**
   * Applies resources in Envoy's ADS order (CDS, EDS, LDS, RDS); secrets first, so that the TLS
   * contexts that name them find them (a test of a late secret applies it on its own afterwards).
   */
  async apply(resources: Resources): Promise<void> {
    if (resources.secrets) this.dataPlane.updateSecrets(resources.secrets);
    if (resources.clusters) this.dataPlane.updateClusters(resources.clusters);
    if (resources.endpoints) this.dataPlane.updateEndpoints(resources.endpoints);
    if (resources.listeners) await this.dataPlane.updateListeners(resources.listeners);
    if (resources.routes) this.dataPlane.updateRoutes(resources.routes);
  }

  /** The bound port of a listener (the only one when no name is given). */
  port(name?: string): number {
    const all = this.dataPlane.listenerAddresses();
    const l = name === undefined ? all[0] : all.find((a) => a.name === name);
    if (!l) throw new Error(`no listener ${name ?? ''}; have ${all.map((a) => a.name).join(', ')}`);
    return l.port;
  }

  /** One sample of a metric: labels must match exactly those given (plus any others). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const metric = this.stats.registry.getSingleMetric(name);
    if (!metric) throw new Error(`no metric ${name}`);
    const { values } = await metric.get();
    const found = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
    return found?.value;
  }

  close(): Promise<void> {
    return this.dataPlane.close();
  }
}
