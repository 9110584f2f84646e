// TrafficPolicy of a DestinationRule (and of its subsets): connection pool, outlier detection,
// client TLS, per-port settings, tunnel, PROXY protocol, retry budget. Load balancing is in
// load-balancer.ts.

import {
  array, boolean, duration, enumOf, integer, INT32_MAX, number, object, report, string, UINT32_MAX,
  type Context, type Schema,
} from '../schema.ts';
import { fqdnProblem, isIP } from '../names.ts';
import { portNumber, portSelector, type PortSelector } from './common.ts';
import { loadBalancerSettings, type LoadBalancerSettings } from './load-balancer.ts';

const count = () => integer({ min: 0, max: INT32_MAX });
const uint32 = () => integer({ min: 0, max: UINT32_MAX });

export interface TcpKeepalive {
  probes?: number;
  time?: string;
  interval?: string;
}

export interface TCPSettings {
  maxConnections?: number;
  connectTimeout?: string;
  tcpKeepalive?: TcpKeepalive;
  maxConnectionDuration?: string;
  idleTimeout?: string;
}

export const H2_UPGRADE_POLICIES = ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const;

export interface ConnectionKeepalive {
  interval?: string;
  timeout?: string;
}

export interface HTTPSettings {
  http1MaxPendingRequests?: number;
  http2MaxRequests?: number;
  maxRequestsPerConnection?: number;
  maxRetries?: number;
  idleTimeout?: string;
  h2UpgradePolicy?: (typeof H2_UPGRADE_POLICIES)[number];
  useClientProtocol?: boolean;
  maxConcurrentStreams?: number;
  http2KeepAlive?: ConnectionKeepalive;
}

export interface ConnectionPoolSettings {
  tcp?: TCPSettings;
  http?: HTTPSettings;
}

export const connectionPoolSettings: Schema<ConnectionPoolSettings> = object<ConnectionPoolSettings>({
  tcp: object<TCPSettings>({
    maxConnections: count(),
    connectTimeout: duration(),
    tcpKeepalive: object<TcpKeepalive>({ probes: uint32(), time: duration(), interval: duration() }),
    maxConnectionDuration: duration(),
    idleTimeout: duration({ allowZero: true }),
  }),
  http: object<HTTPSettings>({
    http1MaxPendingRequests: count(),
    http2MaxRequests: count(),
    maxRequestsPerConnection: count(),
    maxRetries: count(),
    idleTimeout: duration(),
    h2UpgradePolicy: enumOf(H2_UPGRADE_POLICIES),
    useClientProtocol: boolean(),
    maxConcurrentStreams: count(),
    http2KeepAlive: object<ConnectionKeepalive>({ interval: duration(), timeout: duration() }, { required: ['interval', 'timeout'] }),
  }, {
    check(h, path, ctx) {
      if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol === true) {
        report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, 'useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE');
      }
    },
  }),
}, {
  check(c, path, ctx) {
    if (c.tcp === undefined && c.http === undefined) report(ctx, 'WEFT_E_MISSING_FIELD', path, 'a connection pool must set tcp, http or both');
  },
});

export interface OutlierDetection {
  /** Deprecated: use consecutiveGatewayErrors or consecutive5xxErrors. */
  consecutiveErrors?: number;
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailures?: number;
  consecutiveGatewayErrors?: number;
  consecutive5xxErrors?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
  outlierDetectionHttpErrorCodes?: number[];
}

