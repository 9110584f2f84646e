// STRICT_DNS and LOGICAL_DNS clusters: the names in the cluster's load_assignment are resolved when the
// cluster starts and again every dns_refresh_rate, and the results become the cluster's endpoints
// (STRICT_DNS: every address a name resolves to; LOGICAL_DNS: the first one). A name that fails to
// resolve keeps its last good addresses, as Envoy keeps its hosts. IP addresses are used as they are.
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../../common/log.ts';
import type { DnsSettings } from './cluster-config.ts';
import type { Cluster } from './cluster.ts';
import type { EndpointSpec } from './endpoint-config.ts';

/** Orders a lookup's answers by Envoy's dns_lookup_family and keeps what it allows. */
function byFamily(addresses: LookupAddress[], family: DnsSettings['family']): LookupAddress[] {
  const v4 = addresses.filter((a) => a.family === 4);
  const v6 = addresses.filter((a) => a.family === 6);
  switch (family) {
    case 'V4_ONLY': return v4;
    case 'V6_ONLY': return v6;
    case 'AUTO': return v6.length > 0 ? v6 : v4;
    case 'V4_PREFERRED': return v4.length > 0 ? v4 : v6;
    default: return [...v4, ...v6];
  }
}

export class DnsResolution {
  private readonly cluster: Cluster;
  private readonly settings: DnsSettings;
  private readonly logical: boolean;
  private readonly logger: Logger;
  /** The last good answer per name. */
  private readonly resolved = new Map<string, string[]>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(cluster: Cluster, settings: DnsSettings, logger: Logger) {
    this.cluster = cluster;
    this.settings = settings;
    this.logical = cluster.spec.type === 'LOGICAL_DNS';
    this.logger = logger;
  }

  start(): void {
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async refresh(): Promise<void> {
    const assignment = this.settings.assignment;
    const names = [...new Set(assignment.endpoints.map((e) => e.address).filter((a) => isIP(a) === 0))];
    await Promise.all(names.map(async (name) => {
      try {
        const answers = byFamily(await lookup(name, { all: true, verbatim: true }), this.settings.family).map((a) => a.address);
        if (answers.length > 0) this.resolved.set(name, this.logical ? answers.slice(0, 1) : answers);
      } catch (err) {
        this.logger.warn('dns resolution failed', { cluster: this.cluster.name, name, error: (err as Error).message });
      }
    }));
    if (this.stopped) return;
    const endpoints = new Map<string, EndpointSpec>();
    for (const ep of assignment.endpoints) {
      const addresses = isIP(ep.address) !== 0 ? [ep.address] : this.resolved.get(ep.address) ?? [];
      for (const address of addresses) {
        const key = isIP(address) === 6 ? `[${address}]:${ep.port}` : `${address}:${ep.port}`;
        const existing = endpoints.get(key);
        if (existing) existing.weight += ep.weight;
        else endpoints.set(key, { ...ep, key, address });
      }
    }
    this.cluster.setAssignment({ ...assignment, endpoints: [...endpoints.values()] });
    this.timer = setTimeout(() => void this.refresh(), this.settings.refreshMs);
    this.timer.unref();
  }
}
