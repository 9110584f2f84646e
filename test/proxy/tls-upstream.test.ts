// TLS from the proxy to its endpoints: clusters with an UpstreamTlsContext reach an HTTPS (HTTP/1.1)
// upstream, an HTTP/2-over-TLS upstream (ALPN h2) and a TLS TCP upstream through tcp_proxy. The
// upstreams report what they saw of each connection (SNI, ALPN, client certificate), so each test
// checks the proxy's side of the handshake; certificate checks (trusted_ca, SAN matchers) fail the
// connection, which the downstream sees as a 503 connection failure counted in upstream_cx_connect_fail.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { send } from './support/client.ts';
import { chainsListener, filterChain, tcpProxy } from './support/listener-resources.ts';
import {
  assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost,
} from './support/resources.ts';
import { makeCertificateAuthority, type TestCertificateAuthority } from './support/tls-certs.ts';
import { upstreamTls } from './support/tls-contexts.ts';
import { startTlsUpstream, whoAnswers, type TcpUpstream } from './support/tcp-upstream.ts';

type Saw = { upstream: string; servername: string | false; alpn: string | false; client: string; httpVersion: string; url: string; scheme?: string };

let ca: TestCertificateAuthority;
let otherCa: TestCertificateAuthority;
let harness: Harness;
let port: number;
const servers: { close(): void; closeAllConnections?(): void }[] = [];
let tlsTcp: TcpUpstream;
let httpsPort: number;
let h2Port: number;

/** An HTTPS/1.1 server that asks for (but does not require) a client certificate. */
async function startHttpsUpstream(options: tls.TlsOptions): Promise<number> {
  const server = https.createServer({ ...options, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as tls.TLSSocket;
    const peer = socket.getPeerCertificate();
    const saw: Saw = {
      upstream: 'https', servername: (socket as tls.TLSSocket & { servername: string | false }).servername, alpn: socket.alpnProtocol ?? false,
      client: socket.authorized ? String(peer.subject.CN) : '', httpVersion: req.httpVersion, url: req.url ?? '',
    };
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(saw));
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

/** An HTTP/2 server over TLS (ALPN h2 only). */
async function startH2TlsUpstream(options: tls.TlsOptions): Promise<number> {
  const server = http2.createSecureServer({ ...options, ALPNProtocols: ['h2'] });
  server.on('stream', (stream, headers) => {
    const socket = stream.session!.socket as tls.TLSSocket;
    const saw: Saw = {
      upstream: 'h2', servername: (socket as tls.TLSSocket & { servername: string | false }).servername, alpn: socket.alpnProtocol ?? false,
      client: '', httpVersion: '2', url: String(headers[':path']), scheme: String(headers[':scheme']),
    };
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify(saw));
  });
  server.on('session', (session) => session.on('error', () => {}));
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push({ close: () => { server.close(); } });
  return (server.address() as net.AddressInfo).port;
}

const sni = 'backend.example.com';
const http2Options = { typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } } } };
const dnsExact = (name: string) => ({ match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: name } }] });

before(async () => {
  ca = await makeCertificateAuthority();
  otherCa = await makeCertificateAuthority('Other Test CA');
  const backend = await ca.issue(sni, [`DNS:${sni}`, 'URI:spiffe://cluster.local/ns/default/sa/backend']);
  const proxyClient = await ca.issue('proxy-client', ['URI:spiffe://cluster.local/ns/default/sa/proxy'], true);
  const serverOptions = { cert: backend.cert, key: backend.key, ca: ca.caCert };
  httpsPort = await startHttpsUpstream(serverOptions);
  h2Port = await startH2TlsUpstream(serverOptions);
  tlsTcp = await startTlsUpstream('tls-tcp', { cert: backend.cert, key: backend.key });

  const clusters: Record<string, { port: number; extra: Record<string, unknown> }> = {
    'h1': { port: httpsPort, extra: { transport_socket: upstreamTls({ sni, ca: ca.caCert, validation: dnsExact(sni) }) } },
    'prefix-san': {
      port: httpsPort,
      extra: { transport_socket: upstreamTls({ sni: 'prefix.example.com', ca: ca.caCert, validation: { match_subject_alt_names: [{ prefix: 'spiffe://cluster.local/ns/default/' }] } }) },
    },
    'wrong-san': { port: httpsPort, extra: { transport_socket: upstreamTls({ sni, ca: ca.caCert, validation: dnsExact('other.example.com') }) } },
    'wrong-ca': { port: httpsPort, extra: { transport_socket: upstreamTls({ sni, ca: otherCa.caCert }) } },
    'mtls': { port: httpsPort, extra: { transport_socket: upstreamTls({ sni, ca: ca.caCert, cert: proxyClient }) } },
    'h2': { port: h2Port, extra: { ...http2Options, transport_socket: upstreamTls({ sni, ca: ca.caCert, alpn: ['h2', 'http/1.1'], validation: dnsExact(sni) }) } },
    'h2-wrong-san': { port: h2Port, extra: { ...http2Options, transport_socket: upstreamTls({ sni, ca: ca.caCert, validation: dnsExact('other.example.com') }) } },
    'tcp-tls': { port: tlsTcp.port, extra: { transport_socket: upstreamTls({ sni, ca: ca.caCert, validation: dnsExact(sni) }) } },
    'tcp-wrong-san': { port: tlsTcp.port, extra: { transport_socket: upstreamTls({ sni, ca: ca.caCert, validation: dnsExact('other.example.com') }) } },
  };
  const paths = ['h1', 'prefix-san', 'wrong-san', 'wrong-ca', 'mtls', 'h2', 'h2-wrong-san'];
  harness = new Harness({ drainTimeoutMs: 200 });
  await harness.apply({
    clusters: Object.entries(clusters).map(([name, c]) => edsCluster(name, c.extra)),
    endpoints: Object.entries(clusters).map(([name, c]) => assignment(name, [c.port])),
    listeners: [
      httpListener('http', {
        routeConfig: routeConfig('inline', [virtualHost('all', ['*'], paths.map((p) => route({ path: `/${p}` }, routeTo(p))))]),
      }),
      chainsListener('tcp-tls', [filterChain(tcpProxy('tcp-tls', 'tcp-tls'))]),
      chainsListener('tcp-wrong-san', [filterChain(tcpProxy('tcp-wrong-san', 'tcp-wrong-san'))]),
    ],
  });
  port = harness.port('http');
});

