// Bounded traffic for e2e tests: N requests through a sidecar, recording who answered.
import { request } from 'node:http';
import { callProductpage as productpage, type Outcome } from '../../examples/bookinfo/client.ts';

export type { Outcome };

/** Sends `count` requests with `concurrency` in flight. */
export async function send(port: number, count: number, concurrency = 8): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++;
      out.push(await productpage(port));
    }
  }));
  return out;
}

/** Sends requests until stop() is called (bounded by maxCount), for traffic during a change. */
export function background(port: number, maxCount = 5000, concurrency = 4): { stop: () => Promise<Outcome[]> } {
  const out: Outcome[] = [];
  let running = true;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running && out.length < maxCount) {
      out.push(await productpage(port));
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return { stop: async () => { running = false; await Promise.all(workers); return out; } };
}

export function countBy(outcomes: Outcome[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const o of outcomes) c[o.version] = (c[o.version] ?? 0) + 1;
  return c;
}

export interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** One request to a sidecar port (or any port on 127.0.0.1), whole body read. */
export function call(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
