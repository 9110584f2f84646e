// http_inspector on the first bytes of a connection: HTTP/1.1, HTTP/1.0 and the h2c preface are
// recognised (also a byte at a time), anything else is left alone, and TLS connections are skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ConnectionInfo } from '../../../src/proxy/listener/connection-info.ts';
import { HttpInspector } from '../../../src/proxy/listener/http-inspector.ts';
import { InspectStatus } from '../../../src/proxy/listener/listener-inspector.ts';

let server: net.Server;
let client: net.Socket;
let accepted: net.Socket;

before(async () => {
  server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const acceptedOnce = once(server, 'connection');
  client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  [accepted] = (await acceptedOnce) as [net.Socket];
});

after(() => {
  client.destroy();
  accepted.destroy();
  server.close();
});

function inspect(text: string, options: { byteAtATime?: boolean; transport?: string } = {}): { status: number; protocols: readonly string[] } {
  const info = new ConnectionInfo(accepted);
  if (options.transport) info.transportProtocol = options.transport;
  const inspector = new HttpInspector();
  const bytes = Buffer.from(text, 'latin1');
  let status: number = InspectStatus.NeedMore;
  if (options.byteAtATime) {
    for (let n = 1; n <= bytes.length && status === InspectStatus.NeedMore; n++) status = inspector.inspect(bytes, n, info);
  } else {
    status = inspector.inspect(bytes, bytes.length, info);
  }
  return { status, protocols: info.applicationProtocols };
}

describe('http_inspector', () => {
  it('detects HTTP/1.1 and HTTP/1.0 request lines', () => {
    assert.deepEqual(inspect('GET /reviews/1 HTTP/1.1\r\nHost: reviews\r\n\r\n'), { status: InspectStatus.Done, protocols: ['http/1.1'] });
    assert.deepEqual(inspect('POST * HTTP/1.0\n'), { status: InspectStatus.Done, protocols: ['http/1.0'] });
  });

  it('detects the HTTP/2 connection preface as h2c', () => {
    assert.deepEqual(inspect('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), { status: InspectStatus.Done, protocols: ['h2c'] });
  });

  it('reads a request line or the preface a byte at a time', () => {
    assert.deepEqual(inspect('OPTIONS /x HTTP/1.1\r\n', { byteAtATime: true }), { status: InspectStatus.Done, protocols: ['http/1.1'] });
    assert.deepEqual(inspect('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', { byteAtATime: true }), { status: InspectStatus.Done, protocols: ['h2c'] });
  });

  it('waits for the end of the request line', () => {
    assert.deepEqual(inspect('GET /long-path'), { status: InspectStatus.NeedMore, protocols: [] });
  });

  it('leaves anything else without an application protocol', () => {
    for (const text of ['\x16\x03\x01\x02\x00', 'hello world\r\n', 'GET /a b HTTP/1.1\r\n', 'GET / HTTP/2.0\r\n', '\r\nGET / HTTP/1.1\r\n', 'GET / HTTP/1.1\rX']) {
      assert.deepEqual(inspect(text), { status: InspectStatus.Done, protocols: [] }, JSON.stringify(text));
    }
  });

  it('skips connections whose transport protocol is tls', () => {
    assert.deepEqual(inspect('GET / HTTP/1.1\r\n', { transport: 'tls' }), { status: InspectStatus.Done, protocols: [] });
  });

  it('closes a connection whose request line is still incomplete after 64 KiB', () => {
    assert.equal(inspect(`GET /${'a'.repeat(64 * 1024)}`).status, InspectStatus.Close);
  });
});
