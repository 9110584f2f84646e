// The upstream of every benchmark: a node:http server answering on keep-alive connections with
// 100 bytes (BENCH_BODY_BYTES), or 64 KiB for the path /64k. Runs in its own process.
//   node bench/upstream.ts      env: BENCH_CPUS (taskset CPU list to pin itself to), BENCH_BODY_BYTES
// Prints {"ready":true,"port":N,"pid":N} on stdout; exits on SIGTERM.
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pinProcess } from './cpu-pinning.ts';
import { largeBodyBytes, largeBodyPath } from './bodies.ts';

pinProcess(process.pid, process.env.BENCH_CPUS || null);
const small = Buffer.alloc(Number(process.env.BENCH_BODY_BYTES || 100), 'x');
const large = Buffer.alloc(largeBodyBytes, 'x');
const smallHeaders = { 'content-type': 'text/plain', 'content-length': String(small.length) };
const largeHeaders = { 'content-type': 'text/plain', 'content-length': String(large.length) };

const server = createServer((req, res) => {
  req.resume();
  const isLarge = req.url === largeBodyPath;
  res.writeHead(200, isLarge ? largeHeaders : smallHeaders);
  res.end(isLarge ? large : small);
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
