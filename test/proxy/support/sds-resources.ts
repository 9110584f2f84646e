// SDS as the control plane sends it (Istio's shapes): Secret resources `default` (the workload's
// certificate and key) and `ROOTCA` (the trust bundle), and TLS contexts on filter chains and clusters
// that refer to them over ADS instead of carrying PEM inline.
import type { TestCertificate } from './tls-certs.ts';

type Obj = Record<string, unknown>;

const prefix = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';

export const sdsOverAds = { ads: {}, resource_api_version: 'V3' };

export function sdsRef(name: string): Obj {
  return { name, sds_config: sdsOverAds };
}

/** A tls_certificate secret; `bytes`: PEM as inline_bytes (as a protobuf decoder hands them over), else inline_string. */
export function certificateSecret(name: string, cert: TestCertificate, bytes = false): Obj {
  const data = (b: Buffer) => (bytes ? { inline_bytes: b } : { inline_string: b.toString('utf8') });
  return { name, tls_certificate: { certificate_chain: data(cert.cert), private_key: data(cert.key) } };
}

/** A validation_context secret holding these roots concatenated (a root rotation holds two). */
export function rootSecret(name: string, roots: Buffer[], bytes = false): Obj {
  const pem = Buffer.concat(roots.map((r) => Buffer.concat([r, Buffer.from('\n')])));
  return { name, validation_context: { trusted_ca: bytes ? { inline_bytes: pem } : { inline_string: pem.toString('utf8') } } };
}

export function uriSans(...uris: string[]): Obj[] {
  return uris.map((uri) => ({ san_type: 'URI', matcher: { exact: uri } }));
}

export type SdsContextOptions = {
  sans?: Obj[];
  alpn?: string[];
  /** The validation secret alone (validation_context_sds_secret_config) instead of combined_validation_context. */
  plainValidation?: boolean;
  certificate?: string;
  roots?: string;
};

function commonTlsContext(options: SdsContextOptions): Obj {
  const roots = sdsRef(options.roots ?? 'ROOTCA');
  return {
    tls_certificate_sds_secret_configs: [sdsRef(options.certificate ?? 'default')],
    ...(options.plainValidation
      ? { validation_context_sds_secret_config: roots }
      : { combined_validation_context: { default_validation_context: { match_typed_subject_alt_names: options.sans ?? [] }, validation_context_sds_secret_config: roots } }),
    ...(options.alpn ? { alpn_protocols: options.alpn } : {}),
  };
}

/** A filter chain's transport_socket as Istio's inbound: mTLS, client certificate required. */
export function sdsDownstreamTls(options: SdsContextOptions = {}): Obj {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': `${prefix}DownstreamTlsContext`,
      common_tls_context: commonTlsContext({ alpn: ['h2', 'http/1.1'], ...options }),
      require_client_certificate: { value: true },
    },
  };
}

/** An UpstreamTlsContext typed config as Istio's outbound mTLS. */
export function sdsUpstreamTlsContext(options: SdsContextOptions & { sni?: string } = {}): Obj {
  return {
    '@type': `${prefix}UpstreamTlsContext`,
    common_tls_context: commonTlsContext(options),
    ...(options.sni !== undefined ? { sni: options.sni } : {}),
  };
}

export function sdsUpstreamTls(options: SdsContextOptions & { sni?: string } = {}): Obj {
  return { name: 'envoy.transport_sockets.tls', typed_config: sdsUpstreamTlsContext(options) };
}

/** Istio's auto mTLS: TLS to endpoints labelled tlsMode=istio, plaintext to the others. */
export function istioTransportSocketMatches(upstreamTlsContext: Obj): Obj[] {
  return [
    { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: upstreamTlsContext } },
    {
      name: 'tlsMode-disabled', match: {},
      transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } },
    },
  ];
}

/** An LbEndpoint's metadata marking it as running a sidecar (Istio's tlsMode label). */
export const istioEndpointMetadata: Obj = { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } };
