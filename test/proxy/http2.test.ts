// HTTP/2 through the proxy: h2c downstream (codec_type AUTO tells it from HTTP/1.1 by the connection
// preface; HTTP2 takes only HTTP/2), HTTP/2 to endpoints (cluster protocol options) with streams
// multiplexed over few connections within max_concurrent_streams and the circuit breakers,
// use_downstream_protocol_config, resets both ways, and draining with GOAWAY.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { once } from 'node:events';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { send } from './support/client.ts';
import { startDualUpstream, type DualUpstream } from './support/dual-upstream.ts';
import { Harness } from './support/harness.ts';
import {
  connect, downstreamProtocolCluster, http2Cluster, request, startHttp2Upstream, type Http2Seen, type Http2Upstream,
} from './support/http2.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { closedPort, startUpstream, type Seen, type Upstream } from './support/upstream.ts';
import { gate, waitFor } from './support/wait.ts';

const harness = new Harness();
let h1app: Upstream;
let h2app: Http2Upstream;
let h2limited: Http2Upstream;
let dual: DualUpstream;
let port = 0;
let h2OnlyPort = 0;
const release = gate();
const sessions: http2.ClientHttp2Session[] = [];

/** An h2c session to `p`, closed in after(). */
function session(p = port): http2.ClientHttp2Session {
  const s = connect(p);
  sessions.push(s);
  return s;
}

/** Upstream handler: /hold waits for release(), /reset-before and /reset-after reset the stream, else JSON. */
function heldHandler(name: string): (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void {
  return (stream, headers) => {
    const path = String(headers[':path']);
    stream.resume();
    // destroy(err) resets the stream (RST_STREAM INTERNAL_ERROR) without ending it first, as close() would.
    if (path.endsWith('/reset-before')) {
      stream.destroy(new Error('reset before the response'));
      return;
    }
    if (path.endsWith('/reset-after')) {
      stream.respond({ ':status': 200 });
      stream.write('partial', () => stream.destroy(new Error('reset mid-response')));
      return;
    }
    const answer = (): void => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ upstream: name, path }));
    };
    if (path.endsWith('/hold')) void release.promise.then(answer);
    else answer();
  };
}

let abortedUpstreamStreams = 0;
/** What the h2 endpoint received on /h2/mirrored: authority and body. */
const mirrored: string[] = [];

before(async () => {
  [h1app, h2app, h2limited, dual] = await Promise.all([
    startUpstream('h1app', (req, res) => {
      req.resume();
      if (req.url === '/h1/chunked') {
        // Hop-by-hop headers an HTTP/2 response must not carry.
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5' });
        res.write('one,');
        res.end('two');
        return;
      }
      const seen: Seen = { upstream: 'h1app', method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders };
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => { body += c; });
      req.on('end', () => {
        const text = JSON.stringify({ ...seen, body, httpVersion: req.httpVersion });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    }),
    startHttp2Upstream('h2app', (stream, headers) => {
      const path = String(headers[':path']);
      if (path === '/h2/trailers') {
        stream.resume();
        stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123', 'x-count': '2' }));
        stream.end('body with trailers');
        return;
      }
      if (path === '/h2/watch-reset') {
        stream.respond({ ':status': 200 });
        stream.write('started');
        stream.on('aborted', () => { abortedUpstreamStreams++; });
        return;
      }
      if (path === '/mirror') {
        let body = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => { body += chunk; });
        stream.on('end', () => {
          mirrored.push(`${String(headers[':authority'])} ${body}`);
          stream.respond({ ':status': 200 });
          stream.end();
        });
        return;
      }
      if (path.startsWith('/h2/echo')) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const seen: Http2Seen = {
            upstream: 'h2app', method: String(headers[':method']), path, authority: String(headers[':authority']), headers,
            body: Buffer.concat(chunks).toString(),
          };
          stream.respond({ ':status': 200, 'content-type': 'application/json' });
          stream.end(JSON.stringify(seen));
        });
        return;
      }
      heldHandler('h2app')(stream, headers);
    }),
    startHttp2Upstream('h2limited', heldHandler('h2limited')),
    startDualUpstream(),
  ]);
  const all = virtualHost('all', ['*'], [
    route({ prefix: '/h1' }, routeTo('h1app')),
    route({ prefix: '/h2' }, routeTo('h2app', { timeout: { seconds: '0' } })),
    route({ prefix: '/limited' }, routeTo('h2limited')),
    route({ prefix: '/dual' }, routeTo('dual')),
    route({ prefix: '/mirror' }, routeTo('h1app', { request_mirror_policies: [{ cluster: 'h2app' }] })),
  ]);
  await harness.apply({
    clusters: [
      staticCluster('h1app', [h1app.port]),
      staticCluster('h2app', [h2app.port], http2Cluster({ initial_stream_window_size: { value: 1 << 20 }, initial_connection_window_size: { value: 2 << 20 } })),
      staticCluster('h2limited', [h2limited.port], {
        ...http2Cluster({ max_concurrent_streams: { value: 2 } }),
        circuit_breakers: { thresholds: [{ max_connections: { value: 1 } }] },
      }),
      staticCluster('dual', [dual.port], downstreamProtocolCluster()),
    ],
    listeners: [
      httpListener('auto', { rds: 'routes', hcm: { http2_protocol_options: {
        max_concurrent_streams: { value: 50 }, initial_stream_window_size: { value: 1 << 20 }, initial_connection_window_size: { value: 2 << 20 },
      } } }),
      httpListener('h2only', { rds: 'routes', hcm: { codec_type: 'HTTP2' } }),
    ],
    routes: [routeConfig('routes', [all])],
  });
  port = harness.port('auto');
  h2OnlyPort = harness.port('h2only');
});

