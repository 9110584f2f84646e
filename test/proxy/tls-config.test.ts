// TLS contexts the proxy accepts or rejects: every field it cannot honour (SDS references, OCSP,
// session ticket keys, custom handshakers, private key providers, CRLs, the SPIFFE validator, …)
// rejects the resource, naming it and the field, and the proxy keeps its last good config. Accepted
// forms: PEM inline as string or bytes, or from a file; raw_buffer as plaintext; protocol versions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain, tcpProxy } from './support/listener-resources.ts';
import { assignment, edsCluster } from './support/resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from './support/tls-certs.ts';
import { downstreamTls, upstreamTls, type TlsContextOptions } from './support/tls-contexts.ts';
import { startTcpUpstream, type TcpUpstream } from './support/tcp-upstream.ts';

let ca: TestCertificateAuthority;
let serverCert: TestCertificate;
let upstream: TcpUpstream;
const harness = new Harness({ drainTimeoutMs: 200 });

before(async () => {
  ca = await makeCertificateAuthority();
  serverCert = await ca.issue('web.example.com', ['DNS:web.example.com']);
  upstream = await startTcpUpstream('plain');
  await harness.apply({ clusters: [edsCluster('plain')], endpoints: [assignment('plain', [upstream.port])] });
});

after(async () => {
  await harness.close();
  await upstream?.close();
  await ca?.remove();
});

function rejected(message: RegExp) {
  return (err: unknown) => err instanceof ConfigRejectedError && message.test(err.message);
}

const tlsListener = (transportSocket: object, extra: object = {}) =>
  [chainsListener('tls', [{ ...filterChain(tcpProxy('tls', 'plain')), transport_socket: transportSocket, ...extra }])];

/** A TLS client's greeting line from the listener (the plaintext upstream's name) and the negotiated version. */
function greet(options: tls.ConnectionOptions = {}): Promise<{ line: string; version: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: harness.port('tls'), servername: 'web.example.com', ca: ca.caCert, ...options });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      data += c;
      if (!data.includes('\n')) return;
      resolve({ line: data.split('\n')[0], version: socket.getProtocol() });
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('accepted TLS contexts', () => {
  it('reads the certificate and key from files', async () => {
    const certFile = join(ca.dir, 'listener.crt');
    const keyFile = join(ca.dir, 'listener.key');
    await writeFile(certFile, serverCert.cert);
    await writeFile(keyFile, serverCert.key);
    await harness.dataPlane.updateListeners(tlsListener({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        common_tls_context: { tls_certificates: [{ certificate_chain: { filename: certFile }, private_key: { filename: keyFile } }] },
      },
    }));
    assert.equal((await greet()).line, 'plain');
  });

  it('honours tls_params protocol versions', async () => {
    await harness.dataPlane.updateListeners(tlsListener(downstreamTls({
      cert: serverCert, common: { tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_2' } },
    })));
    assert.deepEqual(await greet(), { line: 'plain', version: 'TLSv1.2' });
    await assert.rejects(greet({ minVersion: 'TLSv1.3' }));
  });

  it('treats a raw_buffer transport socket as plaintext', async () => {
    assert.doesNotThrow(() => harness.dataPlane.updateClusters([edsCluster('plain', {
      transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } },
    })]));
  });
});

