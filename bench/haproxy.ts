// HAProxy as a baseline proxy: one process per hop, `nbthread 1`, HTTP mode, keep-alive on both sides
// and idle server connections shared between clients (`http-reuse always`), like a sidecar's pool.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopProcess, waitFor, type ManagedProcess } from '../test/harness/process.ts';
import { pinProcess } from './cpu-pinning.ts';
import { answers } from './probe.ts';

/** `haproxy -v`'s first line, or null when HAProxy is not installed. */
export function haproxyVersion(): string | null {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return null;
  return /version (\S+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0];
}

export function haproxyConfig(port: number, serverPort: number): string {
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s

frontend bench
  bind 127.0.0.1:${port}
  default_backend upstream

backend upstream
  server upstream 127.0.0.1:${serverPort}
`;
}

/** A port the OS just handed out and released (HAProxy cannot report a port it picked itself). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface HaproxyHop { proc: ManagedProcess<{ port: number }>; port: number; dir: string }

/** Starts one HAProxy process listening on a fresh port and forwarding to 127.0.0.1:serverPort. */
async function startHop(name: string, serverPort: number, cpus: string | null): Promise<HaproxyHop> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-bench-haproxy-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = join(dir, 'haproxy.cfg');
      await writeFile(config, haproxyConfig(port, serverPort));
      const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      const logs: string[] = [];
      createInterface({ input: child.stderr! }).on('line', (line) => { logs.push(line); if (logs.length > 200) logs.shift(); });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
      const proc: ManagedProcess<{ port: number }> = { name, child, pid: child.pid!, ready: { port }, logs, exited };
      const exitedEarly = (): boolean => child.exitCode !== null || child.signalCode !== null;
      // Another process may take the port between freePort() and HAProxy's bind: then HAProxy exits
      // and we try again with another port.
      const state = await waitFor(`${name} serving on port ${port}`,
        async () => (exitedEarly() ? 'exited' : (await answers(port, 'upstream:9080')) && 'up'), 10_000)
        .catch(async (err: Error) => { await stopProcess(proc); throw err; });
      if (state === 'up') {
        pinProcess(proc.pid, cpus);
        return { proc, port, dir };
      }
      if (attempt === 3) throw new Error(`${name} exited before it served; logs:\n${logs.join('\n')}`);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function stopHop(hop: HaproxyHop): Promise<void> {
  await stopProcess(hop.proc);
  await rm(hop.dir, { recursive: true, force: true });
}

/** `hops` HAProxy processes chained in front of the upstream; the first one is where clients send. */
export async function startHaproxyChain(hops: number, upstreamPort: number, cpus: string | null): Promise<HaproxyHop[]> {
  const chain: HaproxyHop[] = [];
  try {
    let next = upstreamPort;
    for (let i = hops; i >= 1; i--) {
      const hop = await startHop(`haproxy ${i}/${hops}`, next, cpus);
      chain.unshift(hop);
      next = hop.port;
    }
    return chain;
  } catch (err) {
    await Promise.all(chain.map(stopHop));
    throw err;
  }
}