after(async () => {
  release.open();
  for (const s of sessions) s.destroy();
  await harness.close();
  await Promise.all([h1app.close(), h2app.close(), h2limited.close(), dual.close()]);
});

const c = (name: string) => ({ envoy_cluster_name: name });

describe('HTTP/2 downstream (h2c)', () => {
  it('serves h2c and HTTP/1.1 on the same listener (codec_type AUTO), mapping pseudo-headers to the HTTP/1.1 request', async () => {
    const stats = harness.stats.httpConnectionManager('auto');
    const [h1Before, h2Before] = [stats.downstreamCxHttp1Total, stats.downstreamCxHttp2Total];
    const s = session();
    const reply = await request(s, '/h1/x?q=1', { method: 'POST', authority: 'reviews:9080', headers: { 'x-custom': 'yes' }, body: 'hello' });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as Seen & { body: string; httpVersion: string };
    assert.equal(seen.httpVersion, '1.1');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/h1/x?q=1');
    assert.equal(seen.headers.host, 'reviews:9080');
    assert.equal(seen.headers['x-custom'], 'yes');
    assert.equal(seen.body, 'hello');
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0);
    assert.ok(!names.some((n) => n.startsWith(':')), `pseudo-headers were forwarded: ${names.join(', ')}`);

    const h1reply = await send(port, '/h1/plain');
    assert.equal(h1reply.status, 200);
    assert.equal((JSON.parse(h1reply.body) as { httpVersion: string }).httpVersion, '1.1');
    assert.deepEqual([stats.downstreamCxHttp1Total - h1Before, stats.downstreamCxHttp2Total - h2Before], [1, 1], 'one connection per codec');
  });

  it('drops hop-by-hop headers of an HTTP/1.1 upstream response (HTTP/2 forbids them)', async () => {
    const reply = await request(session(), '/h1/chunked');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'one,two');
    assert.equal(reply.headers.connection, undefined);
    assert.equal(reply.headers['keep-alive'], undefined);
  });

  it('joins split cookie fields into one Cookie header for an HTTP/1.1 upstream', async () => {
    const s = session();
    const stream = s.request([':method', 'GET', ':path', '/h1/cookies', ':authority', 'x', 'cookie', 'a=1', 'cookie', 'b=2'] as unknown as http2.OutgoingHttpHeaders);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(stream, 'end');
    const seen = JSON.parse(Buffer.concat(chunks).toString()) as Seen;
    assert.equal(seen.headers.cookie, 'a=1; b=2');
  });

  it('answers local replies over HTTP/2 (no route: 404)', async () => {
    const reply = await request(session(), '/nowhere');
    assert.equal(reply.status, 404);
    assert.equal(reply.rstCode, 0);
  });

  it('applies the connection manager\'s http2_protocol_options: stream limit and windows', async () => {
    const s = session();
    const [settings] = await once(s, 'remoteSettings') as [http2.Settings];
    assert.equal(settings.maxConcurrentStreams, 50);
    assert.equal(settings.initialWindowSize, 1 << 20);
    await waitFor('the connection window update', () => s.state.remoteWindowSize, (size) => (size ?? 0) > 1 << 20);
  });

  it('with codec_type HTTP2, speaks only HTTP/2', async () => {
    const reply = await request(session(h2OnlyPort), '/h1/only');
    assert.equal(reply.status, 200);
    await assert.rejects(send(h2OnlyPort, '/h1/only'));
  });

  it('serves an `Upgrade: h2c` request as HTTP/1.1, as Envoy does', async () => {
    const reply = await send(port, '/h1/upgrade', { headers: { connection: 'upgrade, http2-settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA' } });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as Seen;
    assert.equal(seen.headers.upgrade, undefined);
    assert.equal(seen.headers['http2-settings'], undefined);
  });
});

