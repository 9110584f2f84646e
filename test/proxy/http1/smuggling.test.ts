// Request smuggling defences of the HTTP/1.1 downstream codec: a request whose framing is ambiguous
// or malformed is answered as Envoy answers it, 400 (431 for an oversized header section, 501 for a
// Transfer-Encoding other than exactly `chunked`: codec_impl.cc, "unsupported transfer encoding"),
// and its connection closed, and the upstream never sees a second request or a body the client did
// not frame. Each payload carries a would-be smuggled `GET /smuggled` so that a proxy that misreads
// the framing forwards it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused, startProxy, type Proxy } from './support.ts';

let proxy: Proxy;

before(async () => { proxy = await startProxy(); });
after(async () => { await proxy.close(); });

const smuggled = 'GET /smuggled HTTP/1.1\r\nhost: a\r\n\r\n';

type Case = { name: string; path: string; bytes: string; status?: number; todo?: string };

function post(path: string, head: string, body: string, version = '1.1'): string {
  return `POST ${path} HTTP/${version}\r\nhost: a\r\n${head}\r\n${body}`;
}

const cases: Case[] = [
  {
    name: 'CL.TE: Content-Length and Transfer-Encoding: chunked together (body ends early by chunked)',
    path: '/cl-te',
    bytes: post('/cl-te', `content-length: ${5 + smuggled.length}\r\ntransfer-encoding: chunked\r\n`, `0\r\n\r\n${smuggled}`),
  },
  {
    name: 'TE.CL: Transfer-Encoding: chunked and a short Content-Length together',
    path: '/te-cl',
    bytes: post('/te-cl', 'transfer-encoding: chunked\r\ncontent-length: 4\r\n', `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`),
  },
  {
    name: 'two different Content-Length headers',
    path: '/two-lengths',
    bytes: post('/two-lengths', 'content-length: 5\r\ncontent-length: 6\r\n', `hello!${smuggled}`),
  },
  {
    name: 'a Content-Length list "5, 6"',
    path: '/length-list',
    bytes: post('/length-list', 'content-length: 5, 6\r\n', `hello!${smuggled}`),
  },
  {
    name: 'a non-numeric Content-Length',
    path: '/length-nan',
    bytes: post('/length-nan', 'content-length: abc\r\n', `hello${smuggled}`),
  },
  {
    name: 'a negative Content-Length',
    path: '/length-negative',
    bytes: post('/length-negative', 'content-length: -1\r\n', `hello${smuggled}`),
  },
  {
    name: 'a Content-Length with a sign ("+5")',
    path: '/length-plus',
    bytes: post('/length-plus', 'content-length: +5\r\n', `hello${smuggled}`),
  },
  {
    name: 'Transfer-Encoding "chunked, identity" (chunked not last)',
    path: '/te-chunked-identity',
    status: 501,
    bytes: post('/te-chunked-identity', 'transfer-encoding: chunked, identity\r\n', `5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'Transfer-Encoding: gzip alone',
    path: '/te-gzip',
    status: 501,
    bytes: post('/te-gzip', 'transfer-encoding: gzip\r\n', `5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'Transfer-Encoding: gzip with Content-Length (400: both set)',
    path: '/te-gzip-cl',
    bytes: post('/te-gzip-cl', 'transfer-encoding: gzip\r\ncontent-length: 5\r\n', `hello${smuggled}`),
  },
  {
    name: 'chunked listed twice in one Transfer-Encoding',
    path: '/te-chunked-twice',
    status: 501,
    bytes: post('/te-chunked-twice', 'transfer-encoding: chunked, chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'two Transfer-Encoding: chunked headers',
    path: '/te-two-headers',
    status: 501,
    bytes: post('/te-two-headers', 'transfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'Transfer-Encoding: xchunked',
    path: '/te-xchunked',
    status: 501,
    bytes: post('/te-xchunked', 'transfer-encoding: xchunked\r\n', `5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'whitespace between the header name and the colon ("Transfer-Encoding : chunked")',
    path: '/te-space-colon',
    bytes: post('/te-space-colon', 'content-length: 5\r\ntransfer-encoding : chunked\r\n', `0\r\n\r\n${smuggled}`),
  },
  {
    name: 'obs-fold: a header continued on a line starting with a space',
    path: '/obs-fold-space',
    bytes: post('/obs-fold-space', 'transfer-encoding: identity\r\n chunked\r\ncontent-length: 5\r\n', `0\r\n\r\n${smuggled}`),
  },
  {
    name: 'obs-fold: a header continued on a line starting with a tab',
    path: '/obs-fold-tab',
    bytes: `GET /obs-fold-tab HTTP/1.1\r\nhost: a\r\nx-folded: one\r\n\ttwo\r\n\r\n`,
  },
  {
    name: 'a bare CR inside a header value',
    path: '/bare-cr-value',
    bytes: `GET /bare-cr-value HTTP/1.1\r\nhost: a\r\nx-value: one\rtransfer-encoding: chunked\r\n\r\n`,
  },
  {
    name: 'a bare CR inside the request line',
    path: '/bare-cr-line',
    bytes: `GET /bare-cr-line\r HTTP/1.1\r\nhost: a\r\n\r\n`,
  },
  {
    name: 'a bare CR ending a header line',
    path: '/bare-cr-eol',
    bytes: `GET /bare-cr-eol HTTP/1.1\r\nhost: a\rx-after: 1\r\n\r\n`,
  },
  {
    name: 'bare LF line endings (node:http refuses them)',
    path: '/bare-lf',
    bytes: `POST /bare-lf HTTP/1.1\nhost: a\ncontent-length: 5\n\nhello`,
  },
  {
    name: 'a bare LF ending one header line among CRLF ones',
    path: '/bare-lf-mixed',
    bytes: post('/bare-lf-mixed', 'x-one: 1\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n', `0\r\n\r\n${smuggled}`),
  },
  {
    name: 'a chunk size that overflows 64 bits',
    path: '/chunk-overflow',
    bytes: post('/chunk-overflow', 'transfer-encoding: chunked\r\n', `1${'0'.repeat(16)}5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'a chunk size written "0x5"',
    path: '/chunk-0x',
    bytes: post('/chunk-0x', 'transfer-encoding: chunked\r\n', `0x5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'a negative chunk size',
    path: '/chunk-negative',
    bytes: post('/chunk-negative', 'transfer-encoding: chunked\r\n', `-5\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'a bare LF inside a chunk extension',
    path: '/chunk-ext-lf',
    bytes: post('/chunk-ext-lf', 'transfer-encoding: chunked\r\n', `5;ext\n0\r\nhello\r\n0\r\n\r\n${smuggled}`),
  },
  {
    name: 'chunk data longer than its size',
    path: '/chunk-too-long',
    bytes: post('/chunk-too-long', 'transfer-encoding: chunked\r\n', `5\r\nhello${smuggled}\r\n0\r\n\r\n`),
  },
  {
    name: 'a NUL byte in a header value',
    path: '/nul-value',
    bytes: `GET /nul-value HTTP/1.1\r\nhost: a\r\nx-value: one\x00two\r\n\r\n`,
  },
  {
    name: 'a control character in a header value',
    path: '/ctl-value',
    bytes: `GET /ctl-value HTTP/1.1\r\nhost: a\r\nx-value: one\x01two\r\n\r\n`,
  },
  {
    name: 'a NUL byte in a header name',
    path: '/nul-name',
    bytes: `GET /nul-name HTTP/1.1\r\nhost: a\r\nx-na\x00me: one\r\n\r\n`,
  },
  {
    name: 'a space inside the method',
    path: '/space-method',
    bytes: `GE T /space-method HTTP/1.1\r\nhost: a\r\n\r\n`,
  },
  {
    name: 'a space inside a header name',
    path: '/space-name',
    bytes: post('/space-name', 'transfer encoding: chunked\r\ncontent-length: 5\r\n', `0\r\n\r\n${smuggled}`),
  },
  {
    name: 'HTTP/1.0 with Transfer-Encoding: chunked',
    path: '/http10-te',
    bytes: post('/http10-te', 'transfer-encoding: chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${smuggled}`, '1.0'),
  },
  {
    name: 'a header section larger than 60 KiB is answered 431',
    path: '/huge-headers',
    status: 431,
    bytes: `GET /huge-headers HTTP/1.1\r\nhost: a\r\n${Array.from({ length: 70 }, (_, i) => `x-filler-${i}: ${'f'.repeat(1000)}\r\n`).join('')}\r\n`,
  },
];

describe('request smuggling defences', () => {
  let refused = 0;
  for (const c of cases) {
    it(`refuses ${c.name}`, c.todo === undefined ? {} : { todo: c.todo }, async () => {
      await assertRefused(proxy, c.bytes, c.status ?? 400, c.path);
      refused++;
    });
  }

  it('counts each refused connection as a protocol error (envoy_http_downstream_cx_protocol_error)', async () => {
    assert.equal(await proxy.harness.metric('envoy_http_downstream_cx_protocol_error'), refused);
    assert.ok(refused > 0);
  });
});
