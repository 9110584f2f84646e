// A workload that resets every connection as soon as a request arrives, before any response: what an
// upstream crash mid-request looks like to its sidecar. Prints one JSON ready line: {"ready":true,"port":N}.
import { createServer } from 'node:net';

const server = createServer((socket) => {
  socket.once('data', () => socket.resetAndDestroy());
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ ready: true, port, pid: process.pid }) + '\n');
});
process.on('SIGTERM', () => { server.close(); process.exit(0); });
