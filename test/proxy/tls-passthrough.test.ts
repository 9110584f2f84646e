// TLS passthrough by SNI: one listener with tls_inspector, filter chains matched on server_names (exact
// and wildcard), transport_protocol and ALPN, each forwarding the untouched TLS bytes with tcp_proxy to
// a real TLS server. The client verifies the upstream's certificate for the name it asked for, so a
// completed handshake proves the proxy neither terminated TLS nor changed a byte. Garbage on the
// listener closes that connection only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain, tcpProxy, tlsInspector } from './support/listener-resources.ts';
import { assignment, edsCluster } from './support/resources.ts';
import { makeCertificates, type TestCertificates } from './support/tls-certs.ts';
import { startTcpUpstream, startTlsUpstream, whoAnswers, type TcpUpstream } from './support/tcp-upstream.ts';
import { waitFor } from './support/wait.ts';

const names = ['a.example.com', 'b.example.com', '*.wild.example.com', 'exact.wild.example.com', 'alpn.example.com'];
let certs: TestCertificates;
const up: Record<string, TcpUpstream> = {};
let harness: Harness;
let port: number;

const cert = (name: string) => certs.certificates.get(name)!;

const chains = () => [
  filterChain(tcpProxy('a', 'tls-a'), { server_names: ['a.example.com'], transport_protocol: 'tls' }, 'a'),
  filterChain(tcpProxy('b', 'tls-b'), { server_names: ['B.example.com'], transport_protocol: 'tls' }, 'b'),
  filterChain(tcpProxy('wild', 'tls-wild'), { server_names: ['*.wild.example.com'] }, 'wild'),
  filterChain(tcpProxy('exact', 'tls-exact'), { server_names: ['exact.wild.example.com'] }, 'exact'),
  filterChain(tcpProxy('alpn-h2', 'alpn-h2'), { server_names: ['alpn.example.com'], application_protocols: ['h2'] }, 'alpn-h2'),
  filterChain(tcpProxy('alpn-other', 'alpn-other'), { server_names: ['alpn.example.com'] }, 'alpn-other'),
];

before(async () => {
  certs = await makeCertificates(names);
  up['tls-a'] = await startTlsUpstream('tls-a', cert('a.example.com'));
  up['tls-b'] = await startTlsUpstream('tls-b', cert('b.example.com'));
  up['tls-wild'] = await startTlsUpstream('tls-wild', cert('*.wild.example.com'));
  up['tls-exact'] = await startTlsUpstream('tls-exact', cert('exact.wild.example.com'));
  up['alpn-h2'] = await startTlsUpstream('alpn-h2', { ...cert('alpn.example.com'), ALPNProtocols: ['h2', 'http/1.1'] });
  up['alpn-other'] = await startTlsUpstream('alpn-other', { ...cert('alpn.example.com'), ALPNProtocols: ['h2', 'http/1.1'] });
  up.plain = await startTcpUpstream('plain');
  harness = new Harness({ drainTimeoutMs: 200 });
  const clusters = Object.keys(up);
  await harness.apply({
    clusters: clusters.map((c) => edsCluster(c)),
    endpoints: clusters.map((c) => assignment(c, [up[c].port])),
    listeners: [chainsListener('tls', chains(), { listenerFilters: [tlsInspector] })],
  });
  port = harness.port('tls');
});

after(async () => {
  await harness?.close();
  for (const u of Object.values(up)) await u.close();
  await certs?.remove();
});

type Answer = { commonName: string; greeting: string; alpn: string | false };

/** A TLS client through the proxy, verifying the server for `servername` against `ca`; resolves with what it saw. */
function tlsRequest(servername: string, ca: Buffer, options: { alpn?: string[]; socket?: Duplex; listenerPort?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1', port: options.listenerPort ?? port, servername, ca, ALPNProtocols: options.alpn,
      ...(options.socket ? { socket: options.socket } : {}),
    });
    let data = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no greeting from the upstream for ${servername}`)));
    socket.on('data', (chunk: string) => {
      data += chunk;
      const nl = data.indexOf('\n');
      if (nl < 0) return;
      const peer = socket.getPeerCertificate();
      resolve({ commonName: String(peer.subject.CN), greeting: data.slice(0, nl), alpn: socket.alpnProtocol ?? false });
      socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before the greeting (${servername})`)));
  });
}

