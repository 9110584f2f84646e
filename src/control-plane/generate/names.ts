// Envoy resource names, spelled as Istio spells them so operators' habits and tools carry over.
export function outboundClusterName(port: number, subset: string, hostname: string): string {
  return `outbound|${port}|${subset}|${hostname}`;
}

export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

export const outboundHttpListenerName = 'outbound_http';
export const outboundHttpRouteName = 'outbound_http';

/** The sidecar's outbound TCP/TLS listener for one service port. */
export function outboundTcpListenerName(servicePort: number): string {
  return `outbound_tcp_${servicePort}`;
}

export function inboundListenerName(port: number): string {
  return `inbound|${port}`;
}

export function virtualHostName(hostname: string, port: number): string {
  return `${hostname}:${port}`;
}

/** Where traffic goes that has nowhere to go: a cluster with no endpoints (503), as in Istio. */
export const blackHoleClusterName = 'BlackHoleCluster';
