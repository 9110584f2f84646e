// Envoy TLS transport sockets as hand-written resources (DownstreamTlsContext on filter chains,
// UpstreamTlsContext on clusters), PEM given inline as the xDS client would hand it over.
type Obj = Record<string, unknown>;

const prefix = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';

export type TlsContextOptions = {
  cert?: { cert: Buffer; key: Buffer };
  alpn?: string[];
  ca?: Buffer;
  validation?: Obj;
  extra?: Obj;
  common?: Obj;
};

function common(options: TlsContextOptions): Obj {
  return {
    ...(options.cert ? {
      tls_certificates: [{
        certificate_chain: { inline_string: options.cert.cert.toString('utf8') },
        private_key: { inline_bytes: options.cert.key },
      }],
    } : {}),
    ...(options.alpn ? { alpn_protocols: options.alpn } : {}),
    ...(options.ca || options.validation ? {
      validation_context: { ...(options.ca ? { trusted_ca: { inline_string: options.ca.toString('utf8') } } : {}), ...options.validation },
    } : {}),
    ...options.common,
  };
}

export function downstreamTls(options: TlsContextOptions): Obj {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: { '@type': `${prefix}DownstreamTlsContext`, common_tls_context: common(options), ...options.extra },
  };
}

export function upstreamTls(options: TlsContextOptions & { sni?: string }): Obj {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': `${prefix}UpstreamTlsContext`, common_tls_context: common(options),
      ...(options.sni !== undefined ? { sni: options.sni } : {}), ...options.extra,
    },
  };
}