/**
 * A duplex over a TCP connection to the proxy that writes what TLS gives it one byte per event-loop
 * turn (no Nagle), so the ClientHello reaches the proxy in many small reads.
 */
async function drippingConnection(listenerPort: number): Promise<Duplex> {
  const raw = net.connect(listenerPort, '127.0.0.1');
  raw.setNoDelay(true);
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      (async () => {
        for (const byte of chunk) {
          if (raw.destroyed) throw new Error('connection closed');
          raw.write(Buffer.of(byte));
          await new Promise((r) => setImmediate(r));
        }
      })().then(() => callback(), callback);
    },
    read() {},
    final(callback) {
      raw.end();
      callback();
    },
    destroy(err, callback) {
      raw.destroy();
      callback(err);
    },
  });
  raw.on('data', (d: Buffer) => duplex.push(d));
  raw.on('end', () => duplex.push(null));
  raw.on('error', (err) => duplex.destroy(err));
  await once(raw, 'connect');
  return duplex;
}

/** Sends raw bytes to the proxy; resolves when the proxy closes the connection, with what came back. */
function sendRaw(bytes: Buffer, options: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => { data += c; });
    socket.on('error', () => {});
    socket.on('close', () => resolve(data));
    socket.write(bytes);
    if (options.end) socket.end();
  });
}

const listenerStats = () => harness.stats.listener(`127.0.0.1_${port}`);

describe('TLS passthrough by SNI', () => {
  it('sends each server name to its own upstream, with the TLS handshake done end to end', async () => {
    const a = await tlsRequest('a.example.com', cert('a.example.com').cert);
    assert.deepEqual(a, { commonName: 'a.example.com', greeting: 'tls-a', alpn: false });
    const b = await tlsRequest('b.example.com', cert('b.example.com').cert);
    assert.deepEqual(b, { commonName: 'b.example.com', greeting: 'tls-b', alpn: false });
  });

  it('matches server names case-insensitively', async () => {
    const b = await tlsRequest('B.EXAMPLE.com', cert('b.example.com').cert);
    assert.equal(b.greeting, 'tls-b');
  });

  it('matches a wildcard server name, and prefers an exact one', async () => {
    const wild = await tlsRequest('x.wild.example.com', cert('*.wild.example.com').cert);
    assert.deepEqual([wild.commonName, wild.greeting], ['*.wild.example.com', 'tls-wild']);
    const exact = await tlsRequest('exact.wild.example.com', cert('exact.wild.example.com').cert);
    assert.deepEqual([exact.commonName, exact.greeting], ['exact.wild.example.com', 'tls-exact']);
  });

  it('matches on the ALPN of the ClientHello', async () => {
    const h2 = await tlsRequest('alpn.example.com', cert('alpn.example.com').cert, { alpn: ['h2', 'http/1.1'] });
    assert.deepEqual([h2.greeting, h2.alpn], ['alpn-h2', 'h2']);
    const other = await tlsRequest('alpn.example.com', cert('alpn.example.com').cert, { alpn: ['http/1.1'] });
    assert.deepEqual([other.greeting, other.alpn], ['alpn-other', 'http/1.1']);
    const none = await tlsRequest('alpn.example.com', cert('alpn.example.com').cert);
    assert.equal(none.greeting, 'alpn-other');
  });

  it('reads a ClientHello sent one byte at a time', async () => {
    const answer = await tlsRequest('a.example.com', cert('a.example.com').cert, { socket: await drippingConnection(port) });
    assert.deepEqual(answer, { commonName: 'a.example.com', greeting: 'tls-a', alpn: false });
  });

  it('closes a connection whose server name no chain has', async () => {
    const before = listenerStats().noFilterChainMatch;
    await assert.rejects(tlsRequest('nobody.example.com', cert('a.example.com').cert));
    assert.equal(listenerStats().noFilterChainMatch, before + 1);
  });
});

