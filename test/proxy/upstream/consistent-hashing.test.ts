// Consistent hashing on the balancers themselves (RING_HASH and MAGLEV), with many keys: the same key
// always lands on the same endpoint, keys spread over all endpoints, and when one of N endpoints goes
// only about 1/N of the keys move (for the ring, keys on the endpoints that remain stay exactly where
// they were). Also the XXH64 the hashes are built on, against its reference values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { combineHashes, hashString, hashStringHex64 } from '../../../src/proxy/upstream/load-balancers/hash.ts';
import { MaglevTable } from '../../../src/proxy/upstream/load-balancers/maglev/maglev.ts';
import type { LoadBalancer } from '../../../src/proxy/upstream/load-balancers/registry.ts';
import { Ring } from '../../../src/proxy/upstream/load-balancers/ring-hash/ring-hash.ts';
import type { Host } from '../../../src/proxy/upstream/host.ts';
import { makeHosts, unitWeights } from './hosts.ts';

const defaultRing = { minimumRingSize: 1024, maximumRingSize: 8 * 1024 * 1024 };
const keys = Array.from({ length: 20_000 }, (_, i) => hashString(`user-${i}`));

function assign(lb: LoadBalancer): (Host | null)[] {
  return keys.map((k) => lb.pick(k));
}

function spread(assigned: (Host | null)[]): Map<Host | null, number> {
  const counts = new Map<Host | null, number>();
  for (const h of assigned) counts.set(h, (counts.get(h) ?? 0) + 1);
  return counts;
}

describe('XXH64', () => {
  it('matches the reference values', () => {
    assert.equal(hashStringHex64(''), 'ef46db3751d8e999');
    assert.equal(hashStringHex64('a'), 'd24ec4f1a98c6e5b');
    assert.equal(hashStringHex64('abc'), '44bc2cf5ad770999');
    // Longer than one 32-byte stripe.
    assert.equal(hashStringHex64('Nobody inspects the spammish repetition'), 'fbcea83c8a378bf1');
    assert.equal(hashString('abc'), Number(0x44bc2cf5ad770999n >> 11n));
  });

  it('combines hashes order-dependently, so duplicate policies do not cancel out', () => {
    const a = hashString('a');
    const b = hashString('b');
    assert.notEqual(combineHashes(a, a), 0);
    assert.notEqual(combineHashes(a, b), combineHashes(b, a));
    assert.ok(combineHashes(a, b) < 2 ** 53);
  });
});

describe('ring hash', () => {
  it('maps a key to one endpoint, always, and spreads keys evenly over all endpoints', () => {
    const hosts = makeHosts(5);
    const ring = new Ring(hosts, unitWeights(5), defaultRing);
    assert.ok(ring.size >= 1024, `ring of ${ring.size} points`);
    const first = assign(ring);
    assert.deepEqual(assign(new Ring(hosts, unitWeights(5), defaultRing)), first, 'a rebuilt ring maps keys the same way');
    const counts = spread(first);
    assert.equal(counts.size, 5);
    for (const [, n] of counts) assert.ok(n > 20_000 / 5 * 0.7 && n < 20_000 / 5 * 1.3, `uneven spread: ${[...counts.values()]}`);
  });

  it('moves only the keys of a removed endpoint (about 1/N); keys on the others stay put', () => {
    const hosts = makeHosts(10);
    const before = assign(new Ring(hosts, unitWeights(10), defaultRing));
    const removed = hosts[3];
    const remaining = hosts.filter((h) => h !== removed);
    const after = assign(new Ring(remaining, unitWeights(9), defaultRing));
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === removed) {
        assert.notEqual(after[i], removed);
        moved++;
      } else {
        assert.equal(after[i], before[i], `key ${i} moved from a remaining endpoint`);
      }
    }
    assert.ok(moved > keys.length * 0.05 && moved < keys.length * 0.15, `${moved} of ${keys.length} keys moved`);
  });

  it('gives endpoints points in proportion to their weights', () => {
    const hosts = makeHosts(2);
    const counts = spread(assign(new Ring(hosts, Float64Array.from([1, 3]), defaultRing)));
    const heavy = counts.get(hosts[1])! / keys.length;
    assert.ok(heavy > 0.65 && heavy < 0.85, `weight-3 endpoint got ${heavy}`);
  });

  it('moves to another point of the ring on a host selection retry', () => {
    const hosts = makeHosts(3);
    const ring = new Ring(hosts, unitWeights(3), defaultRing);
    let differs = 0;
    for (const k of keys.slice(0, 300)) if (ring.pick(k, 1) !== ring.pick(k, 0)) differs++;
    assert.ok(differs > 100, `only ${differs} of 300 retries moved`);
  });

  it('picks at random without a hash', () => {
    const hosts = makeHosts(3);
    const ring = new Ring(hosts, unitWeights(3), defaultRing);
    const counts = spread(Array.from({ length: 300 }, () => ring.pick()));
    assert.equal(counts.size, 3);
  });
});

describe('maglev', () => {
  it('maps a key to one endpoint, always, and spreads keys evenly over all endpoints', () => {
    const hosts = makeHosts(5);
    const table = new MaglevTable(hosts, unitWeights(5), 65537);
    const first = assign(table);
    assert.deepEqual(assign(new MaglevTable(hosts, unitWeights(5), 65537)), first);
    const counts = spread(first);
    assert.equal(counts.size, 5);
    for (const [, n] of counts) assert.ok(n > 20_000 / 5 * 0.8 && n < 20_000 / 5 * 1.2, `uneven spread: ${[...counts.values()]}`);
  });

  it('moves little more than the keys of a removed endpoint', () => {
    const hosts = makeHosts(10);
    const before = assign(new MaglevTable(hosts, unitWeights(10), 65537));
    const removed = hosts[6];
    const after = assign(new MaglevTable(hosts.filter((h) => h !== removed), unitWeights(9), 65537));
    let moved = 0;
    let movedFromRemaining = 0;
    for (let i = 0; i < keys.length; i++) {
      if (after[i] === before[i]) continue;
      moved++;
      if (before[i] !== removed) movedFromRemaining++;
    }
    // About 1/10 must move; Maglev's disruption adds a few percent of the keys on top.
    assert.ok(moved > keys.length * 0.05 && moved < keys.length * 0.2, `${moved} of ${keys.length} keys moved`);
    assert.ok(movedFromRemaining < keys.length * 0.02, `${movedFromRemaining} keys moved between remaining endpoints`);
  });

  it('fills the table in proportion to weights', () => {
    const hosts = makeHosts(2);
    const counts = spread(assign(new MaglevTable(hosts, Float64Array.from([1, 3]), 65537)));
    const heavy = counts.get(hosts[1])! / keys.length;
    assert.ok(heavy > 0.7 && heavy < 0.8, `weight-3 endpoint got ${heavy}`);
  });
});
