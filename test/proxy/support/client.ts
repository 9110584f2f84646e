// A small HTTP/1.1 client over node:http for tests: origin-form or absolute-form targets, explicit
// Host, keep-alive through an Agent the test controls.
import http from 'node:http';

export type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string; rawHeaders: string[] };

/** Every value of a header, in order, from a raw [name, value, ...] list (names compared case-insensitively). */
export function headerValues(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) values.push(rawHeaders[i + 1]);
  return values;
}

export type RequestOptions = {
  method?: string;
  host?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  agent?: http.Agent | false;
};

/** Sends one request to the proxy on `port`; `target` is a path (`/x`) or an absolute URL (`http://reviews:9080/x`). */
export function send(port: number, target: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...options.headers };
    if (options.host !== undefined) headers.host = options.host;
    const req = http.request({
      host: '127.0.0.1', port, method: options.method ?? 'GET', path: target, headers,
      agent: options.agent ?? false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), rawHeaders: res.rawHeaders }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends `n` requests one after the other. */
export async function sendMany(n: number, port: number, target: string, options: RequestOptions = {}): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (let i = 0; i < n; i++) replies.push(await send(port, target, options));
  return replies;
}

/** Which upstream answered each reply (the default upstream's JSON `upstream` field). */
export function upstreamsOf(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of replies) {
    const name = r.status === 200 ? (JSON.parse(r.body) as { upstream: string }).upstream : `status ${r.status}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
