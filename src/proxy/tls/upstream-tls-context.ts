// UpstreamTlsContext → UpstreamTlsSpec: how the proxy originates TLS to a cluster's endpoints (HTTP/1.1
// and HTTP/2 pools, tcp_proxy). As Envoy: the endpoint's certificate is verified only when
// validation_context.trusted_ca is set, and then against the SAN matchers when there are any (no host
// name check otherwise); SNI is the configured `sni` (without it, none for endpoints given by IP
// address; undici's HTTP/1.1 connector sends an endpoint's host name); the client certificate is
// presented when tls_certificates has one. The secure context is built once per cluster config.
import tls, { type ConnectionOptions, type PeerCertificate, type SecureContext } from 'node:tls';
import { FieldPath, boolWrapper, string, uintWrapper, type Message } from '../upstream/envoy-config.ts';
import { checkTlsFields, compileCommonTlsContext } from './common-tls-context.ts';
import { certificateMatches, type SanMatcher } from './san-matcher.ts';

export type UpstreamTlsSpec = {
  secureContext: SecureContext;
  /** '': no SNI. */
  sni: string;
  /**
   * alpn_protocols as configured: what tcp_proxy offers. The HTTP pools offer the protocol the cluster
   * speaks to them (h2 or http/1.1), so the configured protocol decides, not the negotiation.
   */
  alpn: string[];
  /** trusted_ca is set: the chain (and the SAN matchers) are checked. */
  verify: boolean;
  sanMatchers: SanMatcher[];
  /** Canonical text (part of the cluster's pool key). */
  key: string;
};

const upstreamFields = new Set(['@type', 'type_url', 'common_tls_context', 'sni', 'allow_renegotiation', 'max_session_keys']);
const rejectedUpstreamFields: Record<string, string> = {
  auto_host_sni: 'is not supported (set sni)',
  auto_sni_san_validation: 'is not supported (use match_typed_subject_alt_names)',
  enforce_rsa_key_usage: 'is not supported',
};

export function compileUpstreamTlsContext(at: FieldPath, context: Message): UpstreamTlsSpec {
  checkTlsFields(at, context, upstreamFields, rejectedUpstreamFields);
  if (boolWrapper(at.field('allow_renegotiation'), context.allow_renegotiation) === true) at.field('allow_renegotiation').reject('is not supported (renegotiation is refused)');
  // Session resumption is node:tls's own; the count only sizes Envoy's cache.
  uintWrapper(at.field('max_session_keys'), context.max_session_keys);
  const common = compileCommonTlsContext(at.field('common_tls_context'), context.common_tls_context);
  const cp = at.field('common_tls_context');
  if (common.certificates.length > 1) cp.field('tls_certificates').reject('has more than one certificate; a client presents one');
  const sni = string(at.field('sni'), context.sni) ?? '';
  if (sni.length > 255) at.field('sni').reject('is longer than 255 characters');
  const cert = common.certificates[0];
  const trustedCa = common.validation.trustedCa;
  let secureContext: SecureContext;
  try {
    secureContext = tls.createSecureContext({
      ...(cert !== undefined ? { cert: cert.certificateChain, key: cert.privateKey } : {}),
      ...(trustedCa !== null ? { ca: trustedCa } : {}),
      ...(common.minVersion !== undefined ? { minVersion: common.minVersion } : {}),
      ...(common.maxVersion !== undefined ? { maxVersion: common.maxVersion } : {}),
    });
  } catch (err) {
    throw cp.error(`cannot be loaded: ${(err as Error).message}`);
  }
  return {
    secureContext,
    sni,
    alpn: common.alpn,
    verify: trustedCa !== null,
    sanMatchers: common.validation.sanMatchers,
    key: JSON.stringify([
      sni, common.alpn, cert?.certificateChain.toString('base64') ?? '', trustedCa?.toString('base64') ?? '',
      common.validation.sanMatchers.map(String), common.minVersion ?? '', common.maxVersion ?? '',
    ]),
  };
}

/**
 * Options for tls.connect to an endpoint. `alpn` is what this connection offers (the HTTP pools pass
 * the protocol they speak). Verification failures (chain or SAN) fail the handshake with an error.
 */
export function upstreamConnectOptions(spec: UpstreamTlsSpec, alpn: readonly string[]): ConnectionOptions {
  const matchers = spec.sanMatchers;
  return {
    secureContext: spec.secureContext,
    ...(spec.sni !== '' ? { servername: spec.sni } : {}),
    ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}),
    rejectUnauthorized: spec.verify,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      if (certificateMatches(matchers, cert)) return undefined;
      const error = new Error(`upstream certificate SANs (${cert.subjectaltname ?? 'none'}) match none of ${matchers.map(String).join(', ')}`);
      (error as NodeJS.ErrnoException).code = 'ERR_TLS_CERT_ALTNAME_INVALID';
      return error;
    },
  };
}

