import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { CertificateAuthority } from '../../../src/control-plane/ca/index.ts';
import { mtlsHandshake, opensslVerify, storeFactory } from './helpers.ts';

const { newStore, openAt, newDir } = storeFactory();
const trustDomain = 'cluster.local';
const rootsOf = (bundle: string) => (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
  .map((pem) => new X509Certificate(pem));

test('after a root rotation both roots are trusted, new certificates come from the new root, and old ones still verify', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain });
  const oldRoot = new X509Certificate(ca.trustBundlePem());
  const before = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'old' });
  let changes = 0;
  ca.onChange(() => changes++);

  await ca.rotateRoot();
  assert.equal(changes, 1);
  const roots = rootsOf(ca.trustBundlePem());
  assert.equal(roots.length, 2);
  assert.equal(roots[0].fingerprint256, oldRoot.fingerprint256);
  const newRoot = roots[1];
  assert.notEqual(newRoot.fingerprint256, oldRoot.fingerprint256);
  assert.equal(newRoot.subject, 'O=cluster.local', 'the same subject: only the key identifiers tell the roots apart');

  const after = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'new' });
  const afterLeaf = new X509Certificate(after.certificateChainPem);
  assert.ok(afterLeaf.verify(newRoot.publicKey), 'signed by the new root');
  assert.ok(!afterLeaf.verify(oldRoot.publicKey));

  // The old workload and the new one still talk, in both directions, with the combined bundle.
  const bundle = ca.trustBundlePem();
  const oldToNew = await mtlsHandshake({ server: after, client: before, serverTrust: bundle, clientTrust: bundle });
  assert.equal(oldToNew.clientPeer.subjectaltname, 'URI:spiffe://cluster.local/ns/default/sa/old');
  const newToOld = await mtlsHandshake({ server: before, client: after, serverTrust: bundle, clientTrust: bundle });
  assert.equal(newToOld.clientPeer.subjectaltname, 'URI:spiffe://cluster.local/ns/default/sa/new');
  assert.match(await opensslVerify(await newDir(), bundle, before.certificateChainPem), /OK/);
  assert.match(await opensslVerify(await newDir(), bundle, after.certificateChainPem), /OK/);

  await ca.retireOldRoots();
  assert.equal(changes, 2);
  const remaining = rootsOf(ca.trustBundlePem());
  assert.deepEqual(remaining.map((r) => r.fingerprint256), [newRoot.fingerprint256]);
  const stillNew = await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'new' });
  await mtlsHandshake({ server: stillNew, client: after, serverTrust: ca.trustBundlePem(), clientTrust: ca.trustBundlePem() });
  // A certificate of the retired root is no longer trusted.
  await assert.rejects(mtlsHandshake({ server: before, client: after, serverTrust: ca.trustBundlePem(), clientTrust: ca.trustBundlePem() }),
    /unable to (get local issuer certificate|verify the first certificate)/);
  await ca.retireOldRoots();
  assert.equal(changes, 2, 'retiring with a single root changes nothing');
  ca.close();
});

test('another replica on the same store picks up a root rotation and tells its listeners', async () => {
  const store = await newStore();
  const a = await CertificateAuthority.open(store, { trustDomain });
  const b = await CertificateAuthority.open(store, { trustDomain });
  const changed = new Promise<void>((resolve) => b.onChange(resolve));
  await a.rotateRoot();
  await changed;
  assert.equal(b.trustBundlePem(), a.trustBundlePem());
  assert.equal(rootsOf(b.trustBundlePem()).length, 2);
  const fromB = new X509Certificate((await b.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'x' })).certificateChainPem);
  assert.ok(fromB.verify(rootsOf(a.trustBundlePem())[1].publicKey), 'the other replica signs with the new root');

  const retired = new Promise<void>((resolve) => b.onChange(resolve));
  await a.retireOldRoots();
  await retired;
  assert.equal(rootsOf(b.trustBundlePem()).length, 1);
  a.close();
  b.close();
});

test('a rotation survives a restart: the new root signs and the old one stays trusted until retired', async () => {
  const dir = await newDir();
  let store = await openAt(dir);
  let ca = await CertificateAuthority.open(store, { trustDomain });
  await ca.rotateRoot();
  const bundle = ca.trustBundlePem();
  ca.close();
  await store.close();

  store = await openAt(dir);
  ca = await CertificateAuthority.open(store, { trustDomain });
  assert.equal(ca.trustBundlePem(), bundle);
  const leaf = new X509Certificate((await ca.issueWorkloadCertificate({ namespace: 'default', serviceAccount: 'x' })).certificateChainPem);
  assert.ok(leaf.verify(rootsOf(bundle)[1].publicKey));
  ca.close();
});

test('an old root leaves the trust bundle once it expires, even before it is retired', async () => {
  let now = Date.now();
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain, rootLifetimeMs: 3600_000, now: () => now });
  now += 1800_000;
  await ca.rotateRoot();
  assert.equal(rootsOf(ca.trustBundlePem()).length, 2);
  now += 1900_000; // past the first root's end, not the second's
  assert.equal(rootsOf(ca.trustBundlePem()).length, 1);
  ca.close();
});
