// HTTP/1.1 pipelining: requests written back to back in one write on one connection are all
// answered, in the order they were sent, each response complete with its own body, even when the
// upstream answers the first one last.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { okReply, RawClient, startProxy, type Proxy } from './support.ts';

let proxy: Proxy;

before(async () => { proxy = await startProxy(); });
after(async () => { await proxy.close(); });

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: a\r\n\r\n`;

async function pipelined(bytes: string, paths: string[]): Promise<void> {
  const client = await RawClient.connect(proxy.port);
  try {
    await client.write(bytes);
    for (let i = 0; i < paths.length; i++) {
      const response = await client.response(i);
      assert.equal(response.status, 200, `response #${i + 1}: ${response.startLine}`);
      assert.equal(response.body.toString('latin1'), `ok ${paths[i]}`, `response #${i + 1} answers ${paths[i]}`);
    }
    assert.equal(client.wireError, null);
    assert.equal(client.closed, false, 'the connection stays open');
  } finally {
    client.destroy();
  }
}

describe('pipelining', () => {
  it('answers two requests written in one write, in order', async () => {
    await pipelined(get('/two-1') + get('/two-2'), ['/two-1', '/two-2']);
  });

  it('answers three requests written in one write, in order', async () => {
    await pipelined(get('/three-1') + get('/three-2') + get('/three-3'), ['/three-1', '/three-2', '/three-3']);
  });

  it('answers a request pipelined after a POST with a body, and the upstream sees both intact', async () => {
    const mark = proxy.upstream.mark();
    await pipelined(
      `POST /post-first HTTP/1.1\r\nhost: a\r\ncontent-length: 11\r\n\r\nhello world${get('/after-post')}`
      + `POST /chunked-second HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${get('/after-chunked')}`,
      ['/post-first', '/after-post', '/chunked-second', '/after-chunked'],
    );
    const seen = proxy.upstream.since(mark).map((r) => [r.method, r.target, r.body.toString('latin1')]);
    assert.deepEqual(seen.sort((a, b) => a[1].localeCompare(b[1])), [
      ['GET', '/after-chunked', ''],
      ['GET', '/after-post', ''],
      ['POST', '/chunked-second', 'abc'],
      ['POST', '/post-first', 'hello world'],
    ]);
  });

  it('keeps the order when the upstream answers the first request last', async () => {
    const mark = proxy.upstream.mark();
    // The first answer waits until the second request reached the upstream (or a moment passed, for a
    // proxy that forwards pipelined requests one at a time).
    const secondArrived = Promise.race([
      proxy.upstream.waitRequests(mark, 2).catch(() => {}),
      new Promise((r) => setTimeout(r, 300)),
    ]);
    proxy.upstream.replies.set('/slow-first', { ...okReply('ok /slow-first'), after: secondArrived });
    await pipelined(get('/slow-first') + get('/fast-second'), ['/slow-first', '/fast-second']);
  });
});
