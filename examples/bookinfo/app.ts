// A tiny bookinfo-like application: productpage -> reviews (v1, v2, v3) -> ratings.
// Outbound calls go to the local sidecar's outbound port with the target service as Host
// (e.g. `reviews:9080`); the app knows nothing else about the mesh.
// Usage: node app.ts --service NAME --version V [--port N] [--outbound HOST:PORT]
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

// Headers an application propagates to the services it calls, as Istio's bookinfo does: the user
// (for header-based routing) and the request id and trace context (for tracing).
const propagated = ['end-user', 'x-request-id', 'traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'b3'];

function callService(host: string, path: string, incoming: IncomingMessage): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { host };
  for (const h of propagated) {
    const v = incoming.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: outHost, port: Number(outPort), path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* plain text error from the sidecar */ }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-served-by': `${service}-${version}` });
  res.end(text);
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
  if (service === 'reviews' && url.startsWith('/reviews/')) {
    const id = url.split('/')[2];
    const body: Record<string, unknown> = { service, version, id, reviews: [{ reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare.' }] };
    if (version !== 'v1') {
      const r = await callService('ratings:9080', `/ratings/${id}`, req);
      body.ratings = r.status === 200 ? { stars: r.body.ratings, color: version === 'v2' ? 'black' : 'red' } : { error: `ratings answered ${r.status}` };
    }
    return reply(res, 200, body);
  }
  if (service === 'productpage' && url.startsWith('/productpage')) {
    const r = await callService('reviews:9080', '/reviews/0', req);
    return reply(res, r.status === 200 ? 200 : 502, { service, version, reviews: r.body, reviewsStatus: r.status });
  }
  reply(res, 404, { error: `no such path ${url}` });
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
