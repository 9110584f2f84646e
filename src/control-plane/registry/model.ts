// The service model the registry builds and the generator reads: plain data, no behaviour.
import type {
  AuthorizationPolicy, DestinationRule, ExtensionProvider, Gateway, PathNormalization, PeerAuthentication, RequestAuthentication, Telemetry,
  VirtualService,
} from '../../api/index.ts';
import type { ObservabilitySettings } from '../../api/mesh-observability.ts';
import type { ProxyMetadata } from '../../xds/node-metadata.ts';

/**
 * Observability (ObservabilitySettings): accessLogFile/accessLogEncoding/accessLogFormat (the mesh-wide
 * access log), enableTracing and tracing (defaultConfig.tracing sampling and zipkin address), and
 * defaultProviders (the Telemetry providers used where no Telemetry names one).
 */
export interface MeshConfig extends ObservabilitySettings {
  /** DNS suffix for short names: reviews -> reviews.<ns>.svc.<domainSuffix>. */
  domainSuffix: string;
  trustDomain: string;
  /** Other trust domains whose identities count as this mesh's (MeshConfig.trustDomainAliases). */
  trustDomainAliases?: string[];
  rootNamespace: string;
  /** External authorizers that AuthorizationPolicy action CUSTOM names (MeshConfig.extensionProviders). */
  extensionProviders?: ExtensionProvider[];
  /** How request paths are normalised before authorization (MeshConfig.pathNormalization); default BASE. */
  pathNormalization?: PathNormalization;
}

export const defaultMeshConfig: MeshConfig = {
  domainSuffix: 'cluster.local',
  trustDomain: 'cluster.local',
  rootNamespace: 'istio-system',
};

export interface ServicePort {
  number: number;
  name: string;
  /** Istio protocol name, upper case: HTTP, HTTP2, GRPC, TCP, TLS, HTTPS, MONGO. */
  protocol: string;
  targetPort?: number;
}

/** One address:port that serves one port of a service. */
export interface Endpoint {
  address: string;
  port: number;
  labels: Record<string, string>;
  /** region/zone/subzone, as in WorkloadEntry.locality. */
  locality: string;
  weight: number;
  serviceAccount: string;
  /** kind/namespace/name of what the endpoint came from. */
  workload: string;
  /** Namespace of the workload (for its PeerAuthentication). */
  namespace?: string;
  /** The workload's name (WorkloadEntry name, or the sidecar's WORKLOAD_NAME). */
  workloadName?: string;
  /** 'istio': a sidecar that accepts mutual TLS serves this endpoint (auto mTLS). */
  tlsMode?: 'istio';
}

export interface Service {
  hostname: string;
  namespace: string;
  ports: ServicePort[];
  resolution: string;
  location: string;
  /** Endpoints by service port number. */
  endpoints: Map<number, Endpoint[]>;
  /** The ServiceEntry's exportTo (absent: every namespace). */
  exportTo?: string[];
}

/** A workload: from a WorkloadEntry, or a sidecar that registered over xDS. */
export interface Workload {
  key: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  address: string;
  serviceAccount: string;
  locality: string;
  weight: number;
  /** WorkloadEntry ports: port name -> number. */
  namedPorts: Record<string, number>;
  /** Registered sidecars: service port -> the sidecar's inbound port for it. */
  inboundPorts: Map<number, number>;
}

/** Everything the generator needs about the mesh, at one instant. */
export interface MeshSnapshot {
  config: MeshConfig;
  services: Service[];
  virtualServices: VirtualService[];
  destinationRules: DestinationRule[];
  /** Gateway resources (for proxies running as gateways). */
  gateways?: Gateway[];
  peerAuthentications?: PeerAuthentication[];
  authorizationPolicies?: AuthorizationPolicy[];
  requestAuthentications?: RequestAuthentication[];
  /** Telemetry resources: tracing, metrics overrides and access logging per mesh, namespace and workload. */
  telemetries?: Telemetry[];
  /** JWKS fetched by the control plane for jwtRules[].jwksUri: uri → JWKS JSON text (absent: not fetched yet or unreachable). */
  jwks?: Map<string, string>;
}

/** One proxy as the generator sees it. */
export interface ProxyNode {
  id: string;
  metadata: ProxyMetadata;
  /**
   * The proxy's verified identity: from its token when it presented one, else from its metadata.
   * Its workload certificate carries spiffe://<trust domain>/ns/<namespace>/sa/<serviceAccount>.
   */
  identity?: { namespace: string; serviceAccount: string };
  /** A gRPC application with its own xDS client (no sidecar): it gets api_listeners, no ports. */
  proxyless?: boolean;
}
