// A client outside the mesh calling productpage through a sidecar (productpage's, or any whose
// outbound port routes productpage:9080), and reading what the page shows.
import { Agent, request } from 'node:http';

export interface Outcome {
  status: number;
  /** The reviews version that answered (v1, v2, v3), '?' when the body said nothing, 'error' on a failure. */
  version: string;
  startedAt: number;
  ms: number;
  error?: string;
}

/** What productpage's JSON says (see app.ts). */
export interface Page {
  service?: string;
  details?: Record<string, unknown> & { error?: string };
  detailsAvailable?: boolean;
  detailsStatus?: number;
  detailsVersion?: string;
  detailsFailure?: string;
  reviews?: Record<string, unknown> & { error?: string; version?: string; ratings?: { stars?: unknown; color?: string; error?: string } };
  reviewsAvailable?: boolean;
  reviewsStatus?: number;
  reviewsVersion?: string;
  reviewsAttempts?: { status?: number; error?: string; ms: number }[];
  stars?: 'none' | 'black' | 'red';
  ratingsAvailable?: boolean | null;
  ratingsError?: string;
}

export interface PageOutcome { status: number; ms: number; page: Page; text: string }

const defaultAgent = new Agent({ keepAlive: true, maxSockets: 8 });

export function callProductpage(port: number, agent: Agent = defaultAgent, extraHeaders: Record<string, string> = {}): Promise<Outcome> {
  const startedAt = Date.now();
  const t0 = performance.now();
  return fetchPage(port, extraHeaders, agent).then(
    (o) => ({ status: o.status, version: o.page.reviews?.version ?? '?', startedAt, ms: o.ms }),
    (err: Error) => ({ status: 0, version: 'error', startedAt, ms: performance.now() - t0, error: err.message }),
  );
}

/** GET /productpage (Host productpage:9080) with `headers` (e.g. end-user); rejects on a socket error. */
export function fetchPage(port: number, headers: Record<string, string> = {}, agent: Agent = defaultAgent, timeoutMs = 10_000): Promise<PageOutcome> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/productpage', agent, headers: { ...headers, host: 'productpage:9080' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let page: Page = {};
        try { page = JSON.parse(text); } catch { /* an error page from a sidecar */ }
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, page, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.end();
  });
}