describe('HTTP/2 to endpoints', () => {
  it('applies the cluster\'s HTTP/2 windows on its connections', async () => {
    const seen = new Promise<http2.ServerHttp2Session>((resolve) => h2app.server.once('session', resolve));
    const fresh = new Harness();
    try {
      await fresh.apply({
        clusters: [staticCluster('h2app', [h2app.port], http2Cluster({ initial_stream_window_size: { value: 1 << 20 }, initial_connection_window_size: { value: 2 << 20 } }))],
        listeners: [httpListener('in', { routeConfig: routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('h2app'))])]) })],
      });
      assert.equal((await send(fresh.port(), '/h2/echo')).status, 200);
      const upstreamSession = await seen;
      assert.equal(upstreamSession.remoteSettings.initialWindowSize, 1 << 20);
      await waitFor('the connection window update', () => upstreamSession.state.remoteWindowSize, (size) => (size ?? 0) > 1 << 20);
    } finally {
      await fresh.close();
    }
  });

  it('sends HTTP/1.1 requests to an h2c endpoint, with the authority and body', async () => {
    const reply = await send(port, '/h2/echo', { method: 'POST', host: 'ratings:9080', body: 'payload' });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as Http2Seen;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.authority, 'ratings:9080');
    assert.equal(seen.body, 'payload');
    assert.equal(seen.headers.host, undefined);
  });

  it('passes response trailers to an HTTP/1.1 client that sent te: trailers (chunked), and te: trailers to the endpoint', async () => {
    const reply = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/h2/trailers', headers: { te: 'trailers' }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { body += chunk; });
        res.on('end', () => resolve({ body, trailers: res.trailers }));
      }).on('error', reject);
    });
    assert.equal(reply.body, 'body with trailers');
    assert.deepEqual(reply.trailers, { 'x-checksum': 'abc123', 'x-count': '2' });
    const echoed = JSON.parse((await send(port, '/h2/echo-te', { headers: { te: 'trailers' } })).body) as Http2Seen;
    assert.equal(echoed.headers.te, 'trailers');
  });

  it('passes response trailers to an HTTP/2 client', async () => {
    const reply = await request(session(), '/h2/trailers');
    assert.equal(reply.body, 'body with trailers');
    assert.equal(reply.trailers?.['x-checksum'], 'abc123');
  });

  it('multiplexes concurrent requests as streams of one connection', async () => {
    const before = h2app.sessions;
    const n = 20;
    const pending = Array.from({ length: n }, () => send(port, '/h2/hold'));
    await waitFor('every request to reach the endpoint', () => h2app.open, (open) => open === n);
    assert.equal(h2app.sessions - before <= 1, true, `the pool opened ${h2app.sessions - before} connections`);
    assert.equal(h2app.maxOpen >= n, true);
    assert.equal(await harness.metric('envoy_cluster_upstream_cx_active', c('h2app')), 1);
    release.open();
    const replies = await Promise.all(pending);
    assert.deepEqual(replies.map((r) => r.status), Array(n).fill(200));
  });

  it('keeps within max_concurrent_streams; over max_connections, requests wait as pending and all complete', async () => {
    const hold = gate();
    const held: (() => void)[] = [];
    h2limited.server.removeAllListeners('stream');
    h2limited.server.on('stream', (stream: http2.ServerHttp2Stream) => {
      h2limited.streams++;
      h2limited.open++;
      h2limited.maxOpen = Math.max(h2limited.maxOpen, h2limited.open);
      stream.on('close', () => { h2limited.open--; });
      stream.resume();
      held.push(() => { stream.respond({ ':status': 200 }); stream.end('ok'); });
      void hold.promise.then(() => { for (const answer of held.splice(0)) answer(); });
    });
    const pending = Array.from({ length: 6 }, () => send(port, '/limited/x'));
    await waitFor('two streams at the endpoint', () => h2limited.open, (open) => open === 2);
    await waitFor('the other requests to be pending', () => harness.metric('envoy_cluster_upstream_rq_pending_active', c('h2limited')), (v) => v === 4);
    hold.open();
    const replies = await Promise.all(pending);
    assert.deepEqual(replies.map((r) => r.status), Array(6).fill(200));
    assert.equal(h2limited.maxOpen, 2);
    assert.equal(h2limited.sessions, 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_pending_active', c('h2limited')), 0);
  });

  it('mirrors an HTTP/2 request with its body to an HTTP/2 cluster while the main request goes over HTTP/1.1', async () => {
    const reply = await request(session(), '/mirror', { method: 'POST', authority: 'shop', body: 'copy me' });
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as { body: string }).body, 'copy me');
    await waitFor('the mirror copy to arrive', () => mirrored.length, (n) => n === 1);
    assert.equal(mirrored[0], 'shop-shadow copy me');
  });

  it('with use_downstream_protocol_config, speaks to the endpoint in the downstream\'s protocol', async () => {
    const viaH1 = JSON.parse((await send(port, '/dual')).body) as { httpVersion: string };
    assert.equal(viaH1.httpVersion, '1.1');
    const viaH2 = JSON.parse((await request(session(), '/dual')).body) as { httpVersion: string };
    assert.equal(viaH2.httpVersion, '2.0');
  });
});