after(async () => {
  await harness?.close();
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
  await tlsTcp?.close();
  await ca?.remove();
  await otherCa?.remove();
});

async function get(path: string): Promise<{ status: number; saw: Saw | null; body: string }> {
  const reply = await send(port, path);
  return { status: reply.status, body: reply.body, saw: reply.status === 200 ? JSON.parse(reply.body) as Saw : null };
}

const connectFails = (cluster: string) => harness.metric('envoy_cluster_upstream_cx_connect_fail', { envoy_cluster_name: cluster });

describe('TLS to an HTTP/1.1 upstream', () => {
  it('originates TLS with the configured SNI and ALPN http/1.1, verifying the certificate and its DNS SAN', async () => {
    const { status, saw } = await get('/h1');
    assert.equal(status, 200);
    assert.equal(saw!.servername, sni);
    assert.equal(saw!.alpn, 'http/1.1');
    assert.equal(saw!.httpVersion, '1.1');
    assert.equal(saw!.url, '/h1');
    assert.equal(saw!.client, '', 'no client certificate unless the context has one');
  });

  it('accepts a certificate whose URI SAN has the configured prefix', async () => {
    const { status, saw } = await get('/prefix-san');
    assert.equal(status, 200);
    assert.equal(saw!.servername, 'prefix.example.com');
  });

  it('presents the context\'s client certificate', async () => {
    const { status, saw } = await get('/mtls');
    assert.equal(status, 200);
    assert.equal(saw!.client, 'proxy-client');
  });

  it('fails the connection when no SAN matches: 503 connection failure, counted', async () => {
    const { status, body } = await get('/wrong-san');
    assert.equal(status, 503);
    assert.match(body, /connection failure/);
    assert.equal(await connectFails('wrong-san'), 1);
  });

  it('fails the connection when the certificate is not signed by trusted_ca', async () => {
    const { status, body } = await get('/wrong-ca');
    assert.equal(status, 503);
    assert.match(body, /connection failure/);
    assert.equal(await connectFails('wrong-ca'), 1);
  });
});

describe('TLS to an HTTP/2 upstream', () => {
  it('negotiates h2 by ALPN with the configured SNI and sends the request over HTTP/2', async () => {
    const { status, saw } = await get('/h2');
    assert.equal(status, 200);
    assert.equal(saw!.alpn, 'h2');
    assert.equal(saw!.servername, sni);
    assert.equal(saw!.httpVersion, '2');
    assert.equal(saw!.url, '/h2');
    assert.equal(saw!.scheme, 'https', 'a request over TLS carries :scheme https');
  });

  it('fails the connection when no SAN matches', async () => {
    const { status, body } = await get('/h2-wrong-san');
    assert.equal(status, 503);
    assert.match(body, /connection failure/);
    assert.equal(await connectFails('h2-wrong-san'), 1);
  });
});

describe('tcp_proxy with TLS to the endpoint', () => {
  it('wraps the connection in TLS to a TLS-only TCP upstream', async () => {
    assert.equal(await whoAnswers(harness.port('tcp-tls')), 'tls-tcp');
  });

  it('closes the downstream connection when the endpoint\'s certificate fails the SAN check', async () => {
    assert.equal(await whoAnswers(harness.port('tcp-wrong-san')), null);
    assert.equal(await connectFails('tcp-wrong-san'), 1);
  });
});
