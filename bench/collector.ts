// A trace collector sink for the benchmark: accepts OTLP/HTTP (POST /v1/traces) and Zipkin
// (POST /api/v2/spans) exports, counts them and discards the bodies. Runs in the benchmark process,
// which sits on the load generator's CPU, not the proxies'.
import { createServer } from 'node:http';

export interface Collector { port: number; posts: () => number; close(): Promise<void> }

export async function startCollector(): Promise<Collector> {
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') posts++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    posts: () => posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
