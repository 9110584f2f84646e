// An upstream whose behaviour each request chooses, keyed by the test's request id, so that retries of
// one request can be told apart from other requests: `x-test-id` names the request, `x-fail` how its
// first `x-fail-times` attempts fail (503, 500, 429, reset, slow, grpc-unavailable, partial), and later
// attempts answer 200 with JSON describing what arrived (attempt number, body length and hash).
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { startUpstream, type Upstream } from './upstream.ts';

export type ScriptedReply = { upstream: string; attempt: number; method: string; bodyLength: number; bodySha256: string };

export type ScriptedUpstream = Upstream & {
  /** Attempts seen per x-test-id. */
  attempts: Map<string, number>;
};

/** How long a `slow` attempt waits before answering (it is normally abandoned long before). */
export const slowMs = 2000;

export async function startScriptedUpstream(name: string): Promise<ScriptedUpstream> {
  const attempts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const upstream = await startUpstream(name, (req, res) => {
    const id = String(req.headers['x-test-id'] ?? '');
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => { length += chunk.length; hash.update(chunk); });
    req.on('end', () => {
      const failing = attempt <= Number(req.headers['x-fail-times'] ?? 0);
      if (failing) fail(String(req.headers['x-fail'] ?? '503'), req, res, timers);
      else reply(res, { upstream: name, attempt, method: req.method!, bodyLength: length, bodySha256: hash.digest('hex') });
    });
  });
  const close = upstream.close;
  return Object.assign(upstream, {
    attempts,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      await close();
    },
  });
}

function reply(res: http.ServerResponse, body: ScriptedReply): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function fail(mode: string, req: http.IncomingMessage, res: http.ServerResponse, timers: Set<NodeJS.Timeout>): void {
  switch (mode) {
    case 'reset':
      req.socket.destroy();
      return;
    case 'partial':
      // The response starts, then the connection dies.
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => req.socket.destroy());
      return;
    case 'slow': {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) res.end('late');
      }, slowMs);
      timers.add(timer);
      res.on('close', () => { clearTimeout(timer); timers.delete(timer); });
      return;
    }
    case 'grpc-unavailable':
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'unavailable', 'content-length': '0' });
      res.end();
      return;
    default: {
      const status = Number(mode);
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(mode.length) });
      res.end(mode);
    }
  }
}
