// A small bookinfo: productpage -> details (v1, v2) and reviews (v1, v2, v3) -> ratings, shaped like
// Istio's sample where its networking samples depend on it:
//   - productpage calls details, then reviews, propagating the end-user header (header routing);
//   - productpage gives details 3 s and reviews 3 s per attempt with one retry (Istio's productpage:
//     the "bug" its fault-injection task uncovers: a ratings delay past 6 s empties the reviews part);
//   - reviews v1 shows no stars; v2 (black stars) gives ratings 10 s, v3 (red stars) 2.5 s.
// Outbound calls go to the local sidecar's outbound port with the target service as Host
// (e.g. `reviews:9080`); the app knows nothing else about the mesh.
// Usage: node app.ts --service NAME --version V [--port N] [--outbound HOST:PORT]
//
// productpage answers GET /productpage with JSON saying what Istio's page shows:
//   details / reviews         what each service answered, or { error: <the page's message> }
//   detailsVersion / reviewsVersion, detailsAvailable / reviewsAvailable, detailsStatus / reviewsStatus
//   reviewsAttempts           each try at reviews: { status } or { error: 'timeout' | <reason> }, with ms
//   stars                     'none' (reviews v1), 'black' (v2), 'red' (v3); absent without reviews
//   ratingsAvailable          false when reviews could not get ratings (then ratingsError says so)
// Its status is 200 when the reviews part rendered and 502 when reviews were unavailable (the part the
// demo and the tests measure); details failing leaves the page up, as on Istio's productpage.
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    service: { type: 'string' },
    version: { type: 'string', default: 'v1' },
    port: { type: 'string', default: '0' },
    outbound: { type: 'string', default: process.env.WEFT_OUTBOUND ?? '' },
    // For failure scenarios: answer every request with this status (e.g. 503).
    'fail-status': { type: 'string' },
  },
});
const service = values.service ?? 'ratings';
const version = values.version!;
let [outHost, outPort] = values.outbound!.split(':');
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let served = 0;

/** Istio's productpage: 3 s for details, 3 s per reviews attempt, two attempts. */
const productpageTimeouts = { detailsMs: 3000, reviewsMs: 3000, reviewsAttempts: 2 };
/** Istio's reviews: v2 (black stars) waits 10 s for ratings, v3 (red stars) 2.5 s. */
const ratingsTimeoutMs = version === 'v3' ? 2500 : 10_000;

const messages = {
  details: 'Sorry, product details are currently unavailable for this book.',
  reviews: 'Sorry, product reviews are currently unavailable for this book.',
  ratings: 'Ratings service is currently unavailable',
};

