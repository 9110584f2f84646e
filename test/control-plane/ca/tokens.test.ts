import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { createPrivateKey } from 'node:crypto';
import { TokenAuthority, issuedTokenKind, revokedTokenKind, tokenSigningKeyKind } from '../../../src/control-plane/ca/index.ts';
import { storeFactory } from './helpers.ts';

const { newStore, openAt, newDir } = storeFactory();
const trustDomain = 'cluster.local';
const day = 24 * 3600_000;
const vm = { namespace: 'legacy', serviceAccount: 'billing-vm' };

test('a token names the workload, and verifies with its claims', async () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const tokens = await TokenAuthority.open(await newStore(), { trustDomain, now: () => now });
  const { token, claims } = await tokens.create({ ...vm, ttlMs: 30 * day });
  assert.deepEqual(claims, { ...vm, id: claims.id, issuedAt: new Date(now), expiresAt: new Date(now + 30 * day) });

  const payload = decodeJwt(token);
  assert.equal(payload.iss, 'weft');
  assert.equal(payload.sub, 'spiffe://cluster.local/ns/legacy/sa/billing-vm');
  assert.equal(payload.namespace, 'legacy');
  assert.equal(payload.serviceAccount, 'billing-vm');
  assert.equal(payload.jti, claims.id);
  assert.equal(payload.iat, now / 1000);
  assert.equal(payload.exp, (now + 30 * day) / 1000);
  assert.equal(decodeProtectedHeader(token).alg, 'ES256');

  assert.deepEqual(await tokens.verify(token), { ok: true, claims });
  assert.deepEqual(tokens.list(), [claims]);
});

test('a token lives 365 days by default, and ttlMs 0 gives one that never expires', async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const tokens = await TokenAuthority.open(await newStore(), { trustDomain, now: () => now });
  const yearly = await tokens.create(vm);
  assert.equal(yearly.claims.expiresAt?.getTime(), now + 365 * day);
  const forever = await tokens.create({ ...vm, ttlMs: 0 });
  assert.equal(forever.claims.expiresAt, null);
  assert.equal(decodeJwt(forever.token).exp, undefined);
  now += 20 * 365 * day;
  assert.deepEqual(await tokens.verify(forever.token), { ok: true, claims: forever.claims });
  assert.deepEqual(await tokens.verify(yearly.token), { ok: false, reason: 'token expired' });
  await assert.rejects(tokens.create({ ...vm, ttlMs: -1 }), /ttlMs must be a whole number of milliseconds/);
  await assert.rejects(tokens.create({ namespace: 'legacy', serviceAccount: 'Billing' }), /serviceAccount "Billing" is not a DNS-1123 label/);
});

test('an expired token is refused as expired', async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const tokens = await TokenAuthority.open(await newStore(), { trustDomain, now: () => now });
  const { token } = await tokens.create({ ...vm, ttlMs: 60_000 });
  now += 59_000;
  assert.equal((await tokens.verify(token)).ok, true);
  now += 1000;
  assert.deepEqual(await tokens.verify(token), { ok: false, reason: 'token expired' });
  assert.deepEqual(tokens.list(), []);
  assert.equal(await tokens.pruneExpired(), 1);
  assert.equal(await tokens.pruneExpired(), 0);
});

test('a revoked token is refused, also after a restart and by another control plane on the same store', async () => {
  const dir = await newDir();
  let store = await openAt(dir);
  let tokens = await TokenAuthority.open(store, { trustDomain });
  const replica = await TokenAuthority.open(store, { trustDomain });
  const revoked = await tokens.create(vm);
  const kept = await tokens.create(vm);
  assert.equal(await tokens.revoke(revoked.claims.id), true);
  assert.equal(await tokens.revoke(revoked.claims.id), true, 'revoking twice is fine');
  assert.equal(await tokens.revoke('no-such-token'), false);
  assert.deepEqual(await tokens.verify(revoked.token), { ok: false, reason: 'token revoked' });
  assert.deepEqual(await replica.verify(revoked.token), { ok: false, reason: 'token revoked' });
  assert.equal((await replica.verify(kept.token)).ok, true);
  assert.deepEqual(tokens.list().map((c) => c.id), [kept.claims.id]);
  assert.deepEqual(tokens.listRevoked().map((c) => c.id), [revoked.claims.id]);
  await store.close();

  store = await openAt(dir);
  tokens = await TokenAuthority.open(store, { trustDomain });
  assert.deepEqual(await tokens.verify(revoked.token), { ok: false, reason: 'token revoked' });
  assert.equal((await tokens.verify(kept.token)).ok, true, 'the signing key survived the restart');
  assert.equal(store.list({ kind: tokenSigningKeyKind }).length, 1);
  assert.equal(store.list({ kind: issuedTokenKind }).length, 2);
  assert.equal(store.list({ kind: revokedTokenKind }).length, 1);
});

