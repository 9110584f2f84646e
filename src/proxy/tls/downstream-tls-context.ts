// DownstreamTlsContext → DownstreamTlsSpec: what a filter chain needs to terminate TLS on its accepted
// connections (listener/tls-termination.ts builds the chain's tls.Server from it). Certificates and
// keys are read and checked to fit when the config is compiled; ALPN is chosen from the client's list
// by the chain's alpn_protocols order. Client certificates are asked for when validation_context has a
// trusted_ca: required with require_client_certificate, else verified when presented.
import tls, { type TlsOptions } from 'node:tls';
import { FieldPath, boolWrapper, durationMs, type Message } from '../upstream/envoy-config.ts';
import { checkTlsFields, compileCommonTlsContext } from './common-tls-context.ts';
import type { SanMatcher } from './san-matcher.ts';

export type DownstreamTlsSpec = {
  /** For the chain's tls.Server (certificate, key, CA, protocol versions, ALPN, client certificates, handshake timeout). */
  serverOptions: TlsOptions;
  /** Offered by preference; empty: no ALPN (the client's protocol is not known: HTTP/1.1). */
  alpn: string[];
  /** Ask the client for a certificate (validation_context.trusted_ca is set). */
  requestCertificate: boolean;
  /** require_client_certificate: a connection without a valid client certificate fails its handshake. */
  requireCertificate: boolean;
  /** Client certificates must carry one of these SANs (empty: any). */
  sanMatchers: SanMatcher[];
  /** require_sni: a ClientHello without SNI is refused. */
  requireSni: boolean;
  /** The filter chain's transport_socket_connect_timeout, else defaultHandshakeTimeoutMs. */
  handshakeTimeoutMs: number;
};

const downstreamFields = new Set(['@type', 'type_url', 'common_tls_context', 'require_client_certificate', 'require_sni']);
const rejectedDownstreamFields: Record<string, string> = {
  session_ticket_keys: 'is not supported (session ticket keys)',
  session_ticket_keys_sds_secret_config: 'is not supported yet: SDS comes with the certificate authority',
  disable_stateless_session_resumption: 'is not supported (session tickets)',
  disable_stateful_session_resumption: 'is not supported (session resumption settings)',
  session_timeout: 'is not supported (session resumption settings)',
  ocsp_staple_policy: 'is not supported (OCSP stapling)',
  full_scan_certs_on_sni_mismatch: 'is not supported (one certificate per filter chain)',
  prefer_client_ciphers: 'is not supported',
};

/** A TLS handshake that has not finished after this long is given up (Envoy has no default; node:tls uses 120 s). */
export const defaultHandshakeTimeoutMs = 10_000;

export function compileDownstreamTlsContext(at: FieldPath, context: Message, connectTimeout: unknown, timeoutAt: FieldPath): DownstreamTlsSpec {
  checkTlsFields(at, context, downstreamFields, rejectedDownstreamFields);
  const common = compileCommonTlsContext(at.field('common_tls_context'), context.common_tls_context);
  const cp = at.field('common_tls_context');
  if (common.certificates.length === 0) cp.field('tls_certificates').reject('is empty: a server needs a certificate');
  if (common.certificates.length > 1) cp.field('tls_certificates').reject('has more than one certificate; one per filter chain is supported');
  const requireCertificate = boolWrapper(at.field('require_client_certificate'), context.require_client_certificate) ?? false;
  const trustedCa = common.validation.trustedCa;
  if (requireCertificate && trustedCa === null) {
    at.field('require_client_certificate').reject('needs common_tls_context.validation_context.trusted_ca to verify client certificates');
  }
  const cert = common.certificates[0];
  const contextOptions = {
    cert: cert.certificateChain,
    key: cert.privateKey,
    ...(trustedCa !== null ? { ca: trustedCa } : {}),
    ...(common.minVersion !== undefined ? { minVersion: common.minVersion } : {}),
    ...(common.maxVersion !== undefined ? { maxVersion: common.maxVersion } : {}),
  };
  try {
    tls.createSecureContext(contextOptions); // a key that does not fit its certificate rejects the config here
  } catch (err) {
    throw cp.error(`cannot be loaded: ${(err as Error).message}`);
  }
  const timeout = durationMs(timeoutAt, connectTimeout) ?? 0;
  const handshakeTimeoutMs = timeout > 0 ? timeout : defaultHandshakeTimeoutMs;
  return {
    serverOptions: {
      ...contextOptions,
      requestCert: trustedCa !== null,
      rejectUnauthorized: requireCertificate,
      handshakeTimeout: handshakeTimeoutMs,
      ...(common.alpn.length > 0 ? { ALPNProtocols: common.alpn } : {}),
    },
    alpn: common.alpn,
    requestCertificate: trustedCa !== null,
    requireCertificate,
    sanMatchers: common.validation.sanMatchers,
    requireSni: boolWrapper(at.field('require_sni'), context.require_sni) ?? false,
    handshakeTimeoutMs,
  };
}

