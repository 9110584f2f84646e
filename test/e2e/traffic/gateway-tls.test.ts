// A gateway terminating TLS (`gateway-tls.yaml`) on live traffic: HTTPS servers with certificate files
// told apart by SNI on one port, one of them requiring a client certificate (MUTUAL); a TLS server whose
// plaintext goes to a TCP service; plain HTTP redirected to https; an ISTIO_MUTUAL server that mesh
// workloads reach with their own certificates. The certificates come from a test CA
// made at run time, written to a temporary directory named in the Gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from '../../proxy/support/tls-certs.ts';
import { Scenario, httpCall, type Client, type Reply } from './scenario.ts';

let s: Scenario;
let ca: TestCertificateAuthority;
let client: TestCertificate;
let intruder: TestCertificate;
let otherCa: TestCertificateAuthority;
let stranger: TestCertificate;
let httpPort: number;
let httpsPort: number;
let tlsPort: number;
let meshPort: number;
let meshClient: Client;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One HTTPS request to the gateway with `servername` as SNI and Host, trusting the test CA. */
function httpsCall(port: number, servername: string, path: string, identity?: TestCertificate): Promise<Reply & { peer: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path, servername, headers: { host: servername }, ca: ca.caCert, agent: false,
      ...(identity ? { cert: identity.cert, key: identity.key } : {}),
    }, (res) => {
      const socket = res.socket as tls.TLSSocket;
      const peer = socket.getPeerCertificate().subject.CN as string;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        let json: unknown;
        try { json = JSON.parse(body); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json, peer });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A TLS connection to the gateway that accepts whatever certificate it presents (so only the gateway
 * can refuse it) and sends one HTTP request; resolves with the certificate's common name once an answer
 * comes back.
 */
function handshake(port: number, servername: string, identity?: TestCertificate): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...(identity ? { cert: identity.cert, key: identity.key } : {}),
    }, () => {
      const peer = socket.getPeerCertificate().subject.CN as string;
      // With TLS 1.3 the server judges the client's certificate after the client finished: only an
      // answer to a request shows the connection was accepted.
      socket.once('data', () => { socket.destroy(); resolve(peer); });
      socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed by the gateway')));
  });
}

/** A TLS connection to the TLS server: the first line the TCP service sends, then an echo of `ping`. */
function tlsEcho(servername: string): Promise<{ peer: string; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, servername, ca: ca.caCert }, () => {
      const peer = socket.getPeerCertificate().subject.CN as string;
      let text = '';
      socket.setEncoding('utf8');
      socket.write('ping\n');
      socket.on('data', (d: string) => {
        text += d;
        const lines = text.split('\n');
        if (lines.length >= 3) {
          socket.end();
          resolve({ peer, lines: lines.slice(0, 2) });
        }
      });
      socket.on('end', () => reject(new Error(`connection ended after ${JSON.stringify(text)}`)));
    });
    socket.on('error', reject);
  });
}

before(async () => {
  ca = await makeCertificateAuthority();
  const files: Record<string, TestCertificate> = {};
  for (const name of ['web', 'api', 'tcp']) files[name] = await ca.issue(`${name}.example.com`, [`DNS:${name}.example.com`]);
  for (const [name, c] of Object.entries(files)) {
    await writeFile(join(ca.dir, `${name}.pem`), c.cert);
    await writeFile(join(ca.dir, `${name}-key.pem`), c.key);
  }
  await writeFile(join(ca.dir, 'ca.pem'), ca.caCert);
  client = await ca.issue('client', ['DNS:client.example.com'], true);
  intruder = await ca.issue('intruder', ['DNS:intruder.example.com'], true);
  otherCa = await makeCertificateAuthority('Another CA');
  stranger = await otherCa.issue('stranger', ['DNS:client.example.com'], true);
  [httpPort, httpsPort, tlsPort, meshPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  await s.workload({ service: 'web' });
  await s.workload({ service: 'echo-tcp', mode: 'tcp' });
  await s.mesh.apply(Scenario.yaml('gateway-tls.yaml')
    .replaceAll('HTTPS_PORT', String(httpsPort)).replaceAll('HTTP_PORT', String(httpPort))
    .replaceAll('TLS_PORT', String(tlsPort)).replaceAll('MESH_PORT', String(meshPort)).replaceAll('CERT_DIR', ca.dir));
  await s.mesh.startProxy({ name: 'tls-ingressgateway', labels: { istio: 'tls-ingressgateway' }, outbound: false, extraArgs: ['--gateway'] });
  meshClient = await s.client();
});
after(async () => {
  await s?.stop();
  await ca?.remove();
  await otherCa?.remove();
  assertNoLeakedProcesses();
});

test('an HTTPS gateway server terminates TLS with its certificate files and routes to the bound VirtualService', async () => {
  const r = await waitFor('the HTTPS server', async () => {
    const reply = await httpsCall(httpsPort, 'web.example.com', '/items').catch(() => undefined);
    return reply?.status === 200 ? reply : false;
  }, 15_000);
  assert.equal(r.peer, 'web.example.com', 'the gateway presents the server certificate of the Gateway');
  assert.equal(r.headers['x-served-by'], 'web-v1');
  assert.equal(r.json.path, '/items');
});

test('an HTTPS gateway server offers HTTP/2 and HTTP/1.1 by ALPN', async () => {
  await waitFor('the HTTPS server', () => httpsCall(httpsPort, 'web.example.com', '/').then((r) => r.status === 200, () => false), 15_000);
  const negotiated = await new Promise<string | false | null>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'web.example.com', ca: ca.caCert, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      resolve(socket.alpnProtocol);
      socket.end();
    });
    socket.on('error', reject);
  });
  assert.equal(negotiated, 'h2');
});

