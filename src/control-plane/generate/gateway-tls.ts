// The DownstreamTlsContext of a Gateway server that terminates TLS (Istio's ServerTLSSettings):
//  - SIMPLE: the server certificate and key from files (serverCertificate, privateKey, or the first of
//    tlsCertificates); the proxy reads them when it accepts the listener, so a path it cannot read
//    rejects that listener and the rest of the config stays in force;
//  - MUTUAL: plus caCertificates as the roots a client certificate must chain to, required, and
//    subjectAltNames as exact matches on any of its SANs (Istio's match_subject_alt_names);
//  - OPTIONAL_MUTUAL: a client certificate is asked for and verified when given, not required;
//  - ISTIO_MUTUAL: the mesh certificate and trust bundle over SDS (`default`, `ROOTCA`), a client
//    certificate from the mesh required.
// HTTPS servers offer ALPN h2 and http/1.1 (the connection keeps the protocol the client chose). TLS
// servers, whose plaintext goes to a TCP backend, offer none: a client told h2 would speak HTTP/2 to
// whatever the backend is. `credentialName` names a Kubernetes secret, which does not exist outside
// Kubernetes: such a server is reported and not served. Settings the proxy cannot enforce that would
// let in clients the user means to refuse (caCrl, verifyCertificateSpki, verifyCertificateHash) keep the
// server from being served; the ones that only narrow what is offered (cipherSuites) are reported and
// the defaults used.
import type { Server, ServerTLSSettings } from '../../api/index.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import type { EnvoyResource } from './envoy-types.ts';
import { meshCommonTlsContext } from './mtls.ts';

/** The modes in which a gateway server terminates TLS itself. */
export const terminatingModes: ReadonlySet<string> = new Set(['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL', 'ISTIO_MUTUAL']);

/** Istio's TLS mode default is PASSTHROUGH. */
export function serverTlsMode(tls: ServerTLSSettings): string {
  return tls.mode ?? 'PASSTHROUGH';
}

const protocolVersions: Record<string, string> = {
  TLS_AUTO: 'TLS_AUTO', TLSV1_0: 'TLSv1_0', TLSV1_1: 'TLSv1_1', TLSV1_2: 'TLSv1_2', TLSV1_3: 'TLSv1_3',
};
const versionOrder = ['TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'];

/**
 * The SNI names a terminating server answers to (its hosts without the `namespace/` part, sorted and
 * unique); undefined when one of them is `*`: the server takes every connection (no server_names).
 */
export function serverSniHosts(server: Server): string[] | undefined {
  const names = new Set(server.hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h).toLowerCase()));
  if (names.has('*')) return undefined;
  return [...names].sort();
}

/**
 * The transport socket terminating TLS for a server in SIMPLE, MUTUAL, OPTIONAL_MUTUAL or ISTIO_MUTUAL
 * mode; undefined (with the reason in `warnings`) when the server cannot be served as written.
 */
