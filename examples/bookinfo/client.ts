// A client outside the mesh calling productpage through its sidecar's inbound port, and reading
// which reviews version answered.
import { Agent, request } from 'node:http';

export interface Outcome {
  status: number;
  /** The reviews version that answered (v1, v2, v3), '?' when the body said nothing, 'error' on a failure. */
  version: string;
  startedAt: number;
  ms: number;
  error?: string;
}

const defaultAgent = new Agent({ keepAlive: true, maxSockets: 8 });

export function callProductpage(port: number, agent: Agent = defaultAgent, extraHeaders: Record<string, string> = {}): Promise<Outcome> {
  const startedAt = Date.now();
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/productpage', agent, headers: { ...extraHeaders, host: 'productpage:9080' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let version = '?';
        try { version = JSON.parse(Buffer.concat(chunks).toString()).reviews.version ?? '?'; } catch { /* an error page */ }
        resolve({ status: res.statusCode ?? 0, version, startedAt, ms: performance.now() - t0 });
      });
    });
    req.on('error', (err) => resolve({ status: 0, version: 'error', startedAt, ms: performance.now() - t0, error: err.message }));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}
