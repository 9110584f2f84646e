// Gateway (networking.istio.io): a load balancer at the edge of the mesh: the ports it listens on,
// the hosts it serves, and its TLS settings.

import { array, boolean, enumOf, integer, object, report, string, type Context, type Schema } from '../schema.ts';
import { isIP, isIstioDnsLabel, wildcardHostProblem } from '../names.ts';
import { labels, portNumber, reportDuplicates } from './common.ts';
import { isHttpProtocol, isTlsProtocol, protocolProblem } from './protocol.ts';

export interface Port {
  number: number;
  protocol: string;
  name: string;
  /** Deprecated; has no effect on gateways. */
  targetPort?: number;
}

export const SERVER_TLS_MODES = ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] as const;
export const TLS_PROTOCOL_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

export interface TLSCertificate {
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
}

export interface ServerTLSSettings {
  httpsRedirect?: boolean;
  mode?: (typeof SERVER_TLS_MODES)[number];
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  caCrl?: string;
  credentialName?: string;
  credentialNames?: string[];
  caCertCredentialName?: string;
  tlsCertificates?: TLSCertificate[];
  subjectAltNames?: string[];
  verifyCertificateSpki?: string[];
  verifyCertificateHash?: string[];
  minProtocolVersion?: (typeof TLS_PROTOCOL_VERSIONS)[number];
  maxProtocolVersion?: (typeof TLS_PROTOCOL_VERSIONS)[number];
  cipherSuites?: string[];
  insecureSkipVerify?: boolean;
}

export interface Server {
  port: Port;
  bind?: string;
  hosts: string[];
  tls?: ServerTLSSettings;
  defaultEndpoint?: string;
  name?: string;
}

export interface GatewaySpec {
  servers: Server[];
  selector?: Record<string, string>;
}

export const port: Schema<Port> = object<Port>({
  number: integer({ min: 0, max: 65535 }),
  protocol: string({ check: protocolProblem }),
  name: string({ check: (n) => (n === '' ? 'must not be empty' : undefined) }),
  targetPort: portNumber(),
}, { required: ['number', 'protocol', 'name'] });

function checkServerTls(t: ServerTLSSettings, path: string, ctx: Context): void {
  const sources = [t.serverCertificate && t.privateKey, t.credentialName, t.credentialNames?.length, t.tlsCertificates?.length];
  if (sources.filter(Boolean).length > 1) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, 'only one of credentialName, credentialNames, serverCertificate/privateKey or tlsCertificates may be set');
  }
  if (t.mode === 'ISTIO_MUTUAL') {
    for (const f of ['serverCertificate', 'privateKey', 'caCertificates', 'credentialName', 'credentialNames', 'tlsCertificates'] as const) {
      if (t[f] !== undefined) report(ctx, 'WEFT_E_CONFLICTING_FIELDS', `${path}.${f}`, 'cannot be set when mode is ISTIO_MUTUAL');
    }
    return;
  }
  const usesCredentials = t.credentialName !== undefined || (t.credentialNames?.length ?? 0) > 0;
  if ((t.mode === 'SIMPLE' || t.mode === 'MUTUAL' || t.mode === 'OPTIONAL_MUTUAL') && !usesCredentials) {
    const certs = t.tlsCertificates?.length ? t.tlsCertificates : [t];
    if (certs.some((c) => !c.serverCertificate || !c.privateKey)) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, `${t.mode} TLS requires credentialName, or serverCertificate and privateKey`);
    }
    if (t.mode !== 'SIMPLE' && !t.caCertificates) {
      report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.caCertificates`, `is required for ${t.mode} TLS (or set credentialName)`);
    }
  }
}

export const serverTlsSettings: Schema<ServerTLSSettings> = object<ServerTLSSettings>({
  httpsRedirect: boolean(),
  mode: enumOf(SERVER_TLS_MODES),
  serverCertificate: string(),
  privateKey: string(),
  caCertificates: string(),
  caCrl: string(),
  credentialName: string(),
  credentialNames: array(string(), { minItems: 1, maxItems: 2 }),
  caCertCredentialName: string(),
  tlsCertificates: array(object<TLSCertificate>({ serverCertificate: string(), privateKey: string(), caCertificates: string() }), { minItems: 1, maxItems: 2 }),
  subjectAltNames: array(string()),
  verifyCertificateSpki: array(string()),
  verifyCertificateHash: array(string()),
  minProtocolVersion: enumOf(TLS_PROTOCOL_VERSIONS),
  maxProtocolVersion: enumOf(TLS_PROTOCOL_VERSIONS),
  cipherSuites: array(string()),
  insecureSkipVerify: boolean(),
}, { check: checkServerTls });

/** A server host: `[namespace/]dnsName`, namespace `*`, `.` or a name; dnsName may be `*` or wildcarded. */
function serverHostProblem(h: string): string | undefined {
  const slash = h.indexOf('/');
  const ns = slash < 0 ? undefined : h.slice(0, slash);
  const dnsName = slash < 0 ? h : h.slice(slash + 1);
  if (ns !== undefined && ns !== '*' && ns !== '.' && !isIstioDnsLabel(ns)) return `"${h}": invalid namespace "${ns}"`;
  if (dnsName === '*' || isIP(dnsName)) return undefined;
  return wildcardHostProblem(dnsName);
}

function checkServer(s: Server, path: string, ctx: Context): void {
  if (s.port.number === 0 && !s.bind?.startsWith('unix://')) {
    report(ctx, 'WEFT_E_OUT_OF_RANGE', `${path}.port.number`, 'must be an integer 1..65535 (0 only with a unix:// bind)');
  }
  const tlsPort = isTlsProtocol(s.port.protocol);
  if (tlsPort && s.tls === undefined) {
    report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.tls`, `is required for ${s.port.protocol} ports`);
  }
  if (!tlsPort && s.tls !== undefined) {
    const redirectOnly = isHttpProtocol(s.port.protocol) && !s.tls.serverCertificate && !s.tls.privateKey && !s.tls.caCertificates;
    if (!redirectOnly) report(ctx, 'WEFT_E_CONFLICTING_FIELDS', `${path}.tls`, `cannot be set on a ${s.port.protocol} port (only httpsRedirect on HTTP ports)`);
  }
}

export const server: Schema<Server> = object<Server>({
  port,
  bind: string({ check: (b) => (b.startsWith('unix://') || isIP(b) ? undefined : 'must be an IP address or a unix:// socket') }),
  hosts: array(string({ check: serverHostProblem }), { minItems: 1 }),
  tls: serverTlsSettings,
  defaultEndpoint: string(),
  name: string(),
}, { required: ['port', 'hosts'], check: checkServer });

export const gatewaySpec: Schema<GatewaySpec> = object<GatewaySpec>({
  servers: array(server, { minItems: 1 }),
  selector: labels(),
}, {
  required: ['servers'],
  check(g, path, ctx) {
    reportDuplicates(ctx, `${path}.servers`, g.servers.map((s) => s.port.name), 'port name', '.port.name');
  },
});
