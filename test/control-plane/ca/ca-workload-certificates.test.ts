import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { CertificateAuthority } from '../../../src/control-plane/ca/index.ts';
import { mtlsHandshake, openssl, opensslVerify, storeFactory } from './helpers.ts';

const { newStore, newDir } = storeFactory();
const trustDomain = 'cluster.local';

test('a workload certificate carries the SPIFFE id and passes a real mTLS handshake against the trust bundle', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain });
  const reviews = await ca.issueWorkloadCertificate({ namespace: 'bookinfo', serviceAccount: 'reviews' });
  const ratings = await ca.issueWorkloadCertificate({ namespace: 'bookinfo', serviceAccount: 'ratings' });
  assert.equal(reviews.spiffeId, 'spiffe://cluster.local/ns/bookinfo/sa/reviews');

  const { clientPeer, serverPeer } = await mtlsHandshake({
    server: ratings, client: reviews, serverTrust: ca.trustBundlePem(), clientTrust: ca.trustBundlePem(),
  });
  assert.equal(clientPeer.subjectaltname, 'URI:spiffe://cluster.local/ns/bookinfo/sa/reviews');
  assert.equal(serverPeer.subjectaltname, 'URI:spiffe://cluster.local/ns/bookinfo/sa/ratings');
  ca.close();
});

test('a workload certificate is a TLS client and server leaf: not a CA, empty subject, backdated a minute, 24 hours by default', async () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain, now: () => now });
  const issued = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'sleep' });
  const leaf = new X509Certificate(issued.certificateChainPem);
  assert.equal(leaf.ca, false);
  assert.ok(!leaf.subject, 'empty subject');
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/sleep');
  assert.deepEqual(leaf.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(issued.notBefore.getTime(), now - 60_000);
  assert.equal(issued.notAfter.getTime(), now + 24 * 3600_000);
  assert.equal(new Date(leaf.validTo).getTime(), issued.notAfter.getTime());
  assert.equal(leaf.serialNumber.toLowerCase(), issued.serialNumber.toLowerCase());
  assert.ok(leaf.checkPrivateKey(createPrivateKey(issued.privateKeyPem)));
  assert.match(issued.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/, 'PKCS#8');
  assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
  // Signed by our own root, the chain is the leaf alone: the root travels in the trust bundle.
  assert.equal(issued.certificateChainPem.match(/BEGIN CERTIFICATE/g)?.length, 1);

  const dir = await newDir();
  await writeFile(join(dir, 'leaf.pem'), issued.certificateChainPem);
  const text = await openssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
  assert.match(text, /X509v3 Extended Key Usage:\s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(text, /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep/);
  ca.close();
});

test('openssl verifies a workload certificate against the trust bundle', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain });
  const issued = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'sleep' });
  assert.match(await opensslVerify(await newDir(), ca.trustBundlePem(), issued.certificateChainPem), /leaf.pem: OK/);
  ca.close();
});

test('a certificate never outlives the root that signed it', async () => {
  const now = Date.now();
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain, rootLifetimeMs: 3600_000, now: () => now });
  const issued = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'sleep', ttlMs: 48 * 3600_000 });
  const root = new X509Certificate(ca.trustBundlePem());
  assert.equal(issued.notAfter.getTime(), new Date(root.validTo).getTime());
  assert.equal(issued.notAfter.getTime(), Math.floor((now + 3600_000) / 1000) * 1000);
  ca.close();
});

test('a namespace or service account that is not a DNS-1123 label is refused with a clear error', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain });
  await assert.rejects(ca.issueWorkloadCertificate({ namespace: 'Default', serviceAccount: 'sleep' }),
    { code: 'WEFT_E_CA_INVALID_IDENTITY', message: /namespace "Default" is not a DNS-1123 label/ });
  await assert.rejects(ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'a/b' }),
    /serviceAccount "a\/b" is not a DNS-1123 label/);
  await assert.rejects(ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: '' }),
    /serviceAccount must be a non-empty string/);
  await assert.rejects(ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'sleep', ttlMs: -5 }),
    /ttlMs must be a positive whole number of milliseconds, got -5/);
  ca.close();
});

test('with keyAlgorithm RSA-2048 the root and the workload keys are RSA, and mTLS works', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain, keyAlgorithm: 'RSA-2048' });
  const root = new X509Certificate(ca.trustBundlePem());
  assert.equal(root.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(root.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const a = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'a' });
  const b = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'b' });
  const leaf = new X509Certificate(a.certificateChainPem);
  assert.equal(leaf.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(createPrivateKey(a.privateKeyPem).asymmetricKeyType, 'rsa');
  assert.ok(leaf.verify(root.publicKey));
  const { clientPeer } = await mtlsHandshake({ server: b, client: a, serverTrust: ca.trustBundlePem(), clientTrust: ca.trustBundlePem() });
  assert.equal(clientPeer.subjectaltname, 'URI:spiffe://cluster.local/ns/default/sa/a');
  ca.close();
});

test('a server certificate carries DNS and IP names that TLS host name checks accept', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain });
  const server = await ca.issueServerCertificate({ dnsNames: ['weft-control-plane.weft-system.svc', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] });
  const leaf = new X509Certificate(server.certificateChainPem);
  assert.equal(leaf.subjectAltName, 'DNS:weft-control-plane.weft-system.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  const client = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'sleep' });
  // Node's own host name check, for the address the client dialled.
  const { serverPeer } = await mtlsHandshake({
    server, client, serverTrust: ca.trustBundlePem(), clientTrust: ca.trustBundlePem(), checkServerIdentity,
  });
  assert.match(serverPeer.subjectaltname ?? '', /IP Address:127.0.0.1/);
  await assert.rejects(mtlsHandshake({
    server, client, serverTrust: ca.trustBundlePem(), clientTrust: ca.trustBundlePem(),
    checkServerIdentity: (_host, cert) => checkServerIdentity('other.example.com', cert),
  }), /other.example.com/);
  await assert.rejects(ca.issueServerCertificate({ dnsNames: [], ipAddresses: [] }), /at least one DNS name or IP address/);
  await assert.rejects(ca.issueServerCertificate({ dnsNames: [], ipAddresses: ['300.1.1.1'] }), /ipAddresses: "300.1.1.1" is not an IP address/);
  ca.close();
});
