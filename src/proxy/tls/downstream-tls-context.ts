// DownstreamTlsContext → DownstreamTlsSpec: what a filter chain needs to terminate TLS on its accepted
// connections (listener/tls-termination.ts runs the chain's tls.Server with it). Inline certificates
// and keys are read and checked to fit when the config is compiled; SDS secrets (Istio's `default` and
// `ROOTCA`) are resolved from the data plane's secret store when connections arrive (source). ALPN is
// chosen from the client's list by the chain's alpn_protocols order. Client certificates are asked for
// when there are roots (inline trusted_ca or a validation secret): required with
// require_client_certificate, else verified when presented.
import tls, { type TlsOptions } from 'node:tls';
import { FieldPath, boolWrapper, durationMs, type Message } from '../upstream/envoy-config.ts';
import { checkTlsFields, compileCommonTlsContext } from './common-tls-context.ts';
import type { SecretStore } from './secret-store.ts';
import { TlsContextSource } from './tls-context-source.ts';

export type DownstreamTlsSpec = {
  /** The certificate, key, roots and protocol versions: inline, or from SDS secrets as they are now. */
  source: TlsContextSource;
  /** For the chain's tls.Server besides its secure context (ALPN, client certificates, handshake timeout). */
  serverOptions: TlsOptions;
  /** Offered by preference; empty: no ALPN (the client's protocol is not known: HTTP/1.1). */
  alpn: string[];
  /** Ask the client for a certificate (there are roots to verify it). */
  requestCertificate: boolean;
  /** require_client_certificate: a connection without a valid client certificate fails its handshake. */
  requireCertificate: boolean;
  /** require_sni: a ClientHello without SNI is refused. */
  requireSni: boolean;
  /** The filter chain's transport_socket_connect_timeout, else defaultHandshakeTimeoutMs. */
  handshakeTimeoutMs: number;
};

const downstreamFields = new Set(['@type', 'type_url', 'common_tls_context', 'require_client_certificate', 'require_sni']);
const rejectedDownstreamFields: Record<string, string> = {
  session_ticket_keys: 'is not supported (session ticket keys)',
  session_ticket_keys_sds_secret_config: 'is not supported (session ticket keys)',
  disable_stateless_session_resumption: 'is not supported (session tickets)',
  disable_stateful_session_resumption: 'is not supported (session resumption settings)',
  session_timeout: 'is not supported (session resumption settings)',
  ocsp_staple_policy: 'is not supported (OCSP stapling)',
  full_scan_certs_on_sni_mismatch: 'is not supported (one certificate per filter chain)',
  prefer_client_ciphers: 'is not supported',
};

/** A TLS handshake that has not finished after this long is given up (Envoy has no default; node:tls uses 120 s). */
export const defaultHandshakeTimeoutMs = 10_000;

/** `secrets`: the data plane's SDS secrets (null: SDS references cannot be resolved and are refused). */
export function compileDownstreamTlsContext(
  at: FieldPath, context: Message, connectTimeout: unknown, timeoutAt: FieldPath, secrets: SecretStore | null,
): DownstreamTlsSpec {
  checkTlsFields(at, context, downstreamFields, rejectedDownstreamFields);
  const common = compileCommonTlsContext(at.field('common_tls_context'), context.common_tls_context);
  const cp = at.field('common_tls_context');
  const certificateCount = common.certificates.length + common.certificateSecrets.length;
  if (certificateCount === 0) cp.field('tls_certificates').reject('is empty: a server needs a certificate (tls_certificates or tls_certificate_sds_secret_configs)');
  if (certificateCount > 1) cp.reject('has more than one certificate; one per filter chain is supported');
  if (secrets === null && (common.certificateSecrets.length > 0 || common.validation.secretName !== null)) {
    cp.reject('refers to SDS secrets, which this data plane cannot resolve');
  }
  const requireCertificate = boolWrapper(at.field('require_client_certificate'), context.require_client_certificate) ?? false;
  const source = new TlsContextSource({
    certificate: common.certificates[0] ?? null,
    certificateSecret: common.certificateSecrets[0] ?? null,
    trustedCa: common.validation.trustedCa,
    validationSecret: common.validation.secretName,
    sanMatchers: common.validation.sanMatchers,
    minVersion: common.minVersion,
    maxVersion: common.maxVersion,
  }, secrets);
  if (requireCertificate && !source.verifies) {
    at.field('require_client_certificate').reject('needs common_tls_context.validation_context.trusted_ca (or validation_context_sds_secret_config) to verify client certificates');
  }
  if (!source.dynamic) {
    const resolved = source.resolve();
    try {
      if (typeof resolved !== 'string') tls.createSecureContext(resolved.options); // a key that does not fit its certificate rejects the config here
    } catch (err) {
      throw cp.error(`cannot be loaded: ${(err as Error).message}`);
    }
  }
  const timeout = durationMs(timeoutAt, connectTimeout) ?? 0;
  const handshakeTimeoutMs = timeout > 0 ? timeout : defaultHandshakeTimeoutMs;
  return {
    source,
    serverOptions: {
      requestCert: source.verifies,
      rejectUnauthorized: requireCertificate,
      handshakeTimeout: handshakeTimeoutMs,
      ...(common.alpn.length > 0 ? { ALPNProtocols: common.alpn } : {}),
    },
    alpn: common.alpn,
    requestCertificate: source.verifies,
    requireCertificate,
    requireSni: boolWrapper(at.field('require_sni'), context.require_sni) ?? false,
    handshakeTimeoutMs,
  };
}
