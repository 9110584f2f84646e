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
  const ips = str(raw.INSTANCE_IPS, fallbackAddress).split(',')[0].trim();
  return {
    namespace: str(raw.NAMESPACE, 'default'),
    workloadName: str(raw.WORKLOAD_NAME, ''),
    labels,
    serviceAccount: str(raw.SERVICE_ACCOUNT, 'default'),
    address: ips,
    outboundPort: isPort(raw.WEFT_OUTBOUND_PORT) ? raw.WEFT_OUTBOUND_PORT : undefined,
    inbound,
  };
}

function isPort(v: JsonValue | undefined): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
}