describe('garbage on a TLS-inspecting listener', () => {
  it('closes a plaintext connection that no chain takes, and keeps serving', async () => {
    const before = listenerStats().noFilterChainMatch;
    assert.equal(await sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), '');
    assert.equal(listenerStats().noFilterChainMatch, before + 1);
    assert.equal((await tlsRequest('a.example.com', cert('a.example.com').cert)).greeting, 'tls-a');
  });

  it('closes a connection of random bytes that start like a TLS record, and keeps serving', async () => {
    const bytes = Buffer.alloc(512);
    let seed = 7;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16;
    // A handshake record of 507 bytes holding a whole ClientHello (503 bytes) of TLS 1.2 whose content is noise.
    bytes.set([0x16, 0x03, 0x01, 0x01, 0xfb, 0x01, 0x00, 0x01, 0xf7, 0x03, 0x03], 0);
    assert.equal(await sendRaw(bytes), '');
    assert.equal((await tlsRequest('b.example.com', cert('b.example.com').cert)).greeting, 'tls-b');
  });

  it('closes a connection whose ClientHello would be larger than 64 KiB', async () => {
    const before = listenerStats().downstreamListenerFilterError;
    const header = Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff]);
    assert.equal(await sendRaw(header), '');
    assert.equal(listenerStats().downstreamListenerFilterError, before + 1);
  });

  it('closes a connection whose peer ends it in the middle of a ClientHello', async () => {
    const before = listenerStats().downstreamListenerFilterRemoteClose;
    assert.equal(await sendRaw(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), { end: true }), '');
    assert.equal(listenerStats().downstreamListenerFilterRemoteClose, before + 1);
    await waitFor('no connection left in listener filters', () => listenerStats().downstreamPreCxActive, (n) => n === 0);
  });
});

describe('tls_inspector with raw_buffer chains and listener_filters_timeout', () => {
  /** Another listener: TLS to tls-a, anything else (default_filter_chain) to the plain TCP upstream. */
  const extraListener = async (name: string, extra: Record<string, unknown>): Promise<number> => {
    await harness.dataPlane.updateListeners([
      chainsListener('tls', chains(), { listenerFilters: [tlsInspector] }),
      chainsListener(name, [filterChain(tcpProxy(`${name}-tls`, 'tls-a'), { transport_protocol: 'tls' })], {
        listenerFilters: [tlsInspector], extra, defaultChain: filterChain(tcpProxy(`${name}-raw`, 'plain')),
      }),
    ]);
    return harness.port(name);
  };

  it('routes plaintext to the default chain and TLS to the tls chain of the same listener', async () => {
    const p = await extraListener('mixed', {});
    const plain = new Promise<string>((resolve) => {
      const socket = net.connect(p, '127.0.0.1');
      socket.setEncoding('utf8');
      let data = '';
      socket.on('data', (c: string) => {
        data += c;
        if (data.includes('hello')) { socket.destroy(); resolve(data); }
      });
      socket.write('hello');
    });
    assert.equal(await plain, 'plain\nhello');
    const answer = await tlsRequest('a.example.com', cert('a.example.com').cert, { listenerPort: p });
    assert.deepEqual([answer.commonName, answer.greeting], ['a.example.com', 'tls-a']);
  });

  it('continues to the filter chains after listener_filters_timeout when told to', async () => {
    const p = await extraListener('server-first', { listener_filters_timeout: { nanos: 100_000_000 }, continue_on_listener_filters_timeout: true });
    // The client waits for the server to speak first: only the timeout lets the connection go on.
    assert.equal(await whoAnswers(p), 'plain');
    assert.ok(harness.stats.listener(`127.0.0.1_${p}`).downstreamPreCxTimeout >= 1);
  });

  it('closes the connection at listener_filters_timeout by default', async () => {
    const p = await extraListener('impatient', { listener_filters_timeout: { nanos: 100_000_000 } });
    assert.equal(await whoAnswers(p), null);
    assert.equal(harness.stats.listener(`127.0.0.1_${p}`).downstreamPreCxTimeout, 1);
  });
});
