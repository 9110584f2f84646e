// Reading and writing trace context headers: W3C traceparent/tracestate, B3 single and multi, with the
// specifications' rules on invalid input (ignored: a new trace starts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sampled, extractContext, injectContext } from '../../src/proxy/telemetry/tracing/propagation.ts';

const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const span = '00f067aa0ba902b7';

describe('reading a request\'s trace context', () => {
  it('reads a W3C traceparent with its sampled flag and tracestate', () => {
    const ctx = extractContext(['traceparent', `00-${trace}-${span}-01`, 'tracestate', 'a=1', 'tracestate', 'b=2']);
    assert.equal(ctx?.traceId, trace);
    assert.equal(ctx?.spanId, span);
    assert.equal(ctx?.sampled, Sampled.Yes);
    assert.equal(ctx?.traceState, 'a=1,b=2');
    assert.equal(extractContext(['traceparent', `00-${trace}-${span}-00`])?.sampled, Sampled.No);
  });

  it('ignores an invalid traceparent: version ff, all-zero ids, extra fields on version 00, bad hex', () => {
    for (const bad of [`ff-${trace}-${span}-01`, `00-${'0'.repeat(32)}-${span}-01`, `00-${trace}-${'0'.repeat(16)}-01`, `00-${trace}-${span}-01-extra`, `00-${trace}-${span}-0g`]) {
      assert.equal(extractContext(['traceparent', bad]), null, bad);
    }
  });

  it('accepts a later traceparent version with extra fields', () => {
    assert.equal(extractContext(['traceparent', `01-${trace}-${span}-01-future`])?.traceId, trace);
  });

  it('falls back to B3 when the traceparent is invalid', () => {
    const ctx = extractContext(['traceparent', 'garbage', 'b3', `${trace}-${span}-1`]);
    assert.equal(ctx?.spanId, span);
    assert.equal(ctx?.b3Single, true);
  });

  it('reads a single b3 header with a parent, and a bare sampling decision', () => {
    const ctx = extractContext(['b3', `${trace}-${span}-d-e457b5a2e4d86bd1`]);
    assert.equal(ctx?.sampled, Sampled.Yes, 'debug is sampled');
    assert.equal(ctx?.parentSpanId, 'e457b5a2e4d86bd1');
    const bare = extractContext(['b3', '0']);
    assert.equal(bare?.traceId, '');
    assert.equal(bare?.sampled, Sampled.No);
    assert.equal(extractContext(['b3', `${trace}-${span}`])?.sampled, Sampled.Unknown, 'no sampling state: deferred');
  });

  it('reads multi-header B3, 64-bit ids padded to 128, x-b3-flags debug as sampled', () => {
    const ctx = extractContext(['x-b3-traceid', 'E457B5A2E4D86BD1', 'x-b3-spanid', span, 'x-b3-sampled', 'true']);
    assert.equal(ctx?.traceId, `0000000000000000e457b5a2e4d86bd1`);
    assert.equal(ctx?.shortTraceId, true);
    assert.equal(ctx?.sampled, Sampled.Yes);
    assert.equal(extractContext(['x-b3-traceid', trace, 'x-b3-spanid', span, 'x-b3-sampled', '0', 'x-b3-flags', '1'])?.sampled, Sampled.Yes);
    assert.equal(extractContext(['x-b3-sampled', '0'])?.sampled, Sampled.No);
  });

  it('finds nothing in a request without trace headers', () => {
    assert.equal(extractContext(['host', 'reviews:9080', 'x-request-id', 'abc']), null);
  });
});

describe('writing the context going upstream', () => {
  it('writes traceparent and B3 multi headers, replacing the old ones, and keeps tracestate', () => {
    const headers = ['host', 'reviews', 'traceparent', 'old', 'x-b3-spanid', 'old', 'x-b3-spanid', 'dup', 'x-b3-parentspanid', 'old'];
    injectContext(headers, { traceId: trace, spanId: 'a2fb4a1d1a96d312', parentSpanId: '', sampled: true, traceState: 'a=1', shortTraceId: false, b3Single: false });
    const map = new Map<string, string[]>();
    for (let i = 0; i < headers.length; i += 2) map.set(headers[i], [...(map.get(headers[i]) ?? []), headers[i + 1]]);
    assert.deepEqual(map.get('traceparent'), [`00-${trace}-a2fb4a1d1a96d312-01`]);
    assert.deepEqual(map.get('tracestate'), ['a=1']);
    assert.deepEqual(map.get('x-b3-traceid'), [trace]);
    assert.deepEqual(map.get('x-b3-spanid'), ['a2fb4a1d1a96d312']);
    assert.deepEqual(map.get('x-b3-sampled'), ['1']);
    assert.equal(map.get('x-b3-parentspanid'), undefined, 'a root span has no parent');
    assert.equal(map.get('b3'), undefined, 'no single header unless the request used it');
  });

  it('rewrites a single b3 header the request carried, with 64-bit ids kept 64-bit', () => {
    const headers = ['b3', 'e457b5a2e4d86bd1-05e3ac9a4f6e3b90-0'];
    injectContext(headers, {
      traceId: '0000000000000000e457b5a2e4d86bd1', spanId: 'a2fb4a1d1a96d312', parentSpanId: '05e3ac9a4f6e3b90', sampled: false, traceState: '',
      shortTraceId: true, b3Single: true,
    });
    assert.equal(headers[1], 'e457b5a2e4d86bd1-a2fb4a1d1a96d312-0-05e3ac9a4f6e3b90');
    assert.ok(headers.includes('00-0000000000000000e457b5a2e4d86bd1-a2fb4a1d1a96d312-00'));
  });
});