export function gatewayServerTransportSocket(server: Server, http: boolean, where: string, warnings: string[]): EnvoyResource | undefined {
  const tls = server.tls!;
  const mode = serverTlsMode(tls);
  const at = `${where}.tls`;
  const alpn = http ? ['h2', 'http/1.1'] : [];
  if (mode === 'ISTIO_MUTUAL') {
    const common = meshCommonTlsContext([], alpn);
    const sans = tls.subjectAltNames ?? [];
    if (sans.length > 0) {
      const combined = common.combined_validation_context as Record<string, unknown>;
      combined.default_validation_context = { match_subject_alt_names: sans.map((exact) => ({ exact })) };
    }
    return downstreamSocket(common, true);
  }
  if (tls.credentialName !== undefined || (tls.credentialNames?.length ?? 0) > 0) {
    const field = tls.credentialName !== undefined ? 'credentialName' : 'credentialNames';
    warnings.push(`${at}.${field}: Kubernetes secrets are not available to Weft's gateways; give the certificate as files (serverCertificate, privateKey${mode === 'SIMPLE' ? '' : ', caCertificates'}). This server is not served`);
    return undefined;
  }
  const refused = unenforceable(tls, at, mode);
  if (refused.length > 0) {
    warnings.push(...refused.map((r) => `${r}. This server is not served`));
    return undefined;
  }
  const certificates = tls.tlsCertificates?.length ? tls.tlsCertificates : [{ serverCertificate: tls.serverCertificate, privateKey: tls.privateKey }];
  const [certificate] = certificates;
  if (!certificate.serverCertificate || !certificate.privateKey) {
    warnings.push(`${at}: ${mode} needs serverCertificate and privateKey. This server is not served`);
    return undefined;
  }
  if (certificates.length > 1) {
    warnings.push(`${at}.tlsCertificates[1]: one certificate per server is supported; only tlsCertificates[0] is offered`);
  }
  const common: Record<string, unknown> = {
    tls_certificates: [{ certificate_chain: { filename: certificate.serverCertificate }, private_key: { filename: certificate.privateKey } }],
    ...(alpn.length > 0 ? { alpn_protocols: alpn } : {}),
  };
  const params = tlsParams(tls, at, warnings);
  if (params === null) return undefined;
  if (params !== undefined) common.tls_params = params;
  const sans = tls.subjectAltNames ?? [];
  if (mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') {
    const ca = tls.caCertificates ?? certificate.caCertificates;
    if (!ca) {
      warnings.push(`${at}.caCertificates: is required for ${mode}. This server is not served`);
      return undefined;
    }
    common.validation_context = {
      trusted_ca: { filename: ca },
      ...(sans.length > 0 ? { match_subject_alt_names: sans.map((exact) => ({ exact })) } : {}),
    };
  } else if (sans.length > 0) {
    warnings.push(`${at}.subjectAltNames: SIMPLE asks clients for no certificate, so there is nothing to check them against; ignored`);
  }
  if (tls.insecureSkipVerify && mode !== 'SIMPLE') {
    warnings.push(`${at}.insecureSkipVerify: is not supported; client certificates are verified against caCertificates`);
  }
  return downstreamSocket(common, mode === 'MUTUAL');
}

function downstreamSocket(common: Record<string, unknown>, requireClientCertificate: boolean): EnvoyResource {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': TypeUrl.DownstreamTlsContext,
      common_tls_context: common,
      require_client_certificate: { value: requireClientCertificate },
    },
  };
}

/** Client-certificate checks the proxy cannot make: without them it would accept clients meant to be refused. */
function unenforceable(tls: ServerTLSSettings, at: string, mode: string): string[] {
  const out: string[] = [];
  const verifies = mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  if (tls.caCrl && verifies) out.push(`${at}.caCrl: certificate revocation lists are not supported, so revoked client certificates would be accepted`);
  if (tls.verifyCertificateSpki?.length && verifies) out.push(`${at}.verifyCertificateSpki: SPKI pinning of client certificates is not supported`);
  if (tls.verifyCertificateHash?.length && verifies) out.push(`${at}.verifyCertificateHash: hash pinning of client certificates is not supported`);
  return out;
}

/** tls_params from the protocol versions; undefined: none to set; null: the versions contradict each other. */
function tlsParams(tls: ServerTLSSettings, at: string, warnings: string[]): Record<string, unknown> | undefined | null {
  const params: Record<string, unknown> = {};
  const min = tls.minProtocolVersion;
  const max = tls.maxProtocolVersion;
  if (min && max && min !== 'TLS_AUTO' && max !== 'TLS_AUTO' && versionOrder.indexOf(min) > versionOrder.indexOf(max)) {
    warnings.push(`${at}: minProtocolVersion ${min} is above maxProtocolVersion ${max}. This server is not served`);
    return null;
  }
  if (min && min !== 'TLS_AUTO') params.tls_minimum_protocol_version = protocolVersions[min];
  if (max && max !== 'TLS_AUTO') params.tls_maximum_protocol_version = protocolVersions[max];
  if (tls.cipherSuites?.length) {
    warnings.push(`${at}.cipherSuites: choosing cipher suites is not supported by Weft's proxy; its default suites are offered`);
  }
  return Object.keys(params).length > 0 ? params : undefined;
}
