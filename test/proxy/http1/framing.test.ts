// Message bodies across the proxy, byte for byte on both sides: chunked and Content-Length request
// bodies reach the upstream intact (the proxy may re-frame them; the decoded body is what counts),
// chunked, Content-Length and read-until-close responses reach the client intact, and the connection
// stays in step for the next request.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support/wait.ts';
import { deadlineMs, RawClient, exchange, startProxy, type Proxy } from './support.ts';
import { header } from './wire.ts';

let proxy: Proxy;

before(async () => { proxy = await startProxy(); });
after(async () => { await proxy.close(); });

/** Sends `bytes`, expects a 200 and returns the one request the upstream received for it. */
async function forwarded(bytes: string, path: string) {
  const mark = proxy.upstream.mark();
  const client = await exchange(proxy.port, bytes);
  try {
    const response = await client.response(0);
    assert.equal(response.status, 200, `status line ${response.startLine}`);
    assert.equal(response.body.toString('latin1'), `ok ${path}`);
  } finally {
    client.destroy();
  }
  const [request, ...more] = proxy.upstream.since(mark);
  assert.deepEqual(more, []);
  assert.equal(request.method, 'POST');
  assert.equal(request.target, path);
  return request;
}

describe('request bodies', () => {
  it('forwards a chunked request body intact', async () => {
    const request = await forwarded('POST /chunked HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', '/chunked');
    assert.equal(request.body.toString('latin1'), 'hello world');
  });

  it('forwards a chunked body with chunk extensions and a trailer section intact', async () => {
    const request = await forwarded(
      'POST /extensions HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n'
      + '5;name=value\r\nhello\r\n6;flag;quoted="a b"\r\n world\r\n0;last\r\nx-checksum: 42\r\nx-other: yes\r\n\r\n',
      '/extensions',
    );
    assert.equal(request.body.toString('latin1'), 'hello world');
    // Envoy drops request trailers unless http_protocol_options.enable_trailers; a trailer never becomes a header.
    assert.equal(header(request, 'x-checksum'), undefined);
  });

  it('forwards a zero-length chunked body, and the connection stays in step for the next request', async () => {
    const mark = proxy.upstream.mark();
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('POST /empty-chunked HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n');
      assert.equal((await client.response(0)).body.toString('latin1'), 'ok /empty-chunked');
      await client.write('GET /after-empty HTTP/1.1\r\nhost: a\r\n\r\n');
      assert.equal((await client.response(1)).body.toString('latin1'), 'ok /after-empty');
    } finally {
      client.destroy();
    }
    const [first, second] = proxy.upstream.since(mark);
    assert.equal(first.target, '/empty-chunked');
    assert.equal(first.body.length, 0);
    assert.equal(second.target, '/after-empty');
  });

  it('forwards a Content-Length request body intact', async () => {
    const request = await forwarded('POST /length HTTP/1.1\r\nhost: a\r\ncontent-length: 11\r\n\r\nhello world', '/length');
    assert.equal(request.body.toString('latin1'), 'hello world');
    assert.equal(header(request, 'content-length'), '11');
  });

  it('forwards a large chunked body written in pieces intact', async () => {
    const mark = proxy.upstream.mark();
    const client = await RawClient.connect(proxy.port);
    const piece = Buffer.alloc(16 * 1024);
    let expected = '';
    try {
      await client.write('POST /large HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n');
      for (let i = 0; i < 32; i++) {
        piece.fill(97 + (i % 26));
        expected += piece.toString('latin1');
        await client.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
      }
      await client.write('0\r\n\r\n');
      assert.equal((await client.response(0)).status, 200);
    } finally {
      client.destroy();
    }
    const [request] = proxy.upstream.since(mark);
    assert.equal(request.body.length, expected.length);
    assert.ok(request.body.toString('latin1') === expected, 'the body arrived byte for byte');
  });
});

describe('response bodies', () => {
  it('relays a chunked response intact', async () => {
    proxy.upstream.replies.set('/chunked-response', { bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n' });
    const client = await exchange(proxy.port, 'GET /chunked-response HTTP/1.1\r\nhost: a\r\n\r\n');
    try {
      const response = await client.response(0);
      assert.equal(response.status, 200);
      assert.equal(response.body.toString('latin1'), 'hello, world');
      // The connection carries the next request: the response was framed exactly.
      await client.write('GET /after-chunked HTTP/1.1\r\nhost: a\r\n\r\n');
      assert.equal((await client.response(1)).body.toString('latin1'), 'ok /after-chunked');
    } finally {
      client.destroy();
    }
  });

  it('relays a Content-Length response intact', async () => {
    proxy.upstream.replies.set('/length-response', { bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 12\r\nx-from: upstream\r\n\r\nhello, world' });
    const client = await exchange(proxy.port, 'GET /length-response HTTP/1.1\r\nhost: a\r\n\r\n');
    try {
      const response = await client.response(0);
      assert.equal(response.status, 200);
      assert.equal(header(response, 'content-length'), '12');
      assert.equal(header(response, 'x-from'), 'upstream');
      assert.equal(response.body.toString('latin1'), 'hello, world');
    } finally {
      client.destroy();
    }
  });

  it('relays a response with neither Content-Length nor Transfer-Encoding, read until the upstream closes', async () => {
    proxy.upstream.replies.set('/until-close', { bytes: 'HTTP/1.1 200 OK\r\nx-from: upstream\r\n\r\nthe body ends when the connection does', close: true });
    const client = await exchange(proxy.port, 'GET /until-close HTTP/1.1\r\nhost: a\r\n\r\n');
    try {
      const response = await client.response(0);
      assert.equal(response.status, 200);
      assert.equal(response.body.toString('latin1'), 'the body ends when the connection does');
    } finally {
      client.destroy();
    }
  });

  it('relays the response head before the body arrives', async () => {
    // The upstream sends the head of a chunked response and nothing more (a stream that has not started yet).
    proxy.upstream.replies.set('/head-first', { bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-from: upstream\r\n\r\n' });
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /head-first HTTP/1.1\r\nhost: a\r\n\r\n');
      await waitFor('the response head', () => client.received, (r) => r.includes('\r\n\r\n'), deadlineMs);
      assert.match(client.received, /^HTTP\/1\.1 200 /);
    } finally {
      client.destroy();
    }
  });

  it('relays a 204 and a 304 without a body, and the connection stays in step', async () => {
    proxy.upstream.replies.set('/no-content', { bytes: 'HTTP/1.1 204 No Content\r\n\r\n' });
    proxy.upstream.replies.set('/not-modified', { bytes: 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n' });
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /no-content HTTP/1.1\r\nhost: a\r\n\r\n');
      assert.equal((await client.response(0)).status, 204);
      await client.write('GET /not-modified HTTP/1.1\r\nhost: a\r\n\r\n');
      assert.equal((await client.response(1)).status, 304);
      await client.write('GET /after-304 HTTP/1.1\r\nhost: a\r\n\r\n');
      assert.equal((await client.response(2)).body.toString('latin1'), 'ok /after-304');
      assert.equal(client.wireError, null);
    } finally {
      client.destroy();
    }
  });
});