export const outlierDetection: Schema<OutlierDetection> = object<OutlierDetection>({
  consecutiveErrors: count(),
  splitExternalLocalOriginErrors: boolean(),
  consecutiveLocalOriginFailures: uint32(),
  consecutiveGatewayErrors: uint32(),
  consecutive5xxErrors: uint32(),
  interval: duration(),
  baseEjectionTime: duration(),
  maxEjectionPercent: integer({ min: 0, max: 100 }),
  minHealthPercent: integer({ min: 0, max: 100 }),
  outlierDetectionHttpErrorCodes: array(integer({ min: 100, max: 599 })),
}, {
  check(o, path, ctx) {
    if ((o.consecutiveLocalOriginFailures ?? 0) > 0 && o.splitExternalLocalOriginErrors !== true) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.consecutiveLocalOriginFailures`,
        'has no effect unless splitExternalLocalOriginErrors is true');
    }
  },
});

export const CLIENT_TLS_MODES = ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const;

export interface ClientTLSSettings {
  mode?: (typeof CLIENT_TLS_MODES)[number];
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
  caCrl?: string;
}

function checkClientTls(t: ClientTLSSettings, path: string, ctx: Context): void {
  const conflict = (message: string) => report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, message);
  if (t.insecureSkipVerify === true) {
    if (t.mode === 'SIMPLE' && (t.caCertificates || t.credentialName || t.subjectAltNames)) {
      conflict('caCertificates, credentialName and subjectAltNames cannot be set when insecureSkipVerify is true');
    }
    if (t.mode === 'MUTUAL' && (t.caCertificates || t.subjectAltNames)) {
      conflict('caCertificates and subjectAltNames cannot be set when insecureSkipVerify is true');
    }
  }
  if ((t.mode === 'SIMPLE' || t.mode === 'MUTUAL') && t.credentialName) {
    if (t.clientCertificate || t.privateKey || t.caCertificates || t.caCrl) {
      conflict('clientCertificate, privateKey, caCertificates and caCrl cannot be set when credentialName is set');
    }
    return;
  }
  if (t.mode === 'MUTUAL') {
    if (!t.clientCertificate) report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.clientCertificate`, 'is required for MUTUAL TLS (or set credentialName)');
    if (!t.privateKey) report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.privateKey`, 'is required for MUTUAL TLS (or set credentialName)');
  }
}

export const clientTlsSettings: Schema<ClientTLSSettings> = object<ClientTLSSettings>({
  mode: enumOf(CLIENT_TLS_MODES),
  clientCertificate: string(),
  privateKey: string(),
  caCertificates: string(),
  credentialName: string(),
  subjectAltNames: array(string()),
  sni: string(),
  insecureSkipVerify: boolean(),
  caCrl: string(),
}, { check: checkClientTls });

export interface PortTrafficPolicy {
  port?: PortSelector;
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
}

export interface TunnelSettings {
  protocol?: string;
  targetHost: string;
  targetPort: number;
}

export const PROXY_PROTOCOL_VERSIONS = ['V1', 'V2'] as const;

export interface ProxyProtocol {
  version?: (typeof PROXY_PROTOCOL_VERSIONS)[number];
}

export interface RetryBudget {
  percent?: number;
  minRetryConcurrency?: number;
  budgetInterval?: string;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  portLevelSettings?: PortTrafficPolicy[];
  tunnel?: TunnelSettings;
  proxyProtocol?: ProxyProtocol;
  retryBudget?: RetryBudget;
}

function requireSomeField(fields: readonly string[], what: string) {
  return (value: object, path: string, ctx: Context) => {
    if (!fields.some((f) => (value as Record<string, unknown>)[f] !== undefined)) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, `${what} must set at least one of ${fields.join(', ')}`);
    }
  };
}

const POLICIES = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;

export const portTrafficPolicy: Schema<PortTrafficPolicy> = object<PortTrafficPolicy>({
  port: portSelector,
  loadBalancer: loadBalancerSettings,
  connectionPool: connectionPoolSettings,
  outlierDetection,
  tls: clientTlsSettings,
}, { required: ['port'], check: requireSomeField(POLICIES, 'a port traffic policy') });

export const tunnelSettings: Schema<TunnelSettings> = object<TunnelSettings>({
  protocol: string({ check: (p) => (p === 'CONNECT' || p === 'POST' ? undefined : 'must be "CONNECT" or "POST"') }),
  targetHost: string({ check: (h) => (isIP(h) ? undefined : fqdnProblem(h)) }),
  targetPort: portNumber(),
}, { required: ['targetHost', 'targetPort'] });

export const trafficPolicy: Schema<TrafficPolicy> = object<TrafficPolicy>({
  loadBalancer: loadBalancerSettings,
  connectionPool: connectionPoolSettings,
  outlierDetection,
  tls: clientTlsSettings,
  portLevelSettings: array(portTrafficPolicy, { maxItems: 4096 }),
  tunnel: tunnelSettings,
  proxyProtocol: object<ProxyProtocol>({ version: enumOf(PROXY_PROTOCOL_VERSIONS) }),
  retryBudget: object<RetryBudget>({
    percent: number({ min: 0, max: 100 }),
    minRetryConcurrency: uint32(),
    budgetInterval: duration({ allowZero: true, subMillisecond: true }),
  }),
}, {
  oneOf: [['tunnel', 'proxyProtocol']],
  check: requireSomeField([...POLICIES, 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'], 'a traffic policy'),
});
