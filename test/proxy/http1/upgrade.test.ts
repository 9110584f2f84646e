// `Upgrade: websocket` on the wire: with upgrade_configs enabling it, the request reaches the upstream
// with its Upgrade and Connection headers, the 101 comes back and bytes then flow both ways untouched;
// without it, the proxy answers 403 itself (Envoy: sendLocalReply(Forbidden, "", ... "upgrade_failed"))
// and nothing reaches the upstream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startProxy, type Proxy } from './support.ts';
import { header } from './wire.ts';

let allowed: Proxy;
let refused: Proxy;

before(async () => {
  allowed = await startProxy({ upgrade_configs: [{ upgrade_type: 'websocket' }] });
  refused = await startProxy();
});
after(async () => {
  await allowed.close();
  await refused.close();
});

const upgradeRequest = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: a\r\nconnection: Upgrade\r\nupgrade: websocket\r\n`
  + 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n';

const switching = 'HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n'
  + 'sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

describe('Upgrade', () => {
  it('relays an allowed WebSocket upgrade: the 101, then bytes both ways', async () => {
    allowed.upstream.replies.set('/ws', { bytes: `${switching}\x81\x05first`, tunnel: true });
    const mark = allowed.upstream.mark();
    const client = await RawClient.connect(allowed.port);
    try {
      await client.write(upgradeRequest('/ws'));
      const response = await client.response(0);
      assert.equal(response.status, 101);
      assert.equal(header(response, 'upgrade')?.toLowerCase(), 'websocket');
      assert.match(header(response, 'connection') ?? '', /upgrade/i);
      await client.tunnelText('\x81\x05first');
      // Bytes that are not HTTP go through as they are, both ways (the upstream echoes them).
      const frame = '\x82\x04\x00\r\n\xff GET /smuggled HTTP/1.1\r\n\r\n';
      await client.write(frame);
      await client.tunnelText(frame);
    } finally {
      client.destroy();
    }
    const [request, ...more] = allowed.upstream.since(mark);
    assert.deepEqual(more, []);
    assert.equal(request.target, '/ws');
    assert.equal(header(request, 'upgrade'), 'websocket');
    assert.match(header(request, 'connection') ?? '', /upgrade/i);
    assert.equal(header(request, 'sec-websocket-key'), 'dGhlIHNhbXBsZSBub25jZQ==');
  });

  it('answers 403 to a WebSocket upgrade the connection manager does not allow, and nothing reaches the upstream', async () => {
    const mark = refused.upstream.mark();
    const client = await RawClient.connect(refused.port);
    try {
      await client.write(upgradeRequest('/ws-refused'));
      const response = await client.response(0);
      assert.equal(response.status, 403);
      assert.equal(response.body.length, 0);
    } finally {
      client.destroy();
    }
    assert.equal(refused.upstream.streams.length - mark.connections, 0, 'no upstream connection was made');
  });

  it('relays a refused upgrade answer (non-101) as a plain response', async () => {
    allowed.upstream.replies.set('/ws-denied', { bytes: 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 6\r\n\r\ndenied' });
    const client = await RawClient.connect(allowed.port);
    try {
      await client.write(upgradeRequest('/ws-denied'));
      const response = await client.response(0);
      assert.equal(response.status, 401);
      assert.equal(response.body.toString('latin1'), 'denied');
    } finally {
      client.destroy();
    }
  });
});
