// Certificate rotation by SDS: a new `default` secret reaches new connections while the connections
// already open carry on (no request is lost under a steady stream of keep-alive requests); a ROOTCA
// holding two roots (a root rotation) trusts certificates of both; a malformed secret is rejected
// (NACK) naming the secret and the field, and the secret in force stays.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { send } from './support/client.ts';
import { chainsListener, filterChain } from './support/listener-resources.ts';
import {
  assignment, edsCluster, httpConnectionManager, httpListener, route, routeConfig, routeTo, staticCluster, virtualHost,
} from './support/resources.ts';
import { certificateSecret, rootSecret, sdsDownstreamTls, sdsUpstreamTls, uriSans } from './support/sds-resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from './support/tls-certs.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const serverId = 'spiffe://cluster.local/ns/foo/sa/bar';
const clientId = 'spiffe://cluster.local/ns/default/sa/client';

let ca: TestCertificateAuthority;
let nextCa: TestCertificateAuthority;
let app: Upstream;
const harnesses: Harness[] = [];
const servers: https.Server[] = [];

before(async () => {
  ca = await makeCertificateAuthority('Mesh Root');
  nextCa = await makeCertificateAuthority('Next Mesh Root');
  app = await startUpstream('app');
});

after(async () => {
  for (const h of harnesses) await h.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await app?.close();
  await ca?.remove();
  await nextCa?.remove();
});

const serial = (cert: TestCertificate) => new X509Certificate(cert.cert).serialNumber;

async function harness(): Promise<Harness> {
  const h = new Harness({ drainTimeoutMs: 200 });
  harnesses.push(h);
  return h;
}

/** A server-side proxy: inbound mTLS (SDS) to the app. */
async function serverProxy(cert: TestCertificate, roots: Buffer[]): Promise<Harness> {
  const h = await harness();
  const hcm = httpConnectionManager({ statPrefix: 'inbound', routeConfig: routeConfig('inbound', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('app'))])]) });
  await h.apply({
    secrets: [certificateSecret('default', cert), rootSecret('ROOTCA', roots)],
    clusters: [staticCluster('app', [app.port])],
    listeners: [chainsListener('inbound', [{ ...filterChain(hcm), transport_socket: sdsDownstreamTls() }])],
  });
  return h;
}

/** A client-side proxy: outbound plaintext listener to one mTLS (SDS) cluster per port. */
async function clientProxy(cert: TestCertificate, roots: Buffer[], targets: Record<string, number>): Promise<Harness> {
  const h = await harness();
  const names = Object.keys(targets);
  await h.apply({
    secrets: [certificateSecret('default', cert), rootSecret('ROOTCA', roots)],
    clusters: names.map((n) => edsCluster(n, { transport_socket: sdsUpstreamTls({ sans: uriSans(serverId) }) })),
    endpoints: names.map((n) => assignment(n, [targets[n]])),
    listeners: [httpListener('outbound', {
      routeConfig: routeConfig('outbound', [virtualHost('all', ['*'], names.map((n) => route({ prefix: `/${n}` }, routeTo(n))))]),
    })],
  });
  return h;
}

/** A TLS connection straight to a proxy's inbound port; resolves once the handshake is done. */
async function connectTls(port: number, cert: TestCertificate): Promise<tls.TLSSocket> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: [ca.caCert, nextCa.caCert], cert: cert.cert, key: cert.key, checkServerIdentity: () => undefined });
  await once(socket, 'secureConnect');
  return socket;
}

