// `Expect: 100-continue`: the proxy answers `100 Continue` itself (as Envoy does unless
// proxy_100_continue), the client then sends the body, and the upstream gets the body without the
// Expect header; a request refused before it reaches an upstream (no route: 404) gets its answer
// without the client ever sending the body.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startProxy, type Proxy } from './support.ts';
import { header, type Message } from './wire.ts';

let proxy: Proxy;

before(async () => { proxy = await startProxy(); });
after(async () => { await proxy.close(); });

/** The first final (non-1xx) response, from the `from`th response on. */
async function finalResponse(client: RawClient, from = 0): Promise<{ response: Message; index: number }> {
  for (let i = from; ; i++) {
    const response = await client.response(i);
    if (response.status >= 200) return { response, index: i };
  }
}

describe('Expect: 100-continue', () => {
  it('answers 100 Continue before the body is sent, then the final response; the upstream gets the body', async () => {
    const mark = proxy.upstream.mark();
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('POST /expect HTTP/1.1\r\nhost: a\r\ncontent-length: 11\r\nexpect: 100-continue\r\n\r\n');
      const interim = await client.response(0);
      assert.equal(interim.startLine, 'HTTP/1.1 100 Continue');
      assert.equal(proxy.upstream.since(mark).length, 0, 'nothing complete reached the upstream yet');
      await client.write('hello world');
      const final = await client.response(1);
      assert.equal(final.status, 200);
      assert.equal(final.body.toString('latin1'), 'ok /expect');
    } finally {
      client.destroy();
    }
    const [request, ...more] = proxy.upstream.since(mark);
    assert.deepEqual(more, []);
    assert.equal(request.body.toString('latin1'), 'hello world');
    assert.equal(header(request, 'expect'), undefined, 'the proxy handled the expectation itself');
  });

  it('answers 100 Continue to a chunked request too', async () => {
    const mark = proxy.upstream.mark();
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('POST /expect-chunked HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\nexpect: 100-continue\r\n\r\n');
      assert.equal((await client.response(0)).status, 100);
      await client.write('5\r\nhello\r\n0\r\n\r\n');
      assert.equal((await client.response(1)).status, 200);
    } finally {
      client.destroy();
    }
    assert.equal(proxy.upstream.since(mark)[0].body.toString('latin1'), 'hello');
  });

  it('answers 404 to an Expect request that no route matches, without the body being sent', async () => {
    const mark = proxy.upstream.mark();
    const client = await RawClient.connect(proxy.port);
    try {
      await client.write('POST /anything HTTP/1.1\r\nhost: nowhere.test\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n');
      // Envoy, like node:http, may send 100 Continue before routing; the 404 must come regardless.
      const { response } = await finalResponse(client);
      assert.equal(response.status, 404);
    } finally {
      client.destroy();
    }
    assert.equal(proxy.upstream.streams.length - mark.connections, 0, 'no upstream connection was made');
    assert.equal(proxy.upstream.since(mark).length, 0);
  });
});
