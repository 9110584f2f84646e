// The metadata a Weft sidecar puts in its xDS Node, and how the control plane reads it back.
// Field names follow Istio's proxy metadata where one exists (NAMESPACE, LABELS, SERVICE_ACCOUNT,
// INSTANCE_IPS, WORKLOAD_NAME); WEFT_* fields carry what Istio learns from iptables and Kubernetes.
import { fromStruct, toStruct, type JsonValue, type Struct } from './struct.ts';

export interface InboundPort {
  /** The service port the workload serves (ServiceEntry ports[].number or targetPort). */
  servicePort: number;
  /** Where the sidecar accepts inbound traffic for it: the endpoint port other sidecars dial. */
  port: number;
  /** Where the application itself listens, on 127.0.0.1. */
  appPort: number;
}

export interface ProxyMetadata {
  namespace: string;
  workloadName: string;
  labels: Record<string, string>;
  serviceAccount: string;
  address: string;
  /** The sidecar's explicit outbound port (applications send to it, or use it as HTTP_PROXY). */
  outboundPort?: number;
  inbound: InboundPort[];
  /**
   * region/zone/subzone: the xDS node's locality, else the workload's topology labels
   * (topology.kubernetes.io/region, topology.kubernetes.io/zone, topology.istio.io/subzone).
   */
  locality?: string;
  /** Runs as an ingress/egress gateway (Istio's "router"): serves the Gateways that select its labels. */
  gateway?: boolean;
  /** Outbound TCP/TLS listeners the sidecar reserved: service port → local port on 127.0.0.1. */
  outboundTcp?: OutboundTcpPort[];
}

export interface OutboundTcpPort {
  servicePort: number;
  port: number;
}

/** Node.locality (Envoy's core.Locality) as `region/zone/subzone`, or '' when absent. */
export function localityOf(node: { locality?: unknown } | undefined): string {
  const l = (node?.locality ?? {}) as { region?: unknown; zone?: unknown; sub_zone?: unknown };
  const part = (v: unknown) => (typeof v === 'string' ? v : '');
  const value = [part(l.region), part(l.zone), part(l.sub_zone)];
  return value.some((v) => v !== '') ? value.join('/') : '';
}

/** The locality Istio derives from a workload's topology labels, or ''. */
export function localityFromLabels(labels: Record<string, string>): string {
  const region = labels['topology.kubernetes.io/region'] ?? '';
  const zone = labels['topology.kubernetes.io/zone'] ?? '';
  const subzone = labels['topology.istio.io/subzone'] ?? '';
  return region || zone || subzone ? [region, zone, subzone].join('/') : '';
}

export function encodeProxyMetadata(m: ProxyMetadata): Struct {
  const obj: Record<string, JsonValue> = {
    NAMESPACE: m.namespace,
    WORKLOAD_NAME: m.workloadName,
    LABELS: m.labels,
    SERVICE_ACCOUNT: m.serviceAccount,
    INSTANCE_IPS: m.address,
    WEFT_INBOUND: m.inbound.map((p) => ({ servicePort: p.servicePort, port: p.port, appPort: p.appPort })),
  };
  if (m.outboundPort !== undefined) obj.WEFT_OUTBOUND_PORT = m.outboundPort;
  if (m.gateway) obj.WEFT_GATEWAY = true;
  if (m.outboundTcp && m.outboundTcp.length > 0) obj.WEFT_OUTBOUND_TCP = m.outboundTcp.map((p) => ({ servicePort: p.servicePort, port: p.port }));
  return toStruct(obj);
}

/** Reads proxy metadata; anything missing gets the defaults Istio would assume. Never throws. */
export function decodeProxyMetadata(struct: Struct | undefined | null, fallbackAddress = '127.0.0.1'): ProxyMetadata {
  const raw = fromStruct(struct);
  const str = (v: JsonValue | undefined, d: string) => (typeof v === 'string' && v !== '' ? v : d);
  const labels: Record<string, string> = {};
  if (raw.LABELS && typeof raw.LABELS === 'object' && !Array.isArray(raw.LABELS)) {
    for (const [k, v] of Object.entries(raw.LABELS)) if (typeof v === 'string') labels[k] = v;
  }
  const inbound: InboundPort[] = [];
  if (Array.isArray(raw.WEFT_INBOUND)) {
    for (const p of raw.WEFT_INBOUND) {
      if (!p || typeof p !== 'object' || Array.isArray(p)) continue;
      const { servicePort, port, appPort } = p as Record<string, JsonValue>;
      if (isPort(servicePort) && isPort(port) && isPort(appPort)) inbound.push({ servicePort, port, appPort });
    }
  }
  const outboundTcp: OutboundTcpPort[] = [];
  if (Array.isArray(raw.WEFT_OUTBOUND_TCP)) {
    for (const p of raw.WEFT_OUTBOUND_TCP) {
      if (!p || typeof p !== 'object' || Array.isArray(p)) continue;
      const { servicePort, port } = p as Record<string, JsonValue>;
      if (isPort(servicePort) && isPort(port)) outboundTcp.push({ servicePort, port });
    }
  }
  const ips = str(raw.INSTANCE_IPS, fallbackAddress).split(',')[0].trim();
  return {
    namespace: str(raw.NAMESPACE, 'default'),
    workloadName: str(raw.WORKLOAD_NAME, ''),
    labels,
    serviceAccount: str(raw.SERVICE_ACCOUNT, 'default'),
    address: ips,
    outboundPort: isPort(raw.WEFT_OUTBOUND_PORT) ? raw.WEFT_OUTBOUND_PORT : undefined,
    inbound,
    outboundTcp,
    locality: localityFromLabels(labels),
    ...(raw.WEFT_GATEWAY === true ? { gateway: true } : {}),
  };
}

function isPort(v: JsonValue | undefined): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
}
