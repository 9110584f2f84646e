// Access logs of tcp_proxy: one line per connection when it closes, with the byte counts, the cluster
// and endpoint, the response flags (UF when no endpoint accepted the connection) and '-' (JSON null)
// for the HTTP-only values.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { fileAccessLog, jsonLine, linesWhen, tempLogDir } from './access-log-support.ts';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain, tcpProxy } from './support/listener-resources.ts';
import { assignment, edsCluster } from './support/resources.ts';
import { startTcpUpstream, type TcpUpstream } from './support/tcp-upstream.ts';
import { closedPort } from './support/upstream.ts';

const logs = tempLogDir();
const jsonFile = logs.file('tcp.json.log');
const textFile = logs.file('tcp.text.log');
const harness = new Harness({ drainTimeoutMs: 200 });
let echo: TcpUpstream;

const jsonFormat = {
  json_format: {
    method: '%REQ(:METHOD)%',
    response_code: '%RESPONSE_CODE%',
    response_flags: '%RESPONSE_FLAGS%',
    bytes_received: '%BYTES_RECEIVED%',
    bytes_sent: '%BYTES_SENT%',
    upstream_cluster: '%UPSTREAM_CLUSTER%',
    upstream_host: '%UPSTREAM_HOST%',
    downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
    downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
    duration: '%DURATION%',
  },
};

before(async () => {
  echo = await startTcpUpstream('echo');
  const dead = await closedPort();
  const accessLog = [fileAccessLog(jsonFile, jsonFormat), fileAccessLog(textFile, { text_format: '%UPSTREAM_CLUSTER% %RESPONSE_FLAGS% %REQ(:PATH)% %PROTOCOL%\n' })];
  await harness.apply({
    clusters: [edsCluster('echo'), edsCluster('dead')],
    endpoints: [assignment('echo', [echo.port]), assignment('dead', [dead])],
    listeners: [
      chainsListener('tcp-echo', [filterChain(tcpProxy('echo', 'echo', { access_log: accessLog }))]),
      chainsListener('tcp-dead', [filterChain(tcpProxy('dead', 'dead', { access_log: accessLog }))]),
    ],
  });
});

after(async () => {
  await harness.close();
  await echo.close();
  logs.remove();
});

/** Connects, reads the upstream's greeting, sends `payload`, reads its echo, then closes. */
async function exchange(port: number, payload: string): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const localPort = socket.localPort!;
  let received = '';
  socket.on('data', (chunk: Buffer) => { received += chunk.toString(); });
  socket.write(payload);
  const expected = `echo\n${payload}`;
  while (received.length < expected.length) await once(socket, 'data');
  assert.equal(received, expected);
  socket.end();
  await once(socket, 'close');
  return localPort;
}

describe('tcp_proxy access log', () => {
  it('writes one line per connection when it closes, with its byte counts', async () => {
    const clientPort = await exchange(harness.port('tcp-echo'), 'hello proxy');
    const line = await jsonLine(jsonFile, (l) => l.downstream_remote_address === `127.0.0.1:${clientPort}`);
    assert.equal(line.upstream_cluster, 'echo');
    assert.equal(line.upstream_host, `127.0.0.1:${echo.port}`);
    assert.equal(line.response_flags, '-');
    assert.equal(line.response_code, 0);
    assert.equal(line.bytes_received, 'hello proxy'.length);
    assert.equal(line.bytes_sent, 'echo\nhello proxy'.length);
    assert.equal(line.downstream_local_address, `127.0.0.1:${harness.port('tcp-echo')}`);
    assert.equal(typeof line.duration, 'number');
    // HTTP-only values do not apply to a TCP connection.
    assert.equal(line.method, null);
  });

  it('flags a connection no endpoint accepted with UF, and prints - for HTTP values in text', async () => {
    const socket = net.connect(harness.port('tcp-dead'), '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'close');
    const line = await jsonLine(jsonFile, (l) => l.upstream_cluster === 'dead');
    assert.equal(line.response_flags, 'UF');
    assert.equal(line.bytes_sent, 0);
    const text = await linesWhen(textFile, (ls) => ls.some((l) => l.startsWith('dead ')));
    assert.ok(text.includes('dead UF - -'), text.join('\n'));
  });
});