describe('rejected downstream TLS contexts', () => {
  // Built when the test runs (the certificate is made in before()).
  const ctx = (options: TlsContextOptions) => () => downstreamTls({ cert: serverCert, ...options });
  const cases: [string, () => object, RegExp, object?][] = [
    ['a static certificate secret (SDS reference without sds_config)', ctx({ common: { tls_certificate_sds_secret_configs: [{ name: 'default' }] } }),
      /^Listener tls: filter_chains\[0\]\.transport_socket\.typed_config\.common_tls_context\.tls_certificate_sds_secret_configs\[0\]\.sds_config is required: static secrets are not supported/],
    ['a static validation context secret', ctx({ common: { validation_context_sds_secret_config: { name: 'ca' } } }),
      /common_tls_context\.validation_context_sds_secret_config\.sds_config is required/],
    ['session ticket keys', ctx({ extra: { session_ticket_keys: { keys: [{ inline_bytes: Buffer.alloc(80) }] } } }), /typed_config\.session_ticket_keys is not supported/],
    ['an OCSP staple', ctx({ common: { tls_certificates: [{ certificate_chain: { inline_string: 'x' }, private_key: { inline_string: 'y' }, ocsp_staple: { inline_string: 'z' } }] } }),
      /tls_certificates\[0\]\.ocsp_staple is not supported/],
    ['a private key provider', ctx({ common: { tls_certificates: [{ certificate_chain: { inline_string: 'x' }, private_key_provider: { provider_name: 'cryptomb' } }] } }),
      /tls_certificates\[0\]\.private_key_provider is not supported/],
    ['a custom handshaker', ctx({ common: { custom_handshaker: { name: 'h' } } }), /common_tls_context\.custom_handshaker is not supported/],
    ['a CRL', ctx({ ca: Buffer.from('x'), validation: { crl: { inline_string: 'crl' } } }), /validation_context\.crl is not supported/],
    ['the SPIFFE certificate validator', ctx({ validation: { custom_validator_config: { name: 'envoy.tls.cert_validator.spiffe' } } }),
      /validation_context\.custom_validator_config is not supported/],
    ['required client certificates without a trusted CA', ctx({ extra: { require_client_certificate: { value: true } } }),
      /typed_config\.require_client_certificate needs common_tls_context\.validation_context\.trusted_ca/],
    ['a chain without a certificate', () => downstreamTls({}), /common_tls_context\.tls_certificates is empty/],
    ['a key that is not a key', () => downstreamTls({ cert: { cert: Buffer.from('not a certificate'), key: Buffer.from('not a key') } }), /common_tls_context cannot be loaded/],
    ['cipher suites', ctx({ common: { tls_params: { cipher_suites: ['ECDHE-ECDSA-AES128-GCM-SHA256'] } } }), /tls_params\.cipher_suites is not supported/],
    ['an upstream context on a filter chain', () => upstreamTls({}), /transport_socket\.typed_config type\.googleapis\.com\/envoy\.extensions\.transport_sockets\.tls\.v3\.UpstreamTlsContext is not supported here/],
    ['a handshake timeout without TLS', () => ({ name: 'envoy.transport_sockets.raw_buffer' }), /transport_socket_connect_timeout applies only with a TLS transport_socket/,
      { transport_socket_connect_timeout: { seconds: '5' } }],
  ];
  for (const [what, socket, message, extra] of cases) {
    it(`rejects ${what}`, async () => {
      await assert.rejects(harness.dataPlane.updateListeners(tlsListener(socket(), extra)), rejected(message));
    });
  }

  it('keeps serving TLS with the last accepted listener', async () => {
    assert.equal((await greet()).line, 'plain');
  });
});

describe('rejected upstream TLS contexts', () => {
  const cases: [string, object, RegExp][] = [
    ['a static client certificate secret', upstreamTls({ common: { tls_certificate_sds_secret_configs: [{ name: 'default' }] } }),
      /^Cluster plain: transport_socket\.typed_config\.common_tls_context\.tls_certificate_sds_secret_configs\[0\]\.sds_config is required: static secrets are not supported/],
    ['a combined validation context without its SDS part', upstreamTls({ common: { combined_validation_context: { default_validation_context: {} } } }),
      /common_tls_context\.combined_validation_context\.validation_context_sds_secret_config is required/],
    ['SAN matching without a trusted CA', upstreamTls({ validation: { match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'a' } }] } }),
      /validation_context matches subject alt names without trusted_ca/],
    ['a regex SAN matcher', upstreamTls({ ca: Buffer.from('x'), validation: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { safe_regex: { regex: '.*' } } }] } }),
      /match_typed_subject_alt_names\[0\]\.matcher\.safe_regex is not supported/],
    ['an OTHER_NAME SAN matcher', upstreamTls({ ca: Buffer.from('x'), validation: { match_typed_subject_alt_names: [{ san_type: 'OTHER_NAME', matcher: { exact: 'a' } }] } }),
      /match_typed_subject_alt_names\[0\]\.san_type OTHER_NAME is not supported/],
    ['renegotiation', upstreamTls({ extra: { allow_renegotiation: true } }), /typed_config\.allow_renegotiation is not supported/],
    ['automatic SNI', upstreamTls({ extra: { auto_host_sni: true } }), /typed_config\.auto_host_sni is not supported/],
    ['a certificate file that does not exist', upstreamTls({ common: { validation_context: { trusted_ca: { filename: '/nonexistent/ca.pem' } } } }),
      /validation_context\.trusted_ca\.filename "\/nonexistent\/ca\.pem" cannot be read: ENOENT/],
    ['a downstream context on a cluster', downstreamTls({ cert: { cert: Buffer.from('x'), key: Buffer.from('y') } }),
      /transport_socket\.typed_config type\.googleapis\.com\/envoy\.extensions\.transport_sockets\.tls\.v3\.DownstreamTlsContext is not supported here/],
  ];
  for (const [what, socket, message] of cases) {
    it(`rejects ${what}`, () => {
      assert.throws(() => harness.dataPlane.updateClusters([edsCluster('plain', { transport_socket: socket })]), rejected(message));
    });
  }
});
