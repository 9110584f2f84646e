// gRPC end to end through two proxies, as between two sidecars: @grpc/grpc-js client → proxy A's
// listener (h2c) → cluster over HTTP/2 → proxy B's listener → cluster over HTTP/2 → @grpc/grpc-js
// server. Unary, client, server and bidi streaming; statuses, trailing metadata and trailers-only
// responses pass unchanged; a trailers-only UNAVAILABLE is retried; the proxy's own answers to gRPC
// requests (route timeout, no healthy upstream, fault aborts) take gRPC's form; a client's deadline
// cancels the call at the server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Harness } from './support/harness.ts';
import { echoClient, startEchoServer, unary, type EchoClient, type EchoServer, type Message } from './support/grpc-echo.ts';
import { connect, http2Cluster, request } from './support/http2.ts';
import {
  faultFilter, httpListener, perRouteFault, route, routeConfig, routeTo, routerFilter, staticCluster, virtualHost,
} from './support/resources.ts';
import { waitFor } from './support/wait.ts';

const proxyA = new Harness();
const proxyB = new Harness();
let server: EchoServer;
let client: EchoClient;
let portA = 0;
let nextId = 0;

const fast = { retry_back_off: { base_interval: { nanos: 1_000_000 } } };
const method = (name: string) => ({ path: `/test.Echo/${name}` });

before(async () => {
  server = await startEchoServer();
  // Proxy B: the server's sidecar (inbound).
  await proxyB.apply({
    clusters: [staticCluster('app', [server.port], http2Cluster())],
    listeners: [httpListener('inbound', {
      routeConfig: routeConfig('inbound', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('app', { timeout: { seconds: '0' } }))])]),
    })],
  });
  // Proxy A: the client's sidecar (outbound), with the fault filter before the router.
  await proxyA.apply({
    clusters: [
      staticCluster('echo', [proxyB.port()], http2Cluster()),
      staticCluster('empty', [], http2Cluster()),
    ],
    listeners: [httpListener('outbound', { rds: 'routes', hcm: { http_filters: [faultFilter(), routerFilter] } })],
    routes: [routeConfig('routes', [
      virtualHost('echo', ['*'], [
        route(method('Flaky'), routeTo('echo', { retry_policy: { ...fast, retry_on: 'unavailable', num_retries: { value: 1 } } })),
        route(method('Slow'), routeTo('echo', { timeout: { nanos: 200_000_000 } }), 'slow'),
        { ...route({ path: '/test.Echo/AbortGrpc' }, routeTo('echo')), ...perRouteFault({ abort: { grpc_status: 7, percentage: { numerator: 100 } } }) },
        { ...route({ path: '/test.Echo/AbortHttp' }, routeTo('echo')), ...perRouteFault({ abort: { http_status: 503, percentage: { numerator: 100 } } }) },
        route({ path: '/test.Echo/NoEndpoints' }, routeTo('empty')),
        route({ prefix: '/' }, routeTo('echo', { timeout: { seconds: '0' } })),
      ]),
      // Calls with :authority "deadline" (CallOptions.host) get no route timeout at all.
      virtualHost('deadline', ['deadline'], [route({ prefix: '/' }, routeTo('echo', { timeout: { seconds: '0' } }))]),
    ])],
  });
  portA = proxyA.port();
  client = echoClient(portA);
});

after(async () => {
  client?.close();
  await proxyA.close();
  await proxyB.close();
  await server?.close();
});

function metadata(entries: Record<string, string> = {}): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

