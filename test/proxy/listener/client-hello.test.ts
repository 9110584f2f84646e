// The ClientHello parser on real ClientHello bytes captured from node:tls: SNI and ALPN, a ClientHello
// fed a byte at a time, re-split into many records, one larger than a record, and what is not TLS
// (plaintext, corrupted bytes, truncated lengths) or too large.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientHelloParser, ClientHelloStatus } from '../../../src/proxy/listener/client-hello.ts';
import { captureClientHello } from '../support/client-hello-capture.ts';

let hello: Buffer;
let noSni: Buffer;
let large: Buffer;

before(async () => {
  hello = await captureClientHello({ servername: 'Reviews.Example.COM', ALPNProtocols: ['h2', 'http/1.1'] });
  noSni = await captureClientHello({});
  // 200 ALPN names of 100 bytes: a ClientHello of about 20 KiB, which TLS splits into two records.
  large = await captureClientHello({ servername: 'large.example.com', ALPNProtocols: Array.from({ length: 200 }, (_, i) => `p${i}-`.padEnd(100, 'x')) });
});

function parseAll(bytes: Buffer): { status: ClientHelloStatus; parser: ClientHelloParser } {
  const parser = new ClientHelloParser();
  return { status: parser.parse(bytes, bytes.length), parser };
}

/** The number of TLS records in `bytes`. */
function records(bytes: Buffer): number {
  let n = 0;
  for (let at = 0; at < bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) n++;
  return n;
}

/** The same handshake bytes re-split into records of at most `size` payload bytes (legal in TLS). */
function refragment(bytes: Buffer, size: number): Buffer {
  const payload: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) payload.push(bytes.subarray(at + 5, at + 5 + bytes.readUInt16BE(at + 3)));
  const handshake = Buffer.concat(payload);
  const out: Buffer[] = [];
  for (let at = 0; at < handshake.length; at += size) {
    const chunk = handshake.subarray(at, at + size);
    out.push(Buffer.from([0x16, 0x03, 0x01, chunk.length >> 8, chunk.length & 0xff]), chunk);
  }
  return Buffer.concat(out);
}

describe('ClientHello parser', () => {
  it('reads the SNI (lowercased) and the ALPN list of a node:tls ClientHello', () => {
    const { status, parser } = parseAll(hello);
    assert.equal(status, ClientHelloStatus.Found);
    assert.equal(parser.serverName, 'reviews.example.com');
    assert.deepEqual(parser.alpn, ['h2', 'http/1.1']);
  });

  it('finds a ClientHello without SNI or ALPN', () => {
    const { status, parser } = parseAll(noSni);
    assert.equal(status, ClientHelloStatus.Found);
    assert.equal(parser.serverName, '');
    assert.deepEqual(parser.alpn, []);
  });

  it('needs more until the last byte when fed one byte at a time', () => {
    const parser = new ClientHelloParser();
    for (let n = 1; n < hello.length; n++) assert.equal(parser.parse(hello, n), ClientHelloStatus.NeedMore, `after ${n} bytes`);
    assert.equal(parser.parse(hello, hello.length), ClientHelloStatus.Found);
    assert.equal(parser.serverName, 'reviews.example.com');
  });

  it('reassembles a ClientHello split into many small records', () => {
    const split = refragment(hello, 37);
    assert.ok(records(split) > 10);
    const { status, parser } = parseAll(split);
    assert.equal(status, ClientHelloStatus.Found);
    assert.deepEqual([parser.serverName, parser.alpn], ['reviews.example.com', ['h2', 'http/1.1']]);
  });

  it('reads a ClientHello larger than one record', () => {
    assert.equal(records(large), 2, 'node:tls split it into two records');
    const { status, parser } = parseAll(large);
    assert.equal(status, ClientHelloStatus.Found);
    assert.equal(parser.serverName, 'large.example.com');
    assert.equal(parser.alpn.length, 200);
  });

  it('is not TLS for plaintext, after the first byte', () => {
    const parser = new ClientHelloParser();
    assert.equal(parser.parse(Buffer.from('GET / HTTP/1.1\r\n'), 1), ClientHelloStatus.NotTls);
  });

  it('is not TLS for a handshake record that does not start with a ClientHello', () => {
    const serverHello = Buffer.from(hello);
    serverHello[5] = 2;
    assert.equal(parseAll(serverHello.subarray(0, 6)).status, ClientHelloStatus.NotTls);
  });

  it('is not TLS for another record type, an SSLv2-style hello or an oversized record', () => {
    assert.equal(parseAll(Buffer.from([0x17, 0x03, 0x03, 0x00, 0x10])).status, ClientHelloStatus.NotTls);
    assert.equal(parseAll(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01])).status, ClientHelloStatus.NotTls);
    assert.equal(parseAll(Buffer.from([0x16, 0x03, 0x01, 0x48, 0x01, 0x01])).status, ClientHelloStatus.NotTls);
  });

  it('is not TLS when a length inside the ClientHello is inconsistent', () => {
    const broken = Buffer.from(hello);
    // The session id length (after 4 + 2 + 32 bytes of the handshake) claims more than is there.
    broken[5 + 4 + 2 + 32] = 0xff;
    assert.equal(parseAll(broken).status, ClientHelloStatus.NotTls);
    const truncated = Buffer.from(hello);
    truncated.writeUIntBE(hello.readUIntBE(6, 3) - 10, 6, 3); // handshake shorter than its extensions say
    assert.equal(parseAll(truncated).status, ClientHelloStatus.NotTls);
  });

  it('is too large when the ClientHello says it is longer than 64 KiB', () => {
    const parser = new ClientHelloParser();
    assert.equal(parser.parse(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01, 0x00, 0x00]), 9), ClientHelloStatus.TooLarge);
  });

  it('never throws on corrupted ClientHellos and always answers', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const statuses = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(i % 2 === 0 ? hello : refragment(hello, 100));
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = random() < 0.3 ? Math.floor(random() * bytes.length) : bytes.length;
      const parser = new ClientHelloParser();
      const status = parser.parse(bytes, cut);
      assert.ok(status === ClientHelloStatus.NeedMore || status === ClientHelloStatus.Found || status === ClientHelloStatus.NotTls || status === ClientHelloStatus.TooLarge);
      statuses.add(status);
    }
    assert.ok(statuses.has(ClientHelloStatus.NotTls) && statuses.has(ClientHelloStatus.Found));
  });
});
