// Upstream responses whose framing is ambiguous or malformed: both Content-Length and
// Transfer-Encoding, two different Content-Lengths, a folded or LF-terminated header line, an invalid
// chunk size. The client never gets the bytes the upstream hid behind the first response as a
// response of its own, and the connection carries the next request normally.
//
// Envoy answers such a response (before its headers are relayed) with 502 and "upstream connect
// error or disconnect/reset before headers. reset reason: protocol error" (response flag UPE), and so
// does this proxy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startProxy, type Proxy } from './support.ts';
import type { Message } from './wire.ts';

let proxy: Proxy;

before(async () => { proxy = await startProxy(); });
after(async () => { await proxy.close(); });

const hidden = 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled';
const protocolError = 'upstream connect error or disconnect/reset before headers. reset reason: protocol error';

type Case = { name: string; path: string; reply: string };

const beforeHeaders: Case[] = [
  {
    name: 'both Content-Length and Transfer-Encoding',
    path: '/cl-and-te',
    reply: `HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`,
  },
  {
    name: 'both Content-Length and Transfer-Encoding, agreeing on an empty body',
    path: '/cl-and-te-agreeing',
    reply: `HTTP/1.1 200 OK\r\ncontent-length: 0\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`,
  },
  {
    name: 'two different Content-Lengths',
    path: '/two-lengths',
    reply: `HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: ${2 + hidden.length}\r\n\r\nok${hidden}`,
  },
  {
    name: 'a folded header line (obs-fold)',
    path: '/obs-fold',
    reply: `HTTP/1.1 200 OK\r\nx-folded: a\r\n content-length: 0\r\ncontent-length: ${hidden.length}\r\n\r\n${hidden}`,
  },
  {
    name: 'bare LF line endings',
    path: '/bare-lf',
    reply: `HTTP/1.1 200 OK\ncontent-length: 0\n\n${hidden}`,
  },
];

/** Sends a request for `path`, answered by `reply`; then a second request on the same connection, if still open. */
async function exchangeBadReply(path: string, reply: string): Promise<{ first: Message | null; client: RawClient }> {
  proxy.upstream.replies.set(path, { bytes: reply });
  const client = await RawClient.connect(proxy.port);
  await client.write(`GET ${path} HTTP/1.1\r\nhost: a\r\n\r\n`);
  const first = await client.response(0).catch(() => null);
  if (!client.closed) {
    await client.write('GET /next HTTP/1.1\r\nhost: a\r\n\r\n');
    assert.equal((await client.response(1)).body.toString('latin1'), 'ok /next', 'the next request gets its own response');
  }
  return { first, client };
}

describe('upstream response framing errors', () => {
  for (const c of beforeHeaders) {
    it(`never relays a response hidden behind one with ${c.name}`, async () => {
      const { first, client } = await exchangeBadReply(c.path, c.reply);
      try {
        assert.ok(first !== null, 'the client gets an answer');
        assert.ok(first.status >= 500, `status line ${first.startLine}`);
        assert.doesNotMatch(client.received, /smuggled/);
        assert.equal(client.wireError, null);
      } finally {
        client.destroy();
      }
    });

    it(`answers 502 "protocol error" to a response with ${c.name}`, async () => {
      const { first, client } = await exchangeBadReply(`${c.path}-502`, c.reply);
      client.destroy();
      assert.equal(first?.status, 502);
      assert.equal(first?.body.toString('latin1'), protocolError);
    });
  }

  it('aborts the response, never relays a hidden one, when a chunk size is invalid', async () => {
    proxy.upstream.replies.set('/bad-chunk', { bytes: `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n${hidden}` });
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /bad-chunk HTTP/1.1\r\nhost: a\r\n\r\n');
      await client.waitClosed();
      // Whatever was relayed (nothing, or a head then an abort), no complete 2xx response arrived.
      assert.ok(client.responses.every((r) => r.status >= 500), `received ${JSON.stringify(client.received)}`);
      assert.doesNotMatch(client.received, /smuggled/);
    } finally {
      client.destroy();
    }
  });

  it('does not relay a response whose transfer-coding it cannot decode ("gzip, chunked") as if it were plain', async () => {
    proxy.upstream.replies.set('/te-gzip', { bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' });
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /te-gzip HTTP/1.1\r\nhost: a\r\n\r\n');
      assert.equal((await client.response(0)).status, 502);
    } finally {
      client.destroy();
    }
  });
});
