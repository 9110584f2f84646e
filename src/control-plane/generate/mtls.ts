// Mutual TLS between sidecars, as Istio configures Envoy: certificates come over SDS on the same ADS
// stream (`default`: the workload's certificate and key; `ROOTCA`: the mesh's trust bundle), clients
// verify the server's SPIFFE identity, servers require and verify a client certificate.
//
// Auto mTLS: a cluster whose DestinationRule says nothing about TLS carries two transport socket
// matches: endpoints labelled tlsMode=istio in EDS metadata (a sidecar that accepts mTLS serves them)
// get ISTIO_MUTUAL, the others plaintext.
import { toStruct } from '../../xds/struct.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import type { Endpoint } from '../registry/model.ts';

export const workloadCertificateSecret = 'default';
export const rootCaSecret = 'ROOTCA';
export const tlsModeMetadataKey = 'envoy.transport_socket_match';

const sdsConfig = { ads: {}, resource_api_version: 'V3' };
const rawBufferSocket = {
  name: 'envoy.transport_sockets.raw_buffer',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' },
};

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The SPIFFE identities of the workloads behind some endpoints (sorted, unique). */
export function endpointIdentities(trustDomain: string, endpoints: readonly Endpoint[]): string[] {
  const ids = new Set<string>();
  for (const e of endpoints) {
    if (e.tlsMode === 'istio' && e.serviceAccount !== '' && e.namespace !== undefined) ids.add(spiffeId(trustDomain, e.namespace, e.serviceAccount));
  }
  return [...ids].sort();
}

/**
 * common_tls_context with the mesh certificate and trust bundle from SDS, and URI SAN checks: exact
 * identities, or (with none) any identity of these trust domains.
 */
export function meshCommonTlsContext(peerIdentities: readonly string[], alpn: readonly string[], peerTrustDomains: readonly string[] = []): Record<string, unknown> {
  const validation: Record<string, unknown> = {};
  if (peerIdentities.length > 0) {
    validation.match_typed_subject_alt_names = peerIdentities.map((id) => ({ san_type: 'URI', matcher: { exact: id } }));
  } else if (peerTrustDomains.length > 0) {
    validation.match_typed_subject_alt_names = peerTrustDomains.map((td) => ({ san_type: 'URI', matcher: { prefix: `spiffe://${td}/` } }));
  }
  return {
    tls_certificate_sds_secret_configs: [{ name: workloadCertificateSecret, sds_config: sdsConfig }],
    combined_validation_context: {
      default_validation_context: validation,
      validation_context_sds_secret_config: { name: rootCaSecret, sds_config: sdsConfig },
    },
    ...(alpn.length > 0 ? { alpn_protocols: [...alpn] } : {}),
  };
}

/** Istio's SNI for mesh traffic to a cluster: `outbound_.<port>_.<subset>_.<host>`. */
export function meshSni(port: number, subset: string, hostname: string): string {
  return `outbound_.${port}_.${subset}_.${hostname}`;
}

/** ALPN of Istio's TCP metadata exchange between two sidecars (the proxy's tcp/peer-exchange.ts). */
export const peerExchangeAlpn = 'istio-peer-exchange';

/**
 * ISTIO_MUTUAL to a cluster's endpoints. `identities` are the endpoints' (or the DestinationRule's
 * subjectAltNames). ALPN: the HTTP protocol the cluster speaks, or for opaque TCP the metadata exchange.
 */
export function istioMutualTransportSocket(options: { sni: string; identities: readonly string[]; h2: boolean; tcp?: boolean }): Record<string, unknown> {
  const alpn = options.tcp ? [peerExchangeAlpn] : options.h2 ? ['h2'] : ['http/1.1'];
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': TypeUrl.UpstreamTlsContext,
      common_tls_context: meshCommonTlsContext(options.identities, alpn),
      sni: options.sni,
    },
  };
}

/** Auto mTLS: ISTIO_MUTUAL for endpoints with a sidecar, plaintext for the rest. */
export function autoMtlsTransportSocketMatches(mutual: Record<string, unknown>): Record<string, unknown>[] {
  return [
    { name: 'tlsMode-istio', match: toStruct({ tlsMode: 'istio' }), transport_socket: mutual },
    { name: 'tlsMode-disabled', match: toStruct({}), transport_socket: rawBufferSocket },
  ];
}

/** The EDS metadata that makes an endpoint take the tlsMode-istio transport socket (Structs, as on the wire). */
export const istioTlsModeMetadata = { filter_metadata: { [tlsModeMetadataKey]: toStruct({ tlsMode: 'istio' }) } };

/**
 * The inbound side: terminate mTLS with the workload's certificate, require a client certificate
 * signed by the mesh's roots and naming an identity of the mesh's trust domains (a plugged-in
 * organisation CA may sign other certificates too). ALPN offers HTTP/2 and HTTP/1.1 on HTTP ports so
 * the connection keeps the application protocol the client chose.
 */
export function inboundMtlsTransportSocket(http: boolean, trustDomains: readonly string[] = []): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': TypeUrl.DownstreamTlsContext,
      common_tls_context: meshCommonTlsContext([], http ? ['h2', 'http/1.1'] : [peerExchangeAlpn], trustDomains),
      require_client_certificate: { value: true },
    },
  };
}
