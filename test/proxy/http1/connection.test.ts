// Connection management headers: `Connection: close` from the client and an HTTP/1.0 request without
// keep-alive close the connection after the response; an HTTP/1.1 connection otherwise stays open;
// hop-by-hop headers (the standard ones and those the Connection header lists) never reach the upstream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startProxy, type Proxy } from './support.ts';
import { header } from './wire.ts';

let proxy: Proxy;

before(async () => { proxy = await startProxy(); });
after(async () => { await proxy.close(); });

describe('connection handling', () => {
  it('closes the connection after the response to a request with Connection: close', async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /close HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
      const response = await client.response(0);
      assert.equal(response.body.toString('latin1'), 'ok /close');
      assert.equal(header(response, 'connection')?.toLowerCase(), 'close');
      await client.waitClosed();
      assert.equal(client.responses.length, 1);
    } finally {
      client.destroy();
    }
  });

  it('closes the connection after the response to an HTTP/1.0 request without keep-alive', async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /http10 HTTP/1.0\r\nhost: a\r\n\r\n');
      const response = await client.response(0);
      assert.equal(response.status, 200);
      assert.equal(response.body.toString('latin1'), 'ok /http10');
      await client.waitClosed();
    } finally {
      client.destroy();
    }
  });

  it('keeps an HTTP/1.1 connection open for the next request', async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      for (let i = 0; i < 3; i++) {
        await client.write(`GET /keep-${i} HTTP/1.1\r\nhost: a\r\n\r\n`);
        assert.equal((await client.response(i)).body.toString('latin1'), `ok /keep-${i}`);
      }
      assert.equal(client.closed, false);
    } finally {
      client.destroy();
    }
  });

  it('does not forward hop-by-hop headers, nor those the Connection header lists', async () => {
    const mark = proxy.upstream.mark();
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /hop HTTP/1.1\r\nhost: a\r\nconnection: keep-alive, x-hop-one, X-Hop-Two\r\n'
        + 'keep-alive: timeout=5\r\nproxy-connection: keep-alive\r\nx-hop-one: secret\r\nx-hop-two: secret\r\nx-kept: yes\r\n\r\n');
      assert.equal((await client.response(0)).status, 200);
    } finally {
      client.destroy();
    }
    const [request] = proxy.upstream.since(mark);
    for (const name of ['x-hop-one', 'x-hop-two', 'keep-alive', 'proxy-connection']) {
      assert.equal(header(request, name), undefined, `${name} was forwarded`);
    }
    assert.doesNotMatch(header(request, 'connection') ?? '', /x-hop/i);
    assert.equal(header(request, 'x-kept'), 'yes');
  });

  it('does not relay hop-by-hop response headers, nor those the upstream Connection header lists', async () => {
    proxy.upstream.replies.set('/hop-response', {
      bytes: 'HTTP/1.1 200 OK\r\nconnection: x-private\r\nx-private: secret\r\nkeep-alive: timeout=5\r\nx-public: yes\r\ncontent-length: 2\r\n\r\nok',
    });
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('GET /hop-response HTTP/1.1\r\nhost: a\r\n\r\n');
      const response = await client.response(0);
      assert.equal(response.body.toString('latin1'), 'ok');
      assert.equal(header(response, 'x-private'), undefined);
      // node:http adds its own `Keep-Alive: timeout=<idle timeout>` (Envoy sends none); the upstream's is never relayed.
      assert.notEqual(header(response, 'keep-alive'), 'timeout=5');
      assert.equal(header(response, 'x-public'), 'yes');
    } finally {
      client.destroy();
    }
  });
});
