import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { CertificateAuthority, WorkloadCertificates, type WorkloadIdentity } from '../../../src/control-plane/ca/index.ts';
import { storeFactory } from './helpers.ts';

const { newStore } = storeFactory();
const trustDomain = 'cluster.local';
const reviews = { namespace: 'bookinfo', serviceAccount: 'reviews' };
const ratings = { namespace: 'bookinfo', serviceAccount: 'ratings' };
const hour = 3600_000;

async function setup(ttlMs = 24 * hour) {
  let now = Date.parse('2030-06-01T00:00:00Z');
  const clock = { advance: (ms: number) => { now += ms; } };
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain, now: () => now });
  const rotated: WorkloadIdentity[] = [];
  const certs = new WorkloadCertificates(ca, { ttlMs, onRotated: (id) => rotated.push(id), now: () => now });
  return { ca, certs, rotated, clock, close: () => { certs.close(); ca.close(); } };
}

test('the current certificate of an identity is issued once and then reused', async () => {
  const { certs, rotated, close } = await setup();
  const first = await certs.current(reviews);
  assert.equal(first.spiffeId, 'spiffe://cluster.local/ns/bookinfo/sa/reviews');
  assert.equal((await certs.current(reviews)).serialNumber, first.serialNumber);
  assert.notEqual((await certs.current(ratings)).serialNumber, first.serialNumber);
  assert.equal(rotated.length, 0, 'a first issuance is not a rotation');
  close();
});

test('callers asking at the same time share one issuance', async () => {
  const { certs, close } = await setup();
  const all = await Promise.all([certs.current(reviews), certs.current(reviews), certs.current({ ...reviews })]);
  assert.equal(new Set(all.map((c) => c.serialNumber)).size, 1);
  close();
});

test('a certificate is renewed at about half its life, and onRotated names the identity', async () => {
  const { certs, rotated, clock, close } = await setup(24 * hour);
  const first = await certs.current(reviews);
  await certs.current(ratings);

  clock.advance(9 * hour); // 37.5%: not due yet
  await certs.renewDue();
  assert.equal((await certs.current(reviews)).serialNumber, first.serialNumber);
  assert.equal(rotated.length, 0);

  clock.advance(3 * hour + 1000); // just past 50%: due whatever the jitter
  await certs.renewDue();
  const second = await certs.current(reviews);
  assert.notEqual(second.serialNumber, first.serialNumber);
  assert.equal(second.notAfter.getTime() - first.notAfter.getTime(), 12 * hour + 1000, 'a fresh 24-hour certificate');
  assert.deepEqual(rotated.map((i) => i.serviceAccount).sort(), ['ratings', 'reviews']);
  close();
});

test('a certificate past its renewal time is renewed when asked for, even if no timer ran', async () => {
  const { certs, rotated, clock, close } = await setup(24 * hour);
  const first = await certs.current(reviews);
  clock.advance(13 * hour);
  const second = await certs.current(reviews);
  assert.notEqual(second.serialNumber, first.serialNumber);
  assert.deepEqual(rotated, [reviews]);
  close();
});

test('with a short lifetime the timer renews the certificate by itself', async () => {
  const ca = await CertificateAuthority.open(await newStore(), { trustDomain });
  let rotatedOnce: () => void = () => {};
  const rotated = new Promise<void>((resolve) => { rotatedOnce = resolve; });
  const certs = new WorkloadCertificates(ca, { ttlMs: 2000, onRotated: () => rotatedOnce() });
  try {
    const first = await certs.current(reviews);
    // The renewal timer is unref'd (it must not keep a control plane alive); this deadline keeps the
    // test process alive meanwhile.
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([rotated, new Promise((_, reject) => { deadline = setTimeout(() => reject(new Error('no renewal within 10 s')), 10_000); })])
      .finally(() => clearTimeout(deadline));
    const second = await certs.current(reviews);
    assert.notEqual(second.serialNumber, first.serialNumber);
  } finally {
    certs.close();
    ca.close();
  }
});

test('after a root rotation reissueAll moves every identity to the new root', async () => {
  const { ca, certs, rotated, close } = await setup();
  const before = await certs.current(reviews);
  await certs.current(ratings);
  await ca.rotateRoot();
  await certs.reissueAll();
  const newRoot = new X509Certificate(ca.signingRootPem());
  for (const identity of [reviews, ratings]) {
    const cert = await certs.current(identity);
    assert.ok(new X509Certificate(cert.certificateChainPem).verify(newRoot.publicKey), `${identity.serviceAccount} chains to the new root`);
  }
  assert.notEqual((await certs.current(reviews)).serialNumber, before.serialNumber);
  assert.equal(rotated.length, 2);
  close();
});

test('retain forgets identities no proxy uses any more', async () => {
  const { certs, rotated, clock, close } = await setup();
  const first = await certs.current(reviews);
  await certs.current(ratings);
  certs.retain([ratings]);
  clock.advance(13 * hour);
  await certs.renewDue();
  assert.deepEqual(rotated, [ratings], 'only the retained identity was renewed');
  const again = await certs.current(reviews); // a forgotten identity is issued afresh on demand
  assert.notEqual(again.serialNumber, first.serialNumber);
  assert.deepEqual(rotated, [ratings]);
  close();
});

test('an invalid identity is refused with a clear error', async () => {
  const { certs, close } = await setup();
  await assert.rejects(async () => certs.current({ namespace: 'Bad_NS', serviceAccount: 'x' }), /namespace "Bad_NS" is not a DNS-1123 label/);
  close();
});