// Headers an application propagates to the services it calls, as Istio's bookinfo does: the user
// (for header-based routing) and the request id and trace context (for tracing).
const propagated = ['end-user', 'x-request-id', 'traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'b3'];

interface Answer { status: number; body: any; ms: number; error?: string }

/** One call through the sidecar; `error` is 'timeout' when `timeoutMs` passed first, else the socket error. */
function callService(host: string, path: string, incoming: IncomingMessage, timeoutMs: number): Promise<Answer> {
  const headers: Record<string, string> = { host };
  for (const h of propagated) {
    const v = incoming.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const req = request({ host: outHost, port: Number(outPort), path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* plain text error from the sidecar */ }
        finish({ status: res.statusCode ?? 0, body, ms: elapsed() });
      });
      res.on('error', (err) => finish({ status: 0, body: undefined, ms: elapsed(), error: err.message }));
    });
    const timer = setTimeout(() => {
      finish({ status: 0, body: undefined, ms: elapsed(), error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish({ status: 0, body: undefined, ms: elapsed(), error: err.message }));
    req.end();
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-served-by': `${service}-${version}` });
  res.end(text);
}

const bookDetails = {
  author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA',
  language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890',
};

async function reviewsPage(id: string, req: IncomingMessage): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = { service, version, id, reviews: [{ reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare.' }] };
  if (version !== 'v1') {
    const r = await callService('ratings:9080', `/ratings/${id}`, req, ratingsTimeoutMs);
    body.ratings = r.status === 200 ? { stars: r.body.ratings, color: version === 'v2' ? 'black' : 'red' }
      : { error: r.error === 'timeout' ? `ratings timed out after ${ratingsTimeoutMs} ms` : r.error ? `ratings unreachable: ${r.error}` : `ratings answered ${r.status}` };
  }
  return body;
}

async function productPage(req: IncomingMessage): Promise<{ status: number; body: Record<string, unknown> }> {
  const page: Record<string, unknown> = { service, version };
  const details = await callService('details:9080', '/details/0', req, productpageTimeouts.detailsMs);
  const detailsOk = details.status === 200 && typeof details.body === 'object';
  Object.assign(page, {
    details: detailsOk ? details.body : { error: messages.details },
    detailsStatus: details.status,
    detailsAvailable: detailsOk,
    ...(detailsOk ? { detailsVersion: details.body.version } : { detailsFailure: details.error ?? `details answered ${details.status}` }),
  });
  // Istio's productpage tries reviews twice, 3 s each, whatever went wrong the first time.
  const attempts: Answer[] = [];
  let reviews: Answer | undefined;
  for (let i = 0; i < productpageTimeouts.reviewsAttempts && !reviews; i++) {
    const a = await callService('reviews:9080', '/reviews/0', req, productpageTimeouts.reviewsMs);
    attempts.push(a);
    if (a.status === 200 && typeof a.body === 'object') reviews = a;
  }
  page.reviewsAttempts = attempts.map((a) => (a.error ? { error: a.error, ms: a.ms } : { status: a.status, ms: a.ms }));
  const last = attempts[attempts.length - 1];
  page.reviewsStatus = last.status;
  if (!reviews) {
    Object.assign(page, { reviews: { error: messages.reviews }, reviewsAvailable: false });
    return { status: 502, body: page };
  }
  const ratings = reviews.body.ratings as { color?: string; error?: string } | undefined;
  Object.assign(page, {
    reviews: reviews.body,
    reviewsAvailable: true,
    reviewsVersion: reviews.body.version,
    stars: ratings === undefined ? 'none' : ratings.color ?? 'none',
    ratingsAvailable: ratings === undefined ? null : !ratings.error,
    ...(ratings?.error ? { ratingsError: messages.ratings } : {}),
  });
  return { status: 200, body: page };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (url === '/health') return reply(res, 200, { status: 'ok' });
  if (values['fail-status']) {
    served++;
    return reply(res, Number(values['fail-status']), { error: 'failing on purpose', service, version, served });
  }
  if (req.method === 'POST' && url.startsWith('/_outbound?port=')) {
    // Set by whoever starts the app next to its sidecar, once the sidecar's port is known.
    outHost = '127.0.0.1';
    outPort = url.slice('/_outbound?port='.length);
    return reply(res, 200, { outbound: `${outHost}:${outPort}` });
  }
  if (service === 'ratings' && url.startsWith('/ratings/')) {
    return reply(res, 200, { service, version, id: url.split('/')[2], ratings: { Reviewer1: 5, Reviewer2: 4 } });
  }
  if (service === 'details' && url.startsWith('/details/')) {
    return reply(res, 200, { service, version, id: Number(url.split('/')[2]), ...bookDetails });
  }
  if (service === 'reviews' && url.startsWith('/reviews/')) {
    return reply(res, 200, await reviewsPage(url.split('/')[2], req));
  }
  if (service === 'productpage' && url.startsWith('/productpage')) {
    const page = await productPage(req);
    return reply(res, page.status, page.body);
  }
  reply(res, 404, { error: `no such path ${url}`, service, version });
}

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.resume();
  handle(req, res).catch((err) => reply(res, 502, { error: String(err) }));
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const port = (server.address() as { port: number }).port;
  process.stdout.write(JSON.stringify({ ready: true, service, version, port, pid: process.pid }) + '\n');
});
const stop = () => { server.closeAllConnections(); server.close(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