test('a TLS connection whose SNI no gateway server names is refused', async () => {
  await waitFor('the HTTPS server', () => httpsCall(httpsPort, 'web.example.com', '/').then((r) => r.status === 200, () => false), 15_000);
  assert.equal(await handshake(httpsPort, 'web.example.com'), 'web.example.com');
  await assert.rejects(handshake(httpsPort, 'other.example.com'), 'an SNI no server names');
});

test('a MUTUAL gateway server refuses clients without an accepted certificate and serves those with one', async () => {
  const r = await waitFor('the MUTUAL server', async () => {
    const reply = await httpsCall(httpsPort, 'api.example.com', '/api', client).catch(() => undefined);
    return reply?.status === 200 ? reply : false;
  }, 15_000);
  assert.equal(r.peer, 'api.example.com', 'the server chosen by SNI presents its own certificate');
  assert.equal(r.headers['x-served-by'], 'web-v1');
  await assert.rejects(httpsCall(httpsPort, 'api.example.com', '/api'), 'no client certificate');
  await assert.rejects(httpsCall(httpsPort, 'api.example.com', '/api', intruder), 'a client certificate whose SAN is not in subjectAltNames');
  await assert.rejects(handshake(httpsPort, 'api.example.com', stranger), 'a client certificate from a CA not in caCertificates');
  assert.equal(await handshake(httpsPort, 'api.example.com', client), 'api.example.com');
  assert.equal((await httpsCall(httpsPort, 'web.example.com', '/')).status, 200, 'the SIMPLE server on the same port asks for no certificate');
});

test('a TLS gateway server terminates TLS and proxies the plaintext to the TCP service of its tcp route', async () => {
  const r = await waitFor('the TLS server', () => tlsEcho('tcp.example.com').catch(() => false as const), 15_000);
  assert.deepEqual(r, { peer: 'tcp.example.com', lines: ['echo-tcp-v1', 'ping'] });
});

test('an HTTP gateway server with httpsRedirect answers 301 to the https URL', async () => {
  const r = await waitFor('the redirect', async () => {
    const reply = await httpCall(httpPort, '/items?a=1', { host: 'web.example.com' }).catch(() => undefined);
    return reply?.status === 301 ? reply : false;
  }, 15_000);
  assert.equal(r.headers.location, 'https://web.example.com/items?a=1');
});

test('an ISTIO_MUTUAL gateway server serves mesh workloads and refuses clients without a mesh certificate', async () => {
  const r = await waitFor('mesh traffic through the gateway', async () => {
    const reply = await httpCall(meshClient.outboundPort, '/through-gateway', { host: 'tls-ingress.default.svc.cluster.local' }).catch(() => undefined);
    return reply?.status === 200 ? reply : false;
  }, 15_000);
  assert.equal(r.headers['x-served-by'], 'web-v1');
  assert.equal(r.json.path, '/through-gateway');
  await assert.rejects(handshake(meshPort, 'tls-ingress.default.svc.cluster.local'), 'no client certificate');
  await assert.rejects(handshake(meshPort, 'tls-ingress.default.svc.cluster.local', client), 'a certificate the mesh did not issue');
});