/** An HTTP/1.1 request on a TLS socket the test holds (kept alive for the next one); resolves with the status. */
function requestOn(socket: tls.TLSSocket, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const done = (result: number | Error) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onClose = () => done(new Error(`connection closed before a response to ${path}`));
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = received.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length >= end + 4 + length) done(Number(head.split(' ')[1]));
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nhost: backend\r\n\r\n`);
  });
}

/** An HTTPS upstream that asks for a client certificate and records its serial; each response closes its connection. */
async function recordingUpstream(cert: TestCertificate): Promise<{ port: number; serials: string[] }> {
  const serials: string[] = [];
  const server = https.createServer({ cert: cert.cert, key: cert.key, ca: ca.caCert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    serials.push((req.socket as tls.TLSSocket).getPeerCertificate().serialNumber);
    req.resume();
    res.writeHead(200, { connection: 'close' });
    res.end('ok');
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { port: (server.address() as net.AddressInfo).port, serials };
}

describe('rotating the workload certificate (default)', () => {
  it('loses no request under steady keep-alive traffic; new connections present the new certificate, open ones keep going', async () => {
    const first = await ca.issue('server', [`URI:${serverId}`], true);
    const second = await ca.issue('server', [`URI:${serverId}`], true);
    const clientCert = await ca.issue('client', [`URI:${clientId}`], true);
    const server = await serverProxy(first, [ca.caCert]);
    const serverPort = server.port('inbound');
    const client = await clientProxy(clientCert, [ca.caCert], { backend: serverPort });
    const clientPort = client.port('outbound');

    const held = await connectTls(serverPort, clientCert);
    assert.equal(held.getPeerCertificate().serialNumber, serial(first));
    assert.equal(await requestOn(held, '/held-before'), 200);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const statuses: number[] = [];
    let rotated = false;
    let afterRotation = 0;
    const worker = async () => {
      while (afterRotation < 40) {
        const reply = await send(clientPort, '/backend/loop', { agent });
        statuses.push(reply.status);
        if (rotated) afterRotation++;
        else if (statuses.length >= 40) {
          server.dataPlane.updateSecrets([certificateSecret('default', second), rootSecret('ROOTCA', [ca.caCert])]);
          rotated = true;
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    agent.destroy();
    assert.ok(statuses.length >= 80);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every request of the loop succeeded');

    const fresh = await connectTls(serverPort, clientCert);
    assert.equal(fresh.getPeerCertificate().serialNumber, serial(second), 'a new connection presents the new certificate');
    assert.equal(await requestOn(fresh, '/fresh'), 200);
    fresh.destroy();
    assert.equal(await requestOn(held, '/held-after'), 200, 'a connection opened before the rotation carries on');
    assert.equal(held.getPeerCertificate().serialNumber, serial(first));
    held.destroy();
  });

  it('presents the new client certificate on the connections it opens after the rotation', async () => {
    const backendCert = await ca.issue('backend', [`URI:${serverId}`], true);
    const upstream = await recordingUpstream(backendCert);
    const before = await ca.issue('client', [`URI:${clientId}`], true);
    const rotated = await ca.issue('client', [`URI:${clientId}`], true);
    const client = await clientProxy(before, [ca.caCert], { backend: upstream.port });
    const port = client.port('outbound');
    assert.equal((await send(port, '/backend/1')).status, 200);
    client.dataPlane.updateSecrets([certificateSecret('default', rotated), rootSecret('ROOTCA', [ca.caCert])]);
    assert.equal((await send(port, '/backend/2')).status, 200);
    assert.deepEqual(upstream.serials, [serial(before), serial(rotated)]);
  });
});

describe('a ROOTCA with two roots (root rotation)', () => {
  it('the client side trusts servers of both roots; dropping a root refuses its servers on new connections', async () => {
    const oldServer = await recordingUpstream(await ca.issue('old', [`URI:${serverId}`], true));
    const newServer = await recordingUpstream(await nextCa.issue('new', [`URI:${serverId}`], true));
    const clientCert = await ca.issue('client', [`URI:${clientId}`], true);
    const client = await clientProxy(clientCert, [ca.caCert, nextCa.caCert], { old: oldServer.port, new: newServer.port });
    const port = client.port('outbound');
    assert.equal((await send(port, '/old')).status, 200);
    assert.equal((await send(port, '/new')).status, 200);
    client.dataPlane.updateSecrets([certificateSecret('default', clientCert), rootSecret('ROOTCA', [ca.caCert])]);
    assert.equal((await send(port, '/old')).status, 200);
    assert.equal((await send(port, '/new')).status, 503);
  });

  it('the server side accepts client certificates of both roots', async () => {
    const server = await serverProxy(await ca.issue('server', [`URI:${serverId}`], true), [ca.caCert, nextCa.caCert]);
    const port = server.port('inbound');
    for (const issuer of [ca, nextCa]) {
      const socket = await connectTls(port, await issuer.issue('client', [`URI:${clientId}`], true));
      assert.equal(await requestOn(socket, '/'), 200);
      socket.destroy();
    }
  });
});

describe('a malformed secret', () => {
  it('is rejected naming the secret and the field, and the secret in force stays', async () => {
    const good = await ca.issue('server', [`URI:${serverId}`], true);
    const unrelated = await ca.issue('server', [`URI:${serverId}`], true);
    const clientCert = await ca.issue('client', [`URI:${clientId}`], true);
    const server = await serverProxy(good, [ca.caCert]);
    const roots = rootSecret('ROOTCA', [ca.caCert]);
    const mismatched = { name: 'default', tls_certificate: { certificate_chain: { inline_bytes: good.cert }, private_key: { inline_bytes: unrelated.key } } };
    assert.throws(() => server.dataPlane.updateSecrets([mismatched, roots]),
      /^ConfigRejectedError: Secret default: tls_certificate\.private_key does not match the first certificate of certificate_chain$/);
    const garbage = { name: 'default', tls_certificate: { certificate_chain: { inline_string: 'not a certificate' }, private_key: { inline_bytes: good.key } } };
    assert.throws(() => server.dataPlane.updateSecrets([garbage, roots]),
      /^ConfigRejectedError: Secret default: tls_certificate\.certificate_chain holds no PEM certificate/);
    assert.throws(() => server.dataPlane.updateSecrets([certificateSecret('default', good), { name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' } } }]),
      /^ConfigRejectedError: Secret ROOTCA: validation_context\.trusted_ca certificate 1 of 1 cannot be parsed/);
    const socket = await connectTls(server.port('inbound'), clientCert);
    assert.equal(socket.getPeerCertificate().serialNumber, serial(good), 'the secret in force still serves');
    assert.equal(await requestOn(socket, '/'), 200);
    socket.destroy();
  });
});
