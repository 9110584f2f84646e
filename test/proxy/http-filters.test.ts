// The HTTP filter chain: filters registered by type URL run in order on requests and in reverse on
// responses (local replies included); a filter may stop iteration and resume the stream later.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FilterStatus, PassThroughFilter } from '../../src/proxy/http/filters/filter.ts';
import { registerHttpFilter } from '../../src/proxy/http/filters/registry.ts';
import type { HttpStream } from '../../src/proxy/http/stream.ts';
import { headerValue } from '../../src/proxy/http/routing/header-matcher.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, routerFilter, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const typeUrl = (name: string) => `type.googleapis.com/weft.test.${name}`;

/** Adds a request header and a response header: only the hooks it needs, over the pass-through base. */
class TagFilter extends PassThroughFilter {
  override decodeHeaders(stream: HttpStream): FilterStatus {
    stream.requestHeaders.push('x-tag', 'tagged');
    return FilterStatus.Continue;
  }
}

/** Pauses every request and response for a turn of the event loop before letting it go on. */
class PauseFilter extends PassThroughFilter {
  override decodeHeaders(stream: HttpStream): FilterStatus {
    setImmediate(() => stream.continueDecoding());
    return FilterStatus.StopIteration;
  }

  override encodeHeaders(stream: HttpStream): FilterStatus {
    setImmediate(() => {
      stream.responseHeaders!.push('x-paused-encode', 'yes');
      stream.continueEncoding();
    });
    return FilterStatus.StopIteration;
  }
}

/** Replies 403 itself when asked to; marks every response it sees. */
class DenyFilter extends PassThroughFilter {
  override decodeHeaders(stream: HttpStream): FilterStatus {
    if (headerValue(stream.requestHeaders, 'x-deny') === undefined) return FilterStatus.Continue;
    stream.sendLocalReply(403, Buffer.from('denied'), 0);
    return FilterStatus.StopIteration;
  }

  override encodeHeaders(stream: HttpStream): FilterStatus {
    stream.responseHeaders!.push('x-seen-by-deny', 'yes');
    return FilterStatus.Continue;
  }
}

const harness = new Harness();
let upstream: Upstream;
let port = 0;
const bigBody = Buffer.alloc(4 * 1024 * 1024, 'z');

before(async () => {
  registerHttpFilter(typeUrl('Tag'), () => () => new TagFilter('tag'));
  registerHttpFilter(typeUrl('Pause'), () => () => new PauseFilter('pause'));
  registerHttpFilter(typeUrl('Deny'), () => () => new DenyFilter('deny'));
  upstream = await startUpstream('app', (req, res) => {
    req.resume();
    if (req.url === '/big') {
      res.writeHead(200, { 'x-tag-seen': String(req.headers['x-tag']) });
      res.end(bigBody);
    } else {
      res.writeHead(200, { 'x-tag-seen': String(req.headers['x-tag']), 'content-length': '0' });
      res.end();
    }
  });
  const filters = [
    { name: 'tag', typed_config: { '@type': typeUrl('Tag') } },
    { name: 'pause', typed_config: { '@type': typeUrl('Pause') } },
    { name: 'deny', typed_config: { '@type': typeUrl('Deny') } },
    routerFilter,
  ];
  await harness.apply({
    clusters: [edsCluster('app')],
    endpoints: [assignment('app', [upstream.port])],
    listeners: [httpListener('l', { rds: 'routes', hcm: { http_filters: filters } })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('app'))])])],
  });
  port = harness.port();
});

after(async () => {
  await harness.close();
  await upstream.close();
});

describe('HTTP filters', () => {
  it('run decoders in order (one pausing) and encoders in reverse (one pausing)', async () => {
    const reply = await send(port, '/');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-tag-seen'], 'tagged');
    assert.equal(reply.headers['x-seen-by-deny'], 'yes');
    assert.equal(reply.headers['x-paused-encode'], 'yes');
  });

  it('stream a large body after an encoder paused the response headers', async () => {
    const reply = await send(port, '/big');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-paused-encode'], 'yes');
    assert.equal(reply.body.length, bigBody.length);
  });

  it('let a decoder answer locally, with the encoders before it still run', async () => {
    const reply = await send(port, '/', { headers: { 'x-deny': '1' } });
    assert.equal(reply.status, 403);
    assert.equal(reply.body, 'denied');
    assert.equal(reply.headers['x-paused-encode'], 'yes');
    assert.equal(reply.headers['x-seen-by-deny'], undefined, 'the replying filter itself does not encode');
    assert.equal(upstream.count, 2);
  });
});
