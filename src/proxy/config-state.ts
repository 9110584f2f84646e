// What the proxy has accepted from the control plane, type by type: applies each update to the data
// plane, follows the names it implies (EDS for EDS clusters, RDS for the listeners' route names, SDS
// for the secrets the clusters' and listeners' TLS contexts name), and answers /ready and /config_dump.
import { TypeUrl, type ResourceTypeUrl } from '../xds/type-urls.ts';
import type { XdsClient } from './xds-client/xds-client.ts';
import { redactSecret, secretNamesOf } from './tls/secret-references.ts';

type Resource = Record<string, unknown>;

/**
 * What the config state drives: a DataPlane on this thread, or (--concurrency N) the workers' pool,
 * whose updates resolve once every worker has applied them. A refusal is a ConfigRejectedError (NACK).
 */
export interface ConfigurableDataPlane {
  updateSecrets(secrets: object[]): void | Promise<void>;
  updateClusters(clusters: object[]): void | Promise<void>;
  updateEndpoints(assignments: object[]): void | Promise<void>;
  updateListeners(listeners: object[]): Promise<void>;
  updateRoutes(routeConfigs: object[]): void | Promise<void>;
  listenerAddresses(): { name: string; address: string; port: number }[];
}

export class ProxyConfigState {
  private readonly dataPlane: ConfigurableDataPlane;
  private readonly accepted = new Map<ResourceTypeUrl, { resources: Resource[]; at: Date }>();
  private edsNames: string[] = [];
  private rdsNames: string[] = [];
  private clusterSecretNames: string[] = [];
  private listenerSecretNames: string[] = [];

  constructor(dataPlane: ConfigurableDataPlane) {
    this.dataPlane = dataPlane;
  }

  async apply(typeUrl: ResourceTypeUrl, resources: Resource[], xds: XdsClient): Promise<void> {
    switch (typeUrl) {
      case TypeUrl.Cluster:
        await this.dataPlane.updateClusters(resources);
        this.edsNames = resources.filter((c) => c.type === 'EDS').map(edsServiceName);
        xds.subscribe(TypeUrl.ClusterLoadAssignment, this.edsNames);
        this.clusterSecretNames = resources.flatMap(secretNamesOf);
        xds.subscribe(TypeUrl.Secret, this.secretNames());
        break;
      case TypeUrl.ClusterLoadAssignment:
        resources = this.merge(typeUrl, 'cluster_name', resources, this.edsNames);
        await this.dataPlane.updateEndpoints(resources);
        break;
      case TypeUrl.Listener:
        await this.dataPlane.updateListeners(resources);
        this.rdsNames = resources.flatMap(rdsNamesOf);
        xds.subscribe(TypeUrl.RouteConfiguration, this.rdsNames);
        this.listenerSecretNames = resources.flatMap(secretNamesOf);
        xds.subscribe(TypeUrl.Secret, this.secretNames());
        break;
      case TypeUrl.RouteConfiguration:
        resources = this.merge(typeUrl, 'name', resources, this.rdsNames);
        await this.dataPlane.updateRoutes(resources);
        break;
      case TypeUrl.Secret:
        resources = this.merge(typeUrl, 'name', resources, this.secretNames());
        await this.dataPlane.updateSecrets(resources);
        break;
      default:
        throw new Error(`resources of type ${typeUrl} are not supported by this proxy`);
    }
    this.accepted.set(typeUrl, { resources, at: new Date() });
  }

  /** Every secret a cluster or a listener in force refers to. */
  private secretNames(): string[] {
    return [...new Set([...this.clusterSecretNames, ...this.listenerSecretNames])].sort();
  }

  /**
   * EDS, RDS and SDS are not wildcard: in state of the world a response may carry only some of the
   * names subscribed, and one left out is unchanged, not deleted. The data plane takes complete
   * sets, so the resources still subscribed are carried over from what was accepted before.
   */
  private merge(typeUrl: ResourceTypeUrl, key: string, incoming: Resource[], subscribed: string[]): Resource[] {
    const byName = new Map<unknown, Resource>();
    const wanted = new Set(subscribed);
    for (const r of this.accepted.get(typeUrl)?.resources ?? []) if (wanted.has(r[key] as string)) byName.set(r[key], r);
    for (const r of incoming) byName.set(r[key], r);
    return [...byName.values()];
  }

  ready(): { ready: boolean; reason?: string } {
    if (!this.accepted.has(TypeUrl.Cluster)) return { ready: false, reason: 'waiting for clusters' };
    if (!this.accepted.has(TypeUrl.Listener)) return { ready: false, reason: 'waiting for listeners' };
    const have = (t: ResourceTypeUrl, key: string, names: string[]) => {
      const got = new Set((this.accepted.get(t)?.resources ?? []).map((r) => r[key]));
      return names.filter((n) => !got.has(n));
    };
    const missingEds = have(TypeUrl.ClusterLoadAssignment, 'cluster_name', this.edsNames);
    if (missingEds.length > 0) return { ready: false, reason: `waiting for endpoints of ${missingEds.length} clusters` };
    const missingRds = have(TypeUrl.RouteConfiguration, 'name', this.rdsNames);
    if (missingRds.length > 0) return { ready: false, reason: `waiting for routes ${missingRds.join(', ')}` };
    const missingSecrets = have(TypeUrl.Secret, 'name', this.secretNames());
    if (missingSecrets.length > 0) return { ready: false, reason: `waiting for secrets ${missingSecrets.join(', ')}` };
    return { ready: true };
  }

  /** The resources in force, in the spirit of Envoy's /config_dump. */
  dump(xds: XdsClient): unknown {
    const section = (t: ResourceTypeUrl, show: (r: Resource) => Resource = (r) => r) => {
      const a = this.accepted.get(t);
      return { version_info: xds.acceptedVersion(t), last_updated: a?.at.toISOString(), resources: (a?.resources ?? []).map((r) => ({ '@type': t, ...show(r) })) };
    };
    return {
      configs: {
        clusters: section(TypeUrl.Cluster),
        endpoints: section(TypeUrl.ClusterLoadAssignment),
        listeners: section(TypeUrl.Listener),
        routes: section(TypeUrl.RouteConfiguration),
        // Private keys never leave the proxy: shown as [redacted], as Envoy's config dump does.
        secrets: section(TypeUrl.Secret, redactSecret),
      },
      listener_addresses: this.dataPlane.listenerAddresses(),
      xds: xds.stats,
    };
  }
}

function edsServiceName(c: Resource): string {
  const cfg = c.eds_cluster_config as { service_name?: string } | undefined;
  return cfg?.service_name || String(c.name);
}

function rdsNamesOf(listener: Resource): string[] {
  const names: string[] = [];
  type Chain = { filters?: { typed_config?: Resource }[] };
  const chains = [...((listener.filter_chains as Chain[] | undefined) ?? [])];
  if (listener.default_filter_chain) chains.push(listener.default_filter_chain as Chain);
  for (const fc of chains) {
    for (const f of fc.filters ?? []) {
      const rds = f.typed_config?.rds as { route_config_name?: string } | undefined;
      if (rds?.route_config_name) names.push(rds.route_config_name);
    }
  }
  return names;
}