test('a tampered token is refused for its bad signature', async () => {
  const tokens = await TokenAuthority.open(await newStore(), { trustDomain });
  const { token } = await tokens.create(vm);
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.serviceAccount = 'admin';
  claims.sub = 'spiffe://cluster.local/ns/legacy/sa/admin';
  const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  const result = await tokens.verify(forged);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : '', /^bad signature/);
});

test('a token from another control plane (another signing key) is refused', async () => {
  const ours = await TokenAuthority.open(await newStore(), { trustDomain });
  const theirs = await TokenAuthority.open(await newStore(), { trustDomain });
  const { token } = await theirs.create(vm);
  const result = await ours.verify(token);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : '', /^bad signature/);
});

test('two control planes starting together on one store share one signing key', async () => {
  const store = await newStore();
  const [a, b] = await Promise.all([TokenAuthority.open(store, { trustDomain }), TokenAuthority.open(store, { trustDomain })]);
  const { token } = await a.create(vm);
  assert.equal((await b.verify(token)).ok, true);
  assert.equal(store.list({ kind: tokenSigningKeyKind }).length, 1);
});

test('a token with a good signature but the wrong issuer, trust domain or claims is refused', async () => {
  const store = await newStore();
  const tokens = await TokenAuthority.open(store, { trustDomain });
  const other = await TokenAuthority.open(store, { trustDomain: 'other.example' });
  const { token } = await other.create(vm);
  assert.deepEqual(await tokens.verify(token),
    { ok: false, reason: 'token subject spiffe://other.example/ns/legacy/sa/billing-vm is not spiffe://cluster.local/ns/legacy/sa/billing-vm (another trust domain?)' });

  // Tokens signed with the stored key itself, as if someone with access to it made them by hand.
  const storedKey = store.list({ kind: tokenSigningKeyKind })[0].value as { privateKeyPem: string };
  const key = createPrivateKey(storedKey.privateKeyPem);
  const sign = (claims: Record<string, unknown>, issuer: string) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256' })
    .setIssuer(issuer).setSubject('spiffe://cluster.local/ns/legacy/sa/billing-vm').setJti('x').setIssuedAt().sign(key);
  assert.equal((await tokens.verify(await sign(vm, 'weft'))).ok, true, 'the hand-made token is otherwise good');
  assert.deepEqual(await tokens.verify(await sign(vm, 'someone-else')), { ok: false, reason: 'token was not issued by weft' });
  assert.deepEqual(await tokens.verify(await sign({ namespace: 'legacy' }, 'weft')),
    { ok: false, reason: 'malformed token claims: serviceAccount must be a non-empty string' });
});

test('malformed tokens are refused with a reason, never an exception', async () => {
  const tokens = await TokenAuthority.open(await newStore(), { trustDomain });
  for (const bad of ['', 'abc', 'a.b.c', '...', 'x.y', 42 as unknown as string, undefined as unknown as string]) {
    assert.deepEqual(await tokens.verify(bad), { ok: false, reason: 'malformed token' }, `for ${String(bad)}`);
  }
  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"weft"}').toString('base64url')}.`;
  assert.deepEqual(await tokens.verify(unsigned), { ok: false, reason: 'bad signature algorithm (only ES256 is accepted)' });
  const noSignature = `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('{"iss":"weft"}').toString('base64url')}.`;
  assert.match((await tokens.verify(noSignature) as { reason: string }).reason, /^bad signature/);
});
