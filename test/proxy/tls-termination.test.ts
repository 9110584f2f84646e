// TLS termination on listeners: filter chains with a DownstreamTlsContext, reached by real TLS clients.
// ALPN decides the codec of the HTTP connection manager (h2 → HTTP/2, http/1.1 → HTTP/1.1) in front of
// a plaintext HTTP/1.1 upstream; client certificates are verified against the chain's trusted_ca when
// required; tcp_proxy receives the decrypted bytes; tls_inspector still chooses the chain by SNI
// before the chosen chain terminates TLS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain, tcpProxy, tlsInspector } from './support/listener-resources.ts';
import {
  assignment, edsCluster, httpConnectionManager, route, routeConfig, routeTo, virtualHost,
} from './support/resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from './support/tls-certs.ts';
import { downstreamTls } from './support/tls-contexts.ts';
import { startTcpUpstream, type TcpUpstream } from './support/tcp-upstream.ts';
import { startUpstream, type Seen, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

let ca: TestCertificateAuthority;
let otherCa: TestCertificateAuthority;
let serverCert: TestCertificate;
let mtlsCert: TestCertificate;
let optionalCert: TestCertificate;
let clientCert: TestCertificate;
let strangerCert: TestCertificate;
let upstream: Upstream;
let tcpUpstream: TcpUpstream;
let harness: Harness;

const hcm = () => httpConnectionManager({
  statPrefix: 'ingress',
  routeConfig: routeConfig('inline', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('web'))])]),
});

before(async () => {
  ca = await makeCertificateAuthority();
  otherCa = await makeCertificateAuthority('Other Test CA');
  serverCert = await ca.issue('web.example.com', ['DNS:web.example.com']);
  mtlsCert = await ca.issue('mtls.example.com', ['DNS:mtls.example.com']);
  optionalCert = await ca.issue('optional.example.com', ['DNS:optional.example.com']);
  clientCert = await ca.issue('client', ['URI:spiffe://cluster.local/ns/default/sa/client'], true);
  strangerCert = await otherCa.issue('stranger', ['URI:spiffe://cluster.local/ns/default/sa/client'], true);
  upstream = await startUpstream('web');
  tcpUpstream = await startTcpUpstream('tcp-plain');
  harness = new Harness({ drainTimeoutMs: 200 });
  await harness.apply({
    clusters: [edsCluster('web'), edsCluster('tcp-plain')],
    endpoints: [assignment('web', [upstream.port]), assignment('tcp-plain', [tcpUpstream.port])],
    listeners: [
      chainsListener('https', [{ ...filterChain(hcm()), transport_socket: downstreamTls({ cert: serverCert, alpn: ['h2', 'http/1.1'] }) }]),
      chainsListener('sni', [
        {
          ...filterChain(hcm(), { server_names: ['web.example.com'], transport_protocol: 'tls' }, 'web'),
          transport_socket: downstreamTls({ cert: serverCert, alpn: ['h2', 'http/1.1'] }),
        },
        {
          ...filterChain(hcm(), { server_names: ['mtls.example.com'], transport_protocol: 'tls' }, 'mtls'),
          transport_socket: downstreamTls({
            cert: mtlsCert, alpn: ['http/1.1'], ca: ca.caCert,
            validation: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/ns/default/' } }] },
            extra: { require_client_certificate: { value: true } },
          }),
        },
        {
          ...filterChain(hcm(), { server_names: ['optional.example.com'], transport_protocol: 'tls' }, 'optional'),
          transport_socket: downstreamTls({ cert: optionalCert, ca: ca.caCert }),
        },
      ], { listenerFilters: [tlsInspector] }),
      chainsListener('tcp-tls', [{ ...filterChain(tcpProxy('tcp-tls', 'tcp-plain')), transport_socket: downstreamTls({ cert: serverCert }) }]),
    ],
  });
});

