import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { CertificateAuthority, caKind } from '../../../src/control-plane/ca/index.ts';
import { openssl, storeFactory } from './helpers.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const { newStore, openAt, newDir } = storeFactory();
const trustDomain = 'cluster.local';

test('the first start creates a root, and a restart on the same store keeps it', async () => {
  const dir = await newDir();
  let store = await openAt(dir);
  const first = await CertificateAuthority.open(store, { trustDomain });
  const bundle = first.trustBundlePem();
  assert.equal(store.list({ kind: caKind }).length, 1);
  first.close();
  await store.close();

  store = await openAt(dir);
  const again = await CertificateAuthority.open(store, { trustDomain });
  assert.equal(again.trustBundlePem(), bundle);
  const cert = await again.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'reviews' });
  assert.ok(new X509Certificate(cert.certificateChainPem).verify(new X509Certificate(bundle).publicKey));
  again.close();
});

test('two control planes starting together on one store agree on one root', async () => {
  const store = await newStore();
  const [a, b] = await Promise.all([
    CertificateAuthority.open(store, { trustDomain }), CertificateAuthority.open(store, { trustDomain }),
  ]);
  assert.equal(a.trustBundlePem(), b.trustBundlePem());
  assert.equal(store.revision, 1, 'one root was written; the second replica adopted it');
  const fromB = await b.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'ratings' });
  assert.ok(new X509Certificate(fromB.certificateChainPem).verify(new X509Certificate(a.trustBundlePem()).publicKey));
  a.close();
  b.close();
});

test('the root is a CA for the trust domain: O=<trust domain>, CA:true critical, keyCertSign and cRLSign, a 128-bit random serial', async () => {
  const store = await newStore();
  const ca = await CertificateAuthority.open(store, { trustDomain: 'example.org' });
  const root = new X509Certificate(ca.trustBundlePem());
  assert.equal(root.subject, 'O=example.org');
  assert.equal(root.issuer, 'O=example.org');
  assert.equal(root.ca, true);
  assert.ok(root.verify(root.publicKey), 'self-signed');
  assert.equal(root.publicKey.asymmetricKeyType, 'ec');
  const years = (Date.parse(root.validTo) - Date.parse(root.validFrom)) / (365 * 24 * 3600_000);
  assert.ok(years > 9.9 && years < 10.1, `a root lives about 10 years, got ${years}`);
  assert.ok(root.serialNumber.length >= 31 && root.serialNumber.length <= 32, `serial ${root.serialNumber}`);

  const dir = await newDir();
  await writeFile(join(dir, 'root.pem'), ca.trustBundlePem());
  const text = await openssl(['x509', '-in', 'root.pem', '-noout', '-text'], dir);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(text, /X509v3 Subject Key Identifier/);

  const other = await CertificateAuthority.open(await newStore(), { trustDomain: 'example.org' });
  assert.notEqual(new X509Certificate(other.trustBundlePem()).serialNumber, root.serialNumber);
  ca.close();
  other.close();
});

test('a bad trust domain or key algorithm is refused with a clear error', async () => {
  const store = await newStore();
  await assert.rejects(CertificateAuthority.open(store, { trustDomain: 'Not A Domain' }), /trustDomain "Not A Domain" is not a valid SPIFFE trust domain/);
  await assert.rejects(CertificateAuthority.open(store, { trustDomain, keyAlgorithm: 'DSA' as never }), /keyAlgorithm "DSA" is not supported/);
  assert.equal(store.list().length, 0);
});
