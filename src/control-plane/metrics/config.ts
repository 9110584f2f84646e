// What the control plane knows of the mesh's config, as istiod reports it: config events per kind
// (pilot_k8s_cfg_events; here from the store rather than the Kubernetes API), registry events for
// proxies that register themselves (pilot_k8s_reg_events), and the services and virtual services
// in the current mesh view.
import { Counter, Gauge } from 'prom-client';
import { controlPlaneRegistry } from './registry.ts';

const registers = [controlPlaneRegistry];

const cfgEvents = new Counter({
  name: 'pilot_k8s_cfg_events', help: 'Events from k8s config.', labelNames: ['type', 'event'] as const, registers,
});
const regEvents = new Counter({
  name: 'pilot_k8s_reg_events', help: 'Events from k8s registry.', labelNames: ['type', 'event'] as const, registers,
});
const inboundUpdates = new Counter({
  name: 'pilot_inbound_updates', help: 'Total number of updates received by pilot.', labelNames: ['type'] as const, registers,
});
const services = new Gauge({ name: 'pilot_services', help: 'Total services known to pilot.', registers });
const virtualServices = new Gauge({ name: 'pilot_virt_services', help: 'Total virtual services known to pilot.', registers });

export type ConfigEvent = 'add' | 'update' | 'delete';

/** A stored Istio resource changed (`kind` as Istio spells it, e.g. VirtualService). */
export function recordConfigEvent(kind: string, event: ConfigEvent): void {
  cfgEvents.inc({ type: kind, event });
  inboundUpdates.inc({ type: 'config' });
}

/** A proxy's registration (its workload and endpoints) changed. */
export function recordRegistryEvent(type: string, event: ConfigEvent): void {
  regEvents.inc({ type, event });
  inboundUpdates.inc({ type: 'eds' });
}

export function recordMeshSize(serviceCount: number, virtualServiceCount: number): void {
  services.set(serviceCount);
  virtualServices.set(virtualServiceCount);
}
