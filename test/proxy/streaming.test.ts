// Bodies are streamed with backpressure both ways, never buffered whole: while the receiving end does
// not read, the sending end stalls after a bounded amount (socket buffers, not the body), and once it
// reads, every byte arrives in order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { gate, waitFor } from './support/wait.ts';

const bodyBytes = 50 * 1024 * 1024;
const chunkBytes = 64 * 1024;
/** The proxy must not hold more than this much of a body: well under the body's size. */
const bound = bodyBytes / 2;

const harness = new Harness();
const uploadReading = gate();
const downloadWriter = { written: 0, waitingSince: 0, digest: '' };
let upstream: Upstream;
let port = 0;

/** Chunk i of the test body: random bytes stamped with i, so that loss or reordering changes the hash. */
const base = Buffer.alloc(chunkBytes);
for (let i = 0; i < chunkBytes; i++) base[i] = (i * 7919) & 0xff;
function chunk(i: number): Buffer {
  const c = Buffer.from(base);
  c.writeUInt32BE(i, 0);
  return c;
}
const expectedDigest = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < bodyBytes / chunkBytes; i++) h.update(chunk(i));
  return h.digest('hex');
})();

/** Writes the body to `out` honouring write() === false, recording when it waits for 'drain'. */
async function writeBody(out: NodeJS.WritableStream, state: { written: number; waitingSince: number }): Promise<void> {
  for (let i = 0; i < bodyBytes / chunkBytes; i++) {
    state.written += chunkBytes;
    if (!out.write(chunk(i))) {
      state.waitingSince = Date.now();
      await new Promise((r) => out.once('drain', r));
      state.waitingSince = 0;
    }
  }
  out.end();
}

const stalled = (state: { written: number; waitingSince: number }) => () => ({
  written: state.written,
  stalledMs: state.waitingSince === 0 ? 0 : Date.now() - state.waitingSince,
});

before(async () => {
  upstream = await startUpstream('bulk', (req, res) => {
    if (req.url === '/upload') {
      void uploadReading.promise.then(() => {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => { h.update(c); n += c.length; });
        req.on('end', () => res.end(JSON.stringify({ bytes: n, digest: h.digest('hex') })));
      });
    } else if (req.url === '/chunked') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one,');
      setImmediate(() => { res.write('two,'); setImmediate(() => res.end('three')); });
    } else {
      req.resume();
      res.writeHead(200, { 'content-length': String(bodyBytes) });
      void writeBody(res, downloadWriter);
    }
  });
  await harness.apply({
    clusters: [edsCluster('bulk')],
    endpoints: [assignment('bulk', [upstream.port])],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('bulk', { timeout: { seconds: '0' } }))])])],
  });
  port = harness.port();
});

after(async () => {
  uploadReading.open();
  await harness.close();
  await upstream.close();
});

describe('streaming a 50 MB body', () => {
  it('upload: the client stalls while the upstream does not read, then every byte arrives', async () => {
    const client = { written: 0, waitingSince: 0 };
    const reply = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      void writeBody(req, client);
    });
    const seen = await waitFor('the client to stall on backpressure', stalled(client), (s) => s.stalledMs > 300, 20_000);
    assert.ok(seen.written < bound, `the client could push ${seen.written} bytes before stalling: the proxy buffers`);
    uploadReading.open();
    assert.deepEqual(JSON.parse(await reply), { bytes: bodyBytes, digest: expectedDigest });
  });

  it('download: the upstream stalls while the client does not read, then every byte arrives', async () => {
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/download', agent: false }, resolve).on('error', reject);
    });
    response.pause();
    const seen = await waitFor('the upstream to stall on backpressure', stalled(downloadWriter), (s) => s.stalledMs > 300, 20_000);
    assert.ok(seen.written < bound, `the upstream could push ${seen.written} bytes before stalling: the proxy buffers`);
    const h = createHash('sha256');
    let n = 0;
    response.on('data', (c: Buffer) => { h.update(c); n += c.length; });
    response.resume();
    await new Promise((r) => response.on('end', r));
    assert.equal(n, bodyBytes);
    assert.equal(h.digest('hex'), expectedDigest);
  });

  it('passes a response of unknown length (chunked) through whole', async () => {
    const reply = await send(port, '/chunked');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'one,two,three');
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
  });
});
