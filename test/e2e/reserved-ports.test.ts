// A sidecar reserves its ports at start, before its control plane has sent any listener: a connection
// to such a port meanwhile is refused at once (reset), as a port nothing listens on yet refuses it,
// instead of hanging until a listener may some day adopt the port. With one data-plane thread and
// with two workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { weftBin } from '../harness/mesh.ts';
import { closedPort } from '../proxy/support/upstream.ts';

/** Connects and waits for the connection to end; 'refused' (reset or closed) or 'open' if it is still open at the deadline. */
function connectOutcome(port: number, deadlineMs: number): Promise<'connected, then reset' | 'refused' | 'still open'> {
  return new Promise((resolve) => {
    let connected = false;
    const socket = net.connect(port, '127.0.0.1', () => { connected = true; });
    const timer = setTimeout(() => { socket.destroy(); resolve('still open'); }, deadlineMs);
    socket.on('error', () => {});
    socket.on('close', () => { clearTimeout(timer); resolve(connected ? 'connected, then reset' : 'refused'); });
  });
}

for (const concurrency of [1, 2]) {
  test(`a connection to a reserved port before any listener config is reset (--concurrency ${concurrency})`, async () => {
    const port = await closedPort();
    // No control plane answers on port 1: the sidecar holds its ports and waits for config.
    const proxy = spawn(process.execPath, [weftBin, 'proxy', '--xds-address', '127.0.0.1:1', '--plaintext-xds', '--admin-address', '127.0.0.1:0',
      '--outbound-port', String(port), '--concurrency', String(concurrency)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((resolve) => proxy.once('exit', () => resolve()));
    try {
      // Wait until the port is held (a connection is accepted rather than refused by the kernel).
      let outcome: Awaited<ReturnType<typeof connectOutcome>> = 'refused';
      const deadline = Date.now() + 20_000;
      while (outcome === 'refused' && Date.now() < deadline) {
        outcome = await connectOutcome(port, 5000);
        if (outcome === 'refused') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(outcome, 'connected, then reset');
    } finally {
      proxy.kill('SIGKILL');
      await exited;
    }
  });
}
