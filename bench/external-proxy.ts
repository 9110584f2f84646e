// A baseline proxy that is not ours (HAProxy, nginx) as a child process: a config written to a temp
// dir for ports picked beforehand, started in the foreground, pinned once it serves, and removed with
// its dir when stopped.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopProcess, waitFor, type ManagedProcess } from '../test/harness/process.ts';
import { pinProcess } from './cpu-pinning.ts';

/** A port the OS just handed out and released (HAProxy and nginx cannot report a port they picked). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export interface ExternalProxySpec {
  name: string;
  command: string;
  /** How many ports the proxy listens on. */
  ports: number;
  /** Writes the config into `dir` and returns the command's arguments. */
  configure(dir: string, ports: number[]): Promise<string[]>;
  /** True when the proxy serves (e.g. a request through it succeeds). */
  serving(ports: number[]): Promise<boolean>;
  cpus: string | null;
}

export interface ExternalProxy { proc: ManagedProcess<{ port: number }>; ports: number[]; stop(): Promise<void> }

export async function startExternalProxy(spec: ExternalProxySpec): Promise<ExternalProxy> {
  const dir = await mkdtemp(join(tmpdir(), `weft-bench-${spec.command.replace(/\W/g, '')}-`));
  try {
    for (let attempt = 1; ; attempt++) {
      const ports: number[] = [];
      for (let i = 0; i < spec.ports; i++) ports.push(await freePort());
      const args = await spec.configure(dir, ports);
      const child = spawn(spec.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const logs: string[] = [];
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => { logs.push(line); if (logs.length > 200) logs.shift(); });
      }
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
      const proc: ManagedProcess<{ port: number }> = { name: spec.name, child, pid: child.pid!, ready: { port: ports[0] }, logs, exited };
      const exitedEarly = (): boolean => child.exitCode !== null || child.signalCode !== null;
      // Another process may take a port between freePort() and the proxy's bind: then it exits and we
      // try again with other ports.
      const state = await waitFor(`${spec.name} serving on port ${ports.join(', ')}`,
        async () => (exitedEarly() ? 'exited' : (await spec.serving(ports)) && 'up'), 10_000)
        .catch(async (err: Error) => { await stopProcess(proc); throw new Error(`${err.message}; logs:\n${logs.join('\n')}`); });
      if (state === 'up') {
        pinProcess(proc.pid, spec.cpus);
        return {
          proc, ports,
          stop: async () => { await stopProcess(proc); await rm(dir, { recursive: true, force: true }); },
        };
      }
      if (attempt === 3) throw new Error(`${spec.name} exited before it served; logs:\n${logs.join('\n')}`);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
