// UpstreamTlsContext → UpstreamTlsSpec: how the proxy originates TLS to an endpoint (HTTP/1.1 and
// HTTP/2 pools, tcp_proxy), for a cluster's transport_socket or one of its transport_socket_matches.
// As Envoy: the endpoint's certificate is verified only when there are roots (inline trusted_ca or an
// SDS validation secret such as Istio's ROOTCA), and then against the SAN matchers when there are any
// (SPIFFE identities: URI SANs; no host name check otherwise); SNI is the configured `sni` (without it,
// none for endpoints given by IP address; undici's HTTP/1.1 connector sends an endpoint's host name);
// the client certificate (inline, or the SDS secret `default`) is presented when there is one. The
// secure context comes from a TlsContextSource: built once per config or secret update, and used by
// every new connection; a secret that has not arrived makes connections fail (a connect failure).
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { FieldPath, boolWrapper, string, uintWrapper, type Message } from '../upstream/envoy-config.ts';
import { checkTlsFields, compileCommonTlsContext } from './common-tls-context.ts';
import { certificateMatches, type SanMatcher } from './san-matcher.ts';
import type { SecretStore } from './secret-store.ts';
import { TlsContextSource } from './tls-context-source.ts';

export type UpstreamTlsSpec = {
  source: TlsContextSource;
  /** '': no SNI. */
  sni: string;
  /**
   * alpn_protocols as configured: what tcp_proxy offers. The HTTP pools offer the protocol the cluster
   * speaks to them (h2 or http/1.1), so the configured protocol decides, not the negotiation.
   */
  alpn: string[];
  /** There are roots: the chain (and the SAN matchers) are checked. */
  verify: boolean;
  /**
   * Canonical text (part of the cluster's pool key): inline material by content, secrets by name, so
   * that a secret rotation keeps the pools (their new connections take the new context).
   */
  key: string;
};

const upstreamFields = new Set(['@type', 'type_url', 'common_tls_context', 'sni', 'allow_renegotiation', 'max_session_keys']);
const rejectedUpstreamFields: Record<string, string> = {
  auto_host_sni: 'is not supported (set sni)',
  auto_sni_san_validation: 'is not supported (use match_typed_subject_alt_names)',
  enforce_rsa_key_usage: 'is not supported',
};

/** `secrets`: the data plane's SDS secrets (null: SDS references cannot be resolved and are refused). */
export function compileUpstreamTlsContext(at: FieldPath, context: Message, secrets: SecretStore | null): UpstreamTlsSpec {
  checkTlsFields(at, context, upstreamFields, rejectedUpstreamFields);
  if (boolWrapper(at.field('allow_renegotiation'), context.allow_renegotiation) === true) at.field('allow_renegotiation').reject('is not supported (renegotiation is refused)');
  // Session resumption is node:tls's own; the count only sizes Envoy's cache.
  uintWrapper(at.field('max_session_keys'), context.max_session_keys);
  const common = compileCommonTlsContext(at.field('common_tls_context'), context.common_tls_context);
  const cp = at.field('common_tls_context');
  if (common.certificates.length + common.certificateSecrets.length > 1) cp.reject('has more than one certificate; a client presents one');
  if (secrets === null && (common.certificateSecrets.length > 0 || common.validation.secretName !== null)) {
    cp.reject('refers to SDS secrets, which this data plane cannot resolve');
  }
  const sni = string(at.field('sni'), context.sni) ?? '';
  if (sni.length > 255) at.field('sni').reject('is longer than 255 characters');
  const cert = common.certificates[0];
  const validation = common.validation;
  const source = new TlsContextSource({
    certificate: cert ?? null,
    certificateSecret: common.certificateSecrets[0] ?? null,
    trustedCa: validation.trustedCa,
    validationSecret: validation.secretName,
    sanMatchers: validation.sanMatchers,
    minVersion: common.minVersion,
    maxVersion: common.maxVersion,
  }, secrets);
  if (!source.dynamic) {
    const resolved = source.resolve();
    try {
      if (typeof resolved !== 'string') void resolved.secureContext; // a key that does not fit its certificate rejects the config here
    } catch (err) {
      throw cp.error(`cannot be loaded: ${(err as Error).message}`);
    }
  }
  return {
    source,
    sni,
    alpn: common.alpn,
    verify: source.verifies,
    key: JSON.stringify([
      sni, common.alpn, cert?.certificateChain.toString('base64') ?? '', validation.trustedCa?.toString('base64') ?? '',
      validation.sanMatchers.map(String), common.minVersion ?? '', common.maxVersion ?? '',
      common.certificateSecrets, validation.secretName ?? '',
    ]),
  };
}

/** Why a connection to an endpoint cannot be made now (a secret it needs has not arrived). */
export class UpstreamTlsUnavailableError extends Error {
  override name = 'UpstreamTlsUnavailableError';
  readonly code = 'ERR_WEFT_UPSTREAM_TLS_UNAVAILABLE';
}

/**
 * Options for tls.connect to an endpoint, with the secure context in force now; an error when a secret
 * it needs has not arrived. `alpn` is what this connection offers (the HTTP pools pass the protocol they
 * speak). Verification failures (chain or SAN) fail the handshake with an error.
 */
export function upstreamConnectOptions(spec: UpstreamTlsSpec, alpn: readonly string[]): ConnectionOptions | UpstreamTlsUnavailableError {
  const resolved = spec.source.resolve();
  if (typeof resolved === 'string') return new UpstreamTlsUnavailableError(`upstream TLS is not ready: ${resolved}`);
  const matchers = resolved.sanMatchers;
  return {
    secureContext: resolved.secureContext,
    ...(spec.sni !== '' ? { servername: spec.sni } : {}),
    ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}),
    rejectUnauthorized: spec.verify,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => sanMismatch(matchers, cert),
  };
}

function sanMismatch(matchers: readonly SanMatcher[], cert: PeerCertificate): Error | undefined {
  if (certificateMatches(matchers, cert)) return undefined;
  const error = new Error(`upstream certificate SANs (${cert.subjectaltname ?? 'none'}) match none of ${matchers.map(String).join(', ')}`);
  (error as NodeJS.ErrnoException).code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return error;
}
