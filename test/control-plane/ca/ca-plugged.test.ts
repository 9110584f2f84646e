import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateAuthority } from '../../../src/control-plane/ca/index.ts';
import { mtlsHandshake, openssl, opensslVerify, storeFactory } from './helpers.ts';

const { newStore, newDir } = storeFactory();
const trustDomain = 'cluster.local';

// The organisation's PKI, made with the openssl CLI: a root, an RSA intermediate for the mesh (the
// plugged-in CA), a leaf that is not a CA, and an unrelated second root.
let org: { dir: string; rootCert: string; rootKey: string; caCert: string; caKey: string; leafCert: string; leafKey: string; otherRoot: string };

before(async () => {
  const dir = await newDir();
  const run = (args: string[]) => openssl(args, dir);
  const selfSigned = (key: string, cert: string, subject: string) => run([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '3650', '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await selfSigned('root-key.pem', 'root-cert.pem', '/O=Example Org/CN=Example Root CA');
  await selfSigned('other-key.pem', 'other-cert.pem', '/O=Other Org/CN=Other Root CA');
  await writeFile(join(dir, 'ca.ext'), [
    'basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid',
  ].join('\n') + '\n');
  await run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.csr', '-subj', '/O=Example Org/CN=Weft Mesh CA']);
  await run(['x509', '-req', '-in', 'ca.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-CAcreateserial',
    '-out', 'ca-cert.pem', '-days', '730', '-extfile', 'ca.ext']);
  await writeFile(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  await run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf-key.pem', '-out', 'leaf.csr', '-subj', '/CN=not-a-ca']);
  await run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-CAcreateserial',
    '-out', 'leaf-cert.pem', '-days', '30', '-extfile', 'leaf.ext']);
  const read = (file: string) => readFile(join(dir, file), 'utf8');
  org = {
    dir, rootCert: await read('root-cert.pem'), rootKey: await read('root-key.pem'), caCert: await read('ca-cert.pem'),
    caKey: await read('ca-key.pem'), leafCert: await read('leaf-cert.pem'), leafKey: await read('leaf-key.pem'),
    otherRoot: await read('other-cert.pem'),
  };
});

test('a plugged-in intermediate signs workload certificates that chain to the organisation root', async () => {
  const store = await newStore();
  const ca = await CertificateAuthority.open(store, {
    trustDomain, plugged: { certPem: org.caCert, keyPem: org.caKey, chainPem: org.rootCert },
  });
  assert.equal(new X509Certificate(ca.trustBundlePem()).fingerprint256, new X509Certificate(org.rootCert).fingerprint256);
  assert.equal(ca.trustBundlePem().match(/BEGIN CERTIFICATE/g)?.length, 1);

  const a = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'a' });
  const b = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'b' });
  const blocks = a.certificateChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  assert.equal(blocks.length, 2, 'leaf, then the intermediate; the root is not sent');
  const leaf = new X509Certificate(blocks[0]);
  const intermediate = new X509Certificate(blocks[1]);
  assert.equal(intermediate.fingerprint256, new X509Certificate(org.caCert).fingerprint256);
  assert.equal(leaf.issuer, 'O=Example Org\nCN=Weft Mesh CA');
  assert.ok(leaf.verify(intermediate.publicKey));
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/a');

  assert.match(await opensslVerify(await newDir(), org.rootCert, a.certificateChainPem), /leaf.pem: OK/);
  const { clientPeer } = await mtlsHandshake({ server: b, client: a, serverTrust: org.rootCert, clientTrust: org.rootCert });
  assert.equal(clientPeer.subjectaltname, 'URI:spiffe://cluster.local/ns/default/sa/a');

  assert.equal(store.revision, 0, 'nothing about a plugged-in CA is written to the store');
  await assert.rejects(ca.rotateRoot(), { code: 'WEFT_E_CA_UNSUPPORTED', message: /rotateRoot does not apply to a plugged-in CA/ });
  ca.close();
});

test("a chain given as Istio's cert-chain.pem (the intermediate, then the root) is accepted", async () => {
  const ca = await CertificateAuthority.open(await newStore(), {
    trustDomain, plugged: { certPem: org.caCert, keyPem: org.caKey, chainPem: org.caCert + org.rootCert },
  });
  const issued = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'a' });
  assert.equal(issued.certificateChainPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
  assert.match(await opensslVerify(await newDir(), ca.trustBundlePem(), issued.certificateChainPem), /leaf.pem: OK/);
  ca.close();
});

test('a plugged-in self-signed root signs directly and is its own trust bundle', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain, plugged: { certPem: org.rootCert, keyPem: org.rootKey } });
  const issued = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'a' });
  assert.equal(issued.certificateChainPem.match(/BEGIN CERTIFICATE/g)?.length, 1);
  assert.match(await opensslVerify(await newDir(), org.rootCert, issued.certificateChainPem), /leaf.pem: OK/);
  ca.close();
});

test('a plugged-in CA whose key does not match its certificate is refused', async () => {
  const store = await newStore();
  await assert.rejects(CertificateAuthority.open(store, {
    trustDomain, plugged: { certPem: org.caCert, keyPem: org.rootKey, chainPem: org.rootCert },
  }), { code: 'WEFT_E_CA_PLUGGED', message: /keyPem is not the private key of certPem "O=Example Org, CN=Weft Mesh CA"/ });
  assert.equal(store.revision, 0);
});

test('a plugged-in certificate that is not a CA, or an unreadable key, is refused', async () => {
  const store = await newStore();
  await assert.rejects(CertificateAuthority.open(store, { trustDomain, plugged: { certPem: org.leafCert, keyPem: org.leafKey, chainPem: org.rootCert } }),
    /plugged-in CA: certPem "CN=not-a-ca" .* is not a CA certificate/);
  await assert.rejects(CertificateAuthority.open(store, { trustDomain, plugged: { certPem: org.caCert, keyPem: 'not a key', chainPem: org.rootCert } }),
    /plugged-in CA: keyPem is not a readable PEM private key/);
  await assert.rejects(CertificateAuthority.open(store, { trustDomain, plugged: { certPem: 'garbage', keyPem: org.caKey } }),
    /plugged-in CA: certPem holds no PEM certificate/);
});

test('a plugged-in intermediate without its chain, or with the wrong root, is refused', async () => {
  const store = await newStore();
  await assert.rejects(CertificateAuthority.open(store, { trustDomain, plugged: { certPem: org.caCert, keyPem: org.caKey } }),
    /is not a self-signed root, so chainPem must hold the chain up to the organisation's root/);
  await assert.rejects(CertificateAuthority.open(store, { trustDomain, plugged: { certPem: org.caCert, keyPem: org.caKey, chainPem: org.otherRoot } }),
    /chainPem is not in order from certPem up to the root: "O=Other Org, CN=Other Root CA" .* did not issue "O=Example Org, CN=Weft Mesh CA"/);
});
