// Bounded traffic for e2e tests: N requests through a sidecar, recording who answered.
import { Agent, request } from 'node:http';

export interface Outcome { status: number; version: string; startedAt: number; error?: string }

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export function productpage(port: number): Promise<Outcome> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/productpage', agent, headers: { host: 'productpage:9080' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let version = '?';
        try { version = JSON.parse(Buffer.concat(chunks).toString()).reviews.version ?? '?'; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, version, startedAt });
      });
    });
    req.on('error', (err) => resolve({ status: 0, version: 'error', startedAt, error: err.message }));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

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
