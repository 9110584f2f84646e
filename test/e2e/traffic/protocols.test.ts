// gRPC, WebSocket and TCP through two sidecars: gRPC unary and bidi streaming over HTTP/2 with a retry
// on UNAVAILABLE, a WebSocket echo that stays open, and a TCP weighted split.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { echoService, frame } from './protocols.ts';
import { Scenario, metric, type Client, type Workload } from './scenario.ts';

let s: Scenario;
let client: Client;
let grpcBackend: Workload;
let echo: grpc.Client;

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  // Fails every second unary call with UNAVAILABLE; the VirtualService retries those.
  grpcBackend = await s.workload({ service: 'echo-grpc', mode: 'grpc', appArgs: ['--fail-status', '14', '--fail-every', '2'] });
  await s.applyFile('grpc.yaml');
  await s.workload({ service: 'web' });
  await s.workload({ service: 'echo-tcp', version: 'v1', mode: 'tcp' });
  await s.workload({ service: 'echo-tcp', version: 'v2', mode: 'tcp' });
  client = await s.client({ outboundTcp: [8080] });
  // The application dials its sidecar's outbound port; the authority names the service.
  const Echo = grpc.makeGenericClientConstructor(echoService, 'Echo');
  echo = new Echo(`127.0.0.1:${client.outboundPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'echo-grpc:8080' });
});
after(async () => {
  echo?.close();
  await s?.stop();
  assertNoLeakedProcesses();
});

/** One unary call; resolves once both the reply and the final status (with its trailers) are in. */
function say(message: string): Promise<{ reply: string; trailer: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let reply: string | undefined;
    let trailer: grpc.Metadata | undefined;
    const done = () => { if (reply !== undefined && trailer !== undefined) resolve({ reply, trailer }); };
    const call = (echo as any).Say(Buffer.from(message), (err: grpc.ServiceError | null, value: Buffer) => {
      if (err) reject(err);
      else { reply = value.toString(); done(); }
    });
    call.on('status', (st: grpc.StatusObject) => { trailer = st.metadata; done(); });
  });
}

test('gRPC unary calls pass through two sidecars with their trailers', async () => {
  const { reply, trailer } = await waitFor('a gRPC answer', () => say('hello').catch(() => false as const));
  assert.equal(reply, 'echo-grpc-v1:hello');
  assert.deepEqual(trailer.get('x-served-by'), ['echo-grpc-v1'], 'trailing metadata arrives end to end');
});

test('gRPC bidi streaming: replies flow while the client keeps sending', async () => {
  const call = (echo as any).Chat() as grpc.ClientDuplexStream<Buffer, Buffer>;
  const replies: string[] = [];
  for (let i = 0; i < 5; i++) {
    const next = new Promise<string>((resolve) => call.once('data', (b: Buffer) => resolve(b.toString())));
    call.write(Buffer.from(`m${i}`));
    replies.push(await next); // the answer comes before the request stream ends
  }
  const ended = new Promise<void>((resolve, reject) => { call.on('end', resolve); call.on('error', reject); });
  call.end();
  await ended;
  assert.deepEqual(replies, ['m0', 'm1', 'm2', 'm3', 'm4'].map((m) => `echo-grpc-v1:${m}`));
});

test('a retry on UNAVAILABLE hides a gRPC server that fails every second call', async () => {
  const retriesBefore = await metric(client.proxy.ready.adminPort, 'envoy_cluster_upstream_rq_retry', 'echo-grpc');
  for (let i = 0; i < 10; i++) assert.equal((await say(`r${i}`)).reply, `echo-grpc-v1:r${i}`);
  const retried = (await metric(client.proxy.ready.adminPort, 'envoy_cluster_upstream_rq_retry', 'echo-grpc')) - retriesBefore;
  assert.ok(retried >= 4, `the failed attempts were retried (${retried} retries for 10 calls)`);
  void grpcBackend;
});

test('a WebSocket echo through two sidecars stays open for many messages', async () => {
  const socket = net.connect(client.outboundPort, '127.0.0.1');
  const key = randomBytes(16).toString('base64');
  socket.write(`GET /chat HTTP/1.1\r\nhost: web:8080\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`);
  let buffered = Buffer.alloc(0);
  const read = (n: number) => new Promise<Buffer>((resolve) => {
    const check = () => {
      if (buffered.length >= n) {
        const out = buffered.subarray(0, n);
        buffered = buffered.subarray(n);
        socket.off('data', onData);
        resolve(out);
        return true;
      }
      return false;
    };
    const onData = (d: Buffer) => { buffered = Buffer.concat([buffered, d]); check(); };
    if (!check()) socket.on('data', onData);
  });
  const head = await new Promise<string>((resolve) => {
    const onData = (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end >= 0) {
        socket.off('data', onData);
        const text = buffered.subarray(0, end).toString();
        buffered = buffered.subarray(end + 4);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
  assert.match(head, /^HTTP\/1\.1 101 /);
  for (let i = 0; i < 50; i++) {
    const text = `message ${i}`;
    socket.write(frame(0x1, Buffer.from(text), randomBytes(4)));
    const header = await read(2);
    const payload = await read(header[1] & 0x7f);
    assert.equal(payload.toString(), `web-v1:${text}`);
  }
  socket.end(frame(0x8, Buffer.alloc(0), randomBytes(4)));
  await new Promise((resolve) => socket.on('close', resolve));
});

test('a TCP weighted split sends about 75% of connections to v1 and 25% to v2', async () => {
  await s.mesh.apply(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo-tcp }
spec:
  host: echo-tcp
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo-tcp }
spec:
  hosts: [echo-tcp]
  tcp:
  - match: [{ port: 8080 }]
    route:
    - { destination: { host: echo-tcp, subset: v1 }, weight: 75 }
    - { destination: { host: echo-tcp, subset: v2 }, weight: 25 }
`);
  // Each connection reads the backend's greeting line, checks the echo, and closes.
  const greet = () => new Promise<string>((resolve, reject) => {
    const c = net.connect(client.tcpPort(8080), '127.0.0.1');
    let text = '';
    c.on('data', (d) => {
      text += d;
      if (text.includes('\n') && !text.endsWith('ping')) c.write('ping');
      else if (text.endsWith('\nping')) c.end();
    });
    c.on('close', () => (text.endsWith('\nping') ? resolve(text.split('\n')[0]) : reject(new Error(`incomplete TCP exchange: ${JSON.stringify(text)}`))));
    c.on('error', reject);
  });
  await waitFor('both subsets answer', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await greet());
    return seen.has('echo-tcp-v2') && seen.has('echo-tcp-v1');
  }, 15_000);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const who = await greet();
    counts[who] = (counts[who] ?? 0) + 1;
  }
  assert.equal((counts['echo-tcp-v1'] ?? 0) + (counts['echo-tcp-v2'] ?? 0), 200, JSON.stringify(counts));
  assert.ok(counts['echo-tcp-v2'] >= 30 && counts['echo-tcp-v2'] <= 70, `about 25% on v2: ${JSON.stringify(counts)}`);
});