describe('HTTP/2 connections to endpoints', () => {
  /** A data plane of its own with one HTTP/2 cluster (extra fields given) in front of `upstream`. */
  async function proxyTo(port: number, cluster: Record<string, unknown>): Promise<{ local: Harness; port: number }> {
    const local = new Harness();
    await local.apply({
      clusters: [staticCluster('up', [port], { ...http2Cluster(), ...cluster })],
      listeners: [httpListener('in', { routeConfig: routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('up'))])]) })],
    });
    return { local, port: local.port() };
  }

  it('opens a new connection after max_requests_per_connection streams', async () => {
    const upstream = await startHttp2Upstream('per-connection');
    const { local, port: p } = await proxyTo(upstream.port, { max_requests_per_connection: { value: 2 } });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await send(p, '/x')).status, 200);
      assert.equal(upstream.sessions, 3);
    } finally {
      await local.close();
      await upstream.close();
    }
  });

  it('closes a connection idle for the cluster\'s idle_timeout', async () => {
    const upstream = await startHttp2Upstream('idle');
    const { local, port: p } = await proxyTo(upstream.port, { common_http_protocol_options: { idle_timeout: { nanos: 100_000_000 } } });
    try {
      assert.equal((await send(p, '/x')).status, 200);
      await waitFor('the idle connection to close', () => upstream.closedSessions, (n) => n === 1);
      assert.equal((await send(p, '/x')).status, 200);
      assert.equal(upstream.sessions, 2);
    } finally {
      await local.close();
      await upstream.close();
    }
  });

  it('after the endpoint\'s GOAWAY, new requests go on a new connection', async () => {
    const upstream = await startHttp2Upstream('goaway');
    const { local, port: p } = await proxyTo(upstream.port, {});
    try {
      assert.equal((await send(p, '/x')).status, 200);
      upstream.goaway();
      await waitFor('the connection to close', () => upstream.closedSessions, (n) => n === 1);
      assert.equal((await send(p, '/x')).status, 200);
      assert.equal(upstream.sessions, 2);
    } finally {
      await local.close();
      await upstream.close();
    }
  });

  it('answers 503 when the endpoint cannot be connected to, and counts the failure', async () => {
    const { local, port: p } = await proxyTo(await closedPort(), {});
    try {
      const reply = await send(p, '/x');
      assert.equal(reply.status, 503);
      assert.equal(reply.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
      assert.equal(await local.metric('envoy_cluster_upstream_cx_connect_fail', c('up')), 1);
    } finally {
      await local.close();
    }
  });
});

