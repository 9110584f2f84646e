// The upstream of every benchmark: a node:http server answering every request with 100 bytes
// (BENCH_BODY_BYTES) on a keep-alive connection. Runs in its own process.
//   node bench/upstream.ts      env: BENCH_CPUS (taskset CPU list to pin itself to), BENCH_BODY_BYTES
// Prints {"ready":true,"port":N,"pid":N} on stdout; exits on SIGTERM.
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pinProcess } from './cpu-pinning.ts';

pinProcess(process.pid, process.env.BENCH_CPUS || null);
const body = Buffer.alloc(Number(process.env.BENCH_BODY_BYTES || 100), 'x');
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.listen(0, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`${JSON.stringify({ ready: true, port: (server.address() as AddressInfo).port, pid: process.pid })}\n`);

process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
