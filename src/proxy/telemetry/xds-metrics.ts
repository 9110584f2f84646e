// xDS client health as Envoy reports it: control plane connection state and update counts per type.
import { Gauge, type Registry } from 'prom-client';
import type { XdsClient } from '../xds-client/xds-client.ts';

const names: Record<string, string> = { CDS: 'cluster_manager_cds', EDS: 'cluster_manager_eds', LDS: 'listener_manager_lds', RDS: 'http_rds' };

export function registerXdsMetrics(registry: Registry, xds: XdsClient): void {
  new Gauge({
    name: 'envoy_control_plane_connected_state',
    help: 'Whether the proxy is connected to the control plane (1) or not (0)',
    registers: [registry],
    collect() { this.set(xds.stats.connected ? 1 : 0); },
  });
  for (const outcome of ['success', 'rejected'] as const) {
    new Gauge({
      name: `envoy_xds_update_${outcome}`,
      help: `xDS updates ${outcome === 'success' ? 'accepted' : 'rejected (NACKed)'} by the proxy, by type`,
      labelNames: ['envoy_xds_type', 'envoy_xds_stat_prefix'],
      registers: [registry],
      collect() {
        const counts = outcome === 'success' ? xds.stats.updatesAccepted : xds.stats.updatesRejected;
        for (const [type, prefix] of Object.entries(names)) this.set({ envoy_xds_type: type, envoy_xds_stat_prefix: prefix }, counts[type] ?? 0);
      },
    });
  }
}