describe('resets', () => {
  it('a client resetting its stream resets the upstream stream', async () => {
    const before = abortedUpstreamStreams;
    const s = session();
    const stream = s.request({ ':path': '/h2/watch-reset', ':authority': 'x' });
    stream.on('error', () => {});
    await once(stream, 'data');
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor('the upstream stream to be reset', () => abortedUpstreamStreams, (n) => n === before + 1);
  });

  it('an upstream reset after the response started resets the client\'s stream', async () => {
    const reply = await request(session(), '/h2/reset-after');
    assert.equal(reply.status, 200);
    assert.notEqual(reply.rstCode, 0);
  });

  it('an upstream reset before the response answers 503', async () => {
    const reply = await request(session(), '/h2/reset-before');
    assert.equal(reply.status, 503);
    assert.match(reply.body, /reset before headers/);
  });
});

describe('drain', () => {
  it('sends GOAWAY and lets the stream in flight finish', async () => {
    const local = new Harness({ drainTimeoutMs: 5000 });
    try {
      const hold = gate();
      const upstream = await startHttp2Upstream('slow', (stream) => {
        stream.resume();
        void hold.promise.then(() => { stream.respond({ ':status': 200 }); stream.end('finished'); });
      });
      try {
        await local.apply({
          clusters: [staticCluster('slow', [upstream.port], http2Cluster())],
          listeners: [httpListener('in', { routeConfig: routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('slow'))])]) })],
        });
        const s = connect(local.port());
        const goaway = once(s, 'goaway');
        const inFlight = request(s, '/slow');
        await waitFor('the request to reach the endpoint', () => upstream.open, (n) => n === 1);
        const drained = local.dataPlane.drain();
        const [code] = await goaway as [number];
        assert.equal(code, http2.constants.NGHTTP2_NO_ERROR);
        hold.open();
        const reply = await inFlight;
        assert.equal(reply.status, 200);
        assert.equal(reply.body, 'finished');
        await drained;
        if (!s.closed) await once(s, 'close');
      } finally {
        await upstream.close();
      }
    } finally {
      await local.close();
    }
  });
});

describe('HTTP/2 downstream idle timeout', () => {
  it('closes a connection without streams after common_http_protocol_options.idle_timeout, with GOAWAY', async () => {
    const local = new Harness();
    try {
      await local.apply({
        clusters: [staticCluster('h1app', [h1app.port])],
        listeners: [httpListener('in', {
          routeConfig: routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('h1app'))])]),
          hcm: { common_http_protocol_options: { idle_timeout: { nanos: 100_000_000 } } },
        })],
      });
      const s = connect(local.port());
      const goaway = once(s, 'goaway');
      assert.equal((await request(s, '/x')).status, 200);
      await goaway;
      if (!s.closed) await once(s, 'close');
    } finally {
      await local.close();
    }
  });
});

describe('HTTP/2 config', () => {
  it('rejects what it does not implement, naming the resource and field', async () => {
    const reject = (hcm: Record<string, unknown>) => harness.dataPlane.updateListeners([httpListener('bad', { rds: 'routes', hcm })]);
    await assert.rejects(reject({ http2_protocol_options: { hpack_table_size: { value: 0 } } }),
      (e: Error) => e instanceof ConfigRejectedError && /Listener bad: .*http2_protocol_options\.hpack_table_size is not supported/.test(e.message));
    await assert.rejects(reject({ codec_type: 'HTTP3' }), /codec_type HTTP3 is not supported/);
    await assert.rejects(reject({ http2_protocol_options: { initial_stream_window_size: { value: 100 } } }), /initial_stream_window_size 100 is out of range/);
    assert.throws(() => harness.dataPlane.updateClusters([staticCluster('w', [1], http2Cluster({ initial_connection_window_size: { value: 1 } }))]),
      /Cluster w: .*initial_connection_window_size 1 is out of range/);
    // The listeners and clusters in place still serve.
    assert.equal((await request(session(), '/h1/still')).status, 200);
  });
});
