// How the proxy reads a peer certificate's SANs from node:tls's text form: values node quotes (they
// hold a comma or a quote) stay one value, so a certificate cannot smuggle a second identity in a SAN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { subjectAltNames } from '../../src/proxy/tls/san-matcher.ts';

const sans = (text: string) => subjectAltNames({ subjectaltname: text } as PeerCertificate);

test('plain SAN entries of several types are read in order', () => {
  assert.deepEqual(sans('DNS:a.example.com, URI:spiffe://cluster.local/ns/foo/sa/bar, IP Address:127.0.0.1'), [
    { type: 'DNS', value: 'a.example.com' },
    { type: 'URI', value: 'spiffe://cluster.local/ns/foo/sa/bar' },
    { type: 'IP_ADDRESS', value: '127.0.0.1' },
  ]);
});

test('a quoted value holding ", URI:" stays one value and does not become a second identity', () => {
  const text = 'URI:"spiffe://evil.example/x, URI:spiffe://cluster.local/ns/foo/sa/admin", DNS:b.example.com';
  assert.deepEqual(sans(text), [
    { type: 'URI', value: 'spiffe://evil.example/x, URI:spiffe://cluster.local/ns/foo/sa/admin' },
    { type: 'DNS', value: 'b.example.com' },
  ]);
});

test('a quoted value with an escaped quote is decoded; a malformed one is left out without throwing', () => {
  assert.deepEqual(sans('URI:"spiffe://x/a\\"b", DNS:c.example.com'), [
    { type: 'URI', value: 'spiffe://x/a"b' },
    { type: 'DNS', value: 'c.example.com' },
  ]);
  assert.deepEqual(sans('URI:"spiffe://x/unterminated'), []);
});
