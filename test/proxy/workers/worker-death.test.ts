// A data-plane worker that dies is not replaced quietly: the pool reports it as fatal (the proxy then
// exits with an error for its supervisor to restart) and fails the requests it had in flight.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { silentLogger } from '../../../src/common/log.ts';
import { releaseSharedPort, reserveSharedPort } from '../../../src/proxy/workers/shared-ports.ts';
import { WorkerPool } from '../../../src/proxy/workers/worker-pool.ts';
import { waitFor } from '../support/wait.ts';

let pool: WorkerPool | undefined;
after(async () => { await pool?.close(); });

test('a worker that dies is reported as fatal, naming the worker', async () => {
  const reserved: net.Server = await reserveSharedPort('127.0.0.1', 0);
  const port = (reserved.address() as net.AddressInfo).port;
  const fatal: string[] = [];
  pool = new WorkerPool({
    concurrency: 2, logger: silentLogger, nodeId: 'test.default', nodeMetadata: {},
    reserved: [{ host: '127.0.0.1', port }], onFatal: (reason) => fatal.push(reason),
  });
  await pool.start();
  await releaseSharedPort(reserved);
  await pool.threads()[1].terminate();
  await waitFor('the fatal report', () => fatal.length, (n) => n > 0);
  assert.equal(fatal.length, 1);
  assert.match(fatal[0], /^data-plane worker 1 \(thread \d+\) died: exit code 1$/);
});

test('the main thread cannot reserve a port another process holds, as without workers', async () => {
  const holder: net.Server = await reserveSharedPort('127.0.0.1', 0);
  const port = (holder.address() as net.AddressInfo).port;
  try {
    await assert.rejects(reserveSharedPort('127.0.0.1', port), /EADDRINUSE/);
  } finally {
    await releaseSharedPort(holder);
  }
});

test('workers that cannot bind a reserved port fail the start, naming the reason', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (holder.address() as net.AddressInfo).port;
  const fatal: string[] = [];
  const failing = new WorkerPool({
    concurrency: 2, logger: silentLogger, nodeId: 'test.default', nodeMetadata: {},
    reserved: [{ host: '127.0.0.1', port }], onFatal: (reason) => fatal.push(reason),
  });
  try {
    await assert.rejects(failing.start(), /^Error: data-plane worker \d: listen EADDRINUSE/);
    assert.deepEqual(fatal, [], 'a failed start is reported by start(), not as a fatal death');
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});