after(async () => {
  await harness?.close();
  await upstream?.close();
  await tcpUpstream?.close();
  await ca?.remove();
  await otherCa?.remove();
});

type Answer = { status: number; seen: Seen; alpn: string | false | null; httpVersion: string };

/** An HTTPS/1.1 request through the proxy, verifying its certificate for `servername`. */
function httpsGet(port: number, servername: string, options: https.RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path: '/over-tls', servername, ca: ca.caCert, agent: false,
      headers: { host: servername }, ...options,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({
        status: res.statusCode!, seen: JSON.parse(body) as Seen, alpn: (res.socket as tls.TLSSocket).alpnProtocol ?? null, httpVersion: res.httpVersion,
      }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/2-over-TLS request through the proxy (ALPN h2 offered). */
async function h2Get(port: number, servername: string): Promise<{ status: number; seen: Seen; alpn: string | undefined }> {
  const session = http2.connect(`https://${servername}:${port}`, {
    ca: ca.caCert, servername, createConnection: () => tls.connect({ host: '127.0.0.1', port, servername, ca: ca.caCert, ALPNProtocols: ['h2'] }),
  });
  try {
    session.on('error', () => {});
    const stream = session.request({ ':path': '/over-h2', ':authority': servername });
    const [headers] = await once(stream, 'response') as [http2.IncomingHttpHeaders];
    let body = '';
    stream.setEncoding('utf8');
    for await (const chunk of stream) body += chunk as string;
    return { status: Number(headers[':status']), seen: JSON.parse(body) as Seen, alpn: session.alpnProtocol };
  } finally {
    session.close();
  }
}

/** A raw TLS handshake: resolves with the negotiated ALPN, rejects with the handshake's failure. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.caCert, ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Whether the proxy refuses this client: its handshake fails, or (TLS 1.3 clients learn of a refused
 * certificate only after their side of the handshake) the connection closes instead of answering.
 */
async function refuses(port: number, options: tls.ConnectionOptions, request: string): Promise<boolean> {
  let socket: tls.TLSSocket;
  try {
    socket = await handshake(port, options);
  } catch {
    return true;
  }
  return closedBeforeAnswer(socket, request);
}

/** After a handshake: whether the server closes the connection instead of answering a request. */
function closedBeforeAnswer(socket: tls.TLSSocket, request: string): Promise<boolean> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    socket.on('error', () => {});
    socket.once('close', () => resolve(!data.startsWith('HTTP/1.1 200')));
    socket.write(request);
  });
}