/** A call on a method that exists only in the proxy's routes, with the given path. */
function callPath(path: string): Promise<{ reply: Message | null; error: grpc.ServiceError | null; trailers: grpc.Metadata | null }> {
  const Ctor = grpc.makeGenericClientConstructor({
    call: { ...method('Unary'), path, requestSerialize: (m: Message) => Buffer.from(JSON.stringify(m)), requestDeserialize: (b: Buffer) => JSON.parse(b.toString()) as Message,
      responseSerialize: (m: Message) => Buffer.from(JSON.stringify(m)), responseDeserialize: (b: Buffer) => JSON.parse(b.toString()) as Message, requestStream: false, responseStream: false },
  }, 'Paths');
  const c = new Ctor(`127.0.0.1:${portA}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    call(req: Message, md: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Message>): grpc.ClientUnaryCall;
  };
  return unary((cb) => c.call({ text: 'x' }, new grpc.Metadata(), {}, cb)).finally(() => c.close());
}

describe('gRPC through two proxies', () => {
  it('unary: the reply, custom request metadata and trailing metadata arrive', async () => {
    const { reply, error, trailers } = await unary((cb) => client.unary({ text: 'hi' }, metadata({ 'x-caller': 'test' }), {}, cb));
    assert.equal(error, null);
    assert.deepEqual(reply, { text: 'echo: hi' });
    assert.deepEqual(trailers?.get('x-trailer'), ['unary-done']);
    assert.deepEqual(server.lastMetadata?.get('x-caller'), ['test']);
  });

  it('an error status with message and metadata passes unchanged (trailers-only)', async () => {
    const { error } = await unary((cb) => client.fail({}, metadata(), {}, cb));
    assert.equal(error?.code, grpc.status.NOT_FOUND);
    assert.equal(error?.details, 'no such thing');
    assert.deepEqual(error?.metadata.get('x-reason'), ['gone']);
  });

  it('an error status after messages arrives in the trailers, with its metadata and percent-encoded message', async () => {
    const call = client.failAfterMessages({}, metadata());
    const seen: Message[] = [];
    call.on('data', (m: Message) => seen.push(m));
    const error = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    assert.deepEqual(seen.map((m) => m.seq), [0, 1]);
    assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(error.details, 'out of quota: 100%');
    assert.deepEqual(error.metadata.get('x-reason'), ['quota']);
  });

  it('client streaming', async () => {
    const reply = await new Promise<Message>((resolve, reject) => {
      const call = client.clientStream(metadata(), {}, (err, r) => (err ? reject(err) : resolve(r!)));
      for (let i = 0; i < 50; i++) call.write({ text: `m${i}` });
      call.end();
    });
    assert.equal(reply.count, 50);
    assert.equal(reply.text, Array.from({ length: 50 }, (_, i) => `m${i}`).join(','));
  });

  it('server streaming: many messages, more than the HTTP/2 windows hold, all arrive in order', async () => {
    const count = 400;
    const call = client.serverStream({ count, size: 4096 }, metadata());
    const seqs: number[] = [];
    call.on('data', (m: Message) => seqs.push(m.seq!));
    await new Promise<void>((resolve, reject) => { call.on('end', resolve); call.on('error', reject); });
    assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i));
  });

  it('bidi streaming: replies flow while the request stream is still open', async () => {
    const call = client.bidi(metadata());
    const replies: Message[] = [];
    let onReply: (() => void) | null = null;
    call.on('data', (m: Message) => { replies.push(m); onReply?.(); });
    // Ping-pong: each message is sent only after the previous reply came back, so the exchange can
    // only complete if responses are relayed while the request stream is open (full duplex).
    for (let i = 0; i < 20; i++) {
      const answered = new Promise<void>((resolve) => { onReply = resolve; });
      call.write({ seq: i, text: `ping ${i}` });
      await answered;
    }
    call.end();
    await new Promise<void>((resolve, reject) => { call.on('end', resolve); call.on('error', reject); });
    assert.deepEqual(replies.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(replies[19].text, 'ping 19');
  });

  it('bidi streaming: large volumes both ways keep their order', async () => {
    const call = client.bidi(metadata());
    const n = 300;
    const payload = 'y'.repeat(8192);
    const seqs: number[] = [];
    call.on('data', (m: Message) => seqs.push(m.seq!));
    const done = new Promise<void>((resolve, reject) => { call.on('end', resolve); call.on('error', reject); });
    for (let i = 0; i < n; i++) {
      if (!call.write({ seq: i, text: payload })) await new Promise((r) => call.once('drain', r));
    }
    call.end();
    await done;
    assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i));
  });

  it('multiplexes calls over one connection between the proxies', async () => {
    const calls = Array.from({ length: 10 }, (_, i) => unary((cb) => client.unary({ text: `c${i}` }, metadata(), {}, cb)));
    const results = await Promise.all(calls);
    assert.ok(results.every((r) => r.error === null));
    assert.equal(await proxyA.metric('envoy_cluster_upstream_cx_total', { envoy_cluster_name: 'echo' }), 1);
  });
});

describe('gRPC retries and the proxy\'s own answers', () => {
  it('retries a trailers-only UNAVAILABLE under retry_on unavailable, with the request body', async () => {
    const id = `call-${++nextId}`;
    const { reply, error } = await unary((cb) => client.flaky({ text: 'again' }, metadata({ 'x-call-id': id }), {}, cb));
    assert.equal(error, null);
    assert.deepEqual(reply, { text: 'attempt 2: again' });
    assert.equal(server.attempts.get(id), 2);
    assert.equal(await proxyA.metric('envoy_cluster_upstream_rq_retry', { envoy_cluster_name: 'echo' }), 1);
  });

  it('answers a route timeout as Envoy does for gRPC: UNAVAILABLE, "upstream request timeout"; the server sees the call cancelled', async () => {
    const before = server.cancelled;
    const { error } = await unary((cb) => client.slow({}, metadata(), {}, cb));
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.equal(error?.details, 'upstream request timeout');
    await waitFor('the server to see the call cancelled', () => server.cancelled, (n) => n === before + 1);
  });

  it('a client deadline ends the call with DEADLINE_EXCEEDED and cancels it at the server through both proxies', async () => {
    const before = server.cancelled;
    // Through the route without a timeout: only the client's deadline applies.
    const { error } = await unary((cb) => client.slow({}, metadata(), { deadline: Date.now() + 300, host: 'deadline' }, cb));
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
    await waitFor('the server to see the call cancelled', () => server.cancelled, (n) => n === before + 1);
  });

  it('answers "no healthy upstream" as UNAVAILABLE', async () => {
    const { error } = await callPath('/test.Echo/NoEndpoints');
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.equal(error?.details, 'no healthy upstream');
  });

  it('a fault abort with grpc_status gives that status; an HTTP abort status is mapped (503 → UNAVAILABLE)', async () => {
    const grpcAbort = await callPath('/test.Echo/AbortGrpc');
    assert.equal(grpcAbort.error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(grpcAbort.error?.details, 'fault filter abort');
    const httpAbort = await callPath('/test.Echo/AbortHttp');
    assert.equal(httpAbort.error?.code, grpc.status.UNAVAILABLE);
    assert.equal(httpAbort.error?.details, 'fault filter abort');
  });

  it('sends a gRPC local reply over HTTP/2 as trailers-only: HTTP 200, grpc-status in the headers with END_STREAM', async () => {
    const session = connect(portA);
    try {
      const reply = await request(session, '/test.Echo/NoEndpoints', {
        method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' }, body: Buffer.alloc(5),
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.endedWithHeaders, true);
      assert.equal(reply.headers['grpc-status'], '14');
      assert.equal(reply.headers['grpc-message'], 'no healthy upstream');
      assert.equal(reply.headers['content-length'], undefined);
    } finally {
      session.destroy();
    }
  });
});
