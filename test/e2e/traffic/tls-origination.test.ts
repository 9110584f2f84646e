// TLS origination from Istio config: a DestinationRule `tls: {mode: SIMPLE}` makes the client's sidecar
// open TLS to an external HTTPS service that speaks HTTP/2 only (ALPN h2), verifying its certificate
// against the rule's caCertificates and subjectAltNames; the application itself sends plain HTTP/1.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { makeCertificateAuthority, type TestCertificateAuthority } from '../../proxy/support/tls-certs.ts';
import { Scenario, httpCall, type Client } from './scenario.ts';

let s: Scenario;
let client: Client;
let ca: TestCertificateAuthority;
let server: http2.Http2SecureServer;
let caFile: string;
let serverPort: number;
const seen: { alpn: string | false; servername: string | false; httpVersion: string }[] = [];

function rule(san: string): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api }
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: http-tls, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http-tls: ${serverPort} } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api }
spec:
  host: api.example.com
  trafficPolicy:
    connectionPool: { http: { h2UpgradePolicy: UPGRADE } }
    tls: { mode: SIMPLE, sni: api.example.com, caCertificates: ${caFile}, subjectAltNames: [${san}] }
`;
}

before(async () => {
  ca = await makeCertificateAuthority();
  const leaf = await ca.issue('api.example.com', ['DNS:api.example.com']);
  caFile = join(ca.dir, 'trusted-ca.pem');
  await writeFile(caFile, ca.caCert);
  server = http2.createSecureServer({ key: leaf.key, cert: leaf.cert, allowHTTP1: false }, (req, res) => {
    const socket = req.stream.session?.socket as unknown as { alpnProtocol: string | false; servername: string | false };
    seen.push({ alpn: socket.alpnProtocol, servername: socket.servername, httpVersion: req.httpVersion });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('secure hello');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverPort = (server.address() as net.AddressInfo).port;
  s = await Scenario.start();
  client = await s.client();
});
after(async () => {
  await s?.stop();
  server?.close();
  await ca?.remove();
  assertNoLeakedProcesses();
});

test('the sidecar originates TLS with ALPN h2 and SNI to the endpoint, verified against the rule\'s CA and SAN', async () => {
  await s.mesh.apply(rule('api.example.com'));
  const r = await waitFor('a TLS-originated answer', async () => {
    const reply = await httpCall(client.outboundPort, '/hello', { host: 'api.example.com:443' });
    return reply.status === 200 ? reply : false;
  }, 15_000);
  assert.equal(r.body, 'secure hello');
  assert.deepEqual(seen.at(-1), { alpn: 'h2', servername: 'api.example.com', httpVersion: '2.0' });
});

test('a certificate that does not carry the expected subjectAltName is refused', async () => {
  await s.mesh.apply(rule('other.example.com'));
  const before = seen.length;
  await waitFor('connections refused', async () => (await httpCall(client.outboundPort, '/hello', { host: 'api.example.com:443' })).status === 503, 15_000);
  const r = await httpCall(client.outboundPort, '/hello', { host: 'api.example.com:443' });
  assert.equal(r.status, 503);
  assert.match(r.body, /connection failure/);
  // Nothing reached the application after the rule changed (a refused handshake carries no request).
  const settled = seen.length;
  await httpCall(client.outboundPort, '/hello', { host: 'api.example.com:443' });
  assert.equal(seen.length, settled);
  assert.ok(settled >= before);
});