describe('TLS termination with ALPN', () => {
  it('negotiates h2 with a client offering h2 and serves it over HTTP/2 to an HTTP/1.1 upstream', async () => {
    const before = upstream.count;
    const answer = await h2Get(harness.port('https'), 'web.example.com');
    assert.equal(answer.alpn, 'h2');
    assert.equal(answer.status, 200);
    assert.equal(answer.seen.url, '/over-h2');
    assert.equal(answer.seen.upstream, 'web');
    assert.equal(answer.seen.headers['x-forwarded-proto'], 'https', 'the request arrived over TLS');
    assert.equal(upstream.count, before + 1);
  });

  it('negotiates http/1.1 with a client offering only http/1.1 and serves HTTP/1.1', async () => {
    const answer = await httpsGet(harness.port('https'), 'web.example.com', { ALPNProtocols: ['http/1.1'] } as https.RequestOptions);
    assert.equal(answer.alpn, 'http/1.1');
    assert.equal(answer.httpVersion, '1.1');
    assert.equal(answer.status, 200);
    assert.equal(answer.seen.url, '/over-tls');
  });

  it('presents the chain\'s certificate, which the client verifies against the CA', async () => {
    const socket = await handshake(harness.port('https'), { servername: 'web.example.com', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerCertificate().subject.CN, 'web.example.com');
    assert.equal(socket.alpnProtocol, 'h2', 'the chain\'s preference (h2 first) picks h2');
    socket.destroy();
  });

  it('closes a plaintext connection sent to a TLS filter chain', async () => {
    const socket = net.connect(harness.port('https'), '127.0.0.1');
    let data = '';
    socket.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nhost: web\r\n\r\n');
    await once(socket, 'close');
    assert.ok(!data.startsWith('HTTP/1.1 200'), 'plaintext HTTP must not be answered');
  });
});

describe('TLS termination after tls_inspector chose the chain by SNI', () => {
  it('terminates TLS on the chain its SNI selects', async () => {
    const answer = await httpsGet(harness.port('sni'), 'web.example.com');
    assert.equal(answer.status, 200);
    assert.equal(answer.seen.url, '/over-tls');
  });
});

describe('client certificates', () => {
  const get = 'GET /mtls HTTP/1.1\r\nhost: mtls.example.com\r\nconnection: close\r\n\r\n';

  it('accepts a client certificate signed by the trusted CA with a matching SAN', async () => {
    const answer = await httpsGet(harness.port('sni'), 'mtls.example.com', { cert: clientCert.cert, key: clientCert.key });
    assert.equal(answer.status, 200);
    assert.equal(answer.seen.url, '/over-tls');
  });

  it('fails the handshake of a client without a certificate', async () => {
    assert.equal(await refuses(harness.port('sni'), { servername: 'mtls.example.com' }, get), true);
  });

  it('fails the handshake of a client whose certificate another CA signed', async () => {
    assert.equal(await refuses(harness.port('sni'), { servername: 'mtls.example.com', cert: strangerCert.cert, key: strangerCert.key }, get), true);
  });

  it('refuses a certificate of the trusted CA whose SANs do not match', async () => {
    const other = await ca.issue('other', ['URI:spiffe://cluster.local/ns/other/sa/x'], true);
    assert.equal(await refuses(harness.port('sni'), { servername: 'mtls.example.com', cert: other.cert, key: other.key }, get), true);
  });
});

describe('optional client certificates (trusted_ca without require_client_certificate)', () => {
  const get = 'GET /optional HTTP/1.1\r\nhost: optional.example.com\r\nconnection: close\r\n\r\n';

  it('serves a client without a certificate', async () => {
    const answer = await httpsGet(harness.port('sni'), 'optional.example.com');
    assert.equal(answer.status, 200);
  });

  it('serves a client whose certificate the trusted CA signed', async () => {
    const answer = await httpsGet(harness.port('sni'), 'optional.example.com', { cert: clientCert.cert, key: clientCert.key });
    assert.equal(answer.status, 200);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    assert.equal(await refuses(harness.port('sni'), { servername: 'optional.example.com', cert: strangerCert.cert, key: strangerCert.key }, get), true);
  });
});

describe('tcp_proxy behind TLS termination', () => {
  it('pipes the decrypted bytes to a plaintext TCP upstream', async () => {
    const socket = await handshake(harness.port('tcp-tls'), { servername: 'web.example.com' });
    socket.setEncoding('utf8');
    let data = '';
    for await (const chunk of socket) {
      data += chunk as string;
      if (data.includes('\n')) break;
    }
    assert.equal(data.split('\n')[0], 'tcp-plain', 'the plaintext upstream\'s greeting arrives over TLS');
    socket.destroy();
  });

  it('counts a TLS connection as closed once the client leaves (listener and tcp_proxy)', async () => {
    const address = `127.0.0.1_${harness.port('tcp-tls')}`;
    const socket = await handshake(harness.port('tcp-tls'), { servername: 'web.example.com' });
    await waitFor('the connection to be active', () => harness.metric('envoy_listener_downstream_cx_active', { envoy_listener_address: address }), (v) => v === 1);
    socket.destroy();
    await waitFor('no active connection', () => harness.metric('envoy_listener_downstream_cx_active', { envoy_listener_address: address }), (v) => v === 0);
  });
});
