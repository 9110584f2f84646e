// HAProxy as the baseline proxy: one process per hop, `nbthread 1`, HTTP mode, keep-alive on both sides
// and idle server connections shared between clients (`http-reuse always`), like a sidecar's pool.
// Three shapes: a single proxy (HTTP/1.1 and h2c listeners), a pair in plaintext, and a pair whose
// hops talk mutual TLS (the client hop verifies the server's certificate and name, the server hop
// requires a client certificate), the baseline for Weft's mTLS pair.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { answers } from './probe.ts';
import type { Certificates } from './certs.ts';
import { accepts, startExternalProxy, type ExternalProxy } from './external-proxy.ts';
import { serviceHost } from './service.ts';

/** `haproxy -v`'s version, or null when HAProxy is not installed. */
export function haproxyVersion(): string | null {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return null;
  return /version (\S+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0];
}

const defaults = `global
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
`;

/** The lines that differ between hops: what the frontend binds and how the backend reaches its server. */
export interface HopShape { binds: string[]; server: string }

export function haproxyConfig(shape: HopShape): string {
  return `${defaults}
frontend bench
${shape.binds.map((b) => `  bind ${b}`).join('\n')}
  default_backend next

backend next
  server next ${shape.server}
`;
}

async function startHop(name: string, cpus: string | null, ports: number,
  shape: (ports: number[]) => HopShape, serving: (ports: number[]) => Promise<boolean>): Promise<ExternalProxy> {
  return startExternalProxy({
    name, command: 'haproxy', ports, cpus, serving,
    configure: async (dir, p) => {
      const config = join(dir, 'haproxy.cfg');
      await writeFile(config, haproxyConfig(shape(p)));
      return ['-db', '-f', config];
    },
  });
}

const answersOn = (ports: number[]): Promise<boolean> => answers(ports[0], serviceHost);

/** One HAProxy in front of the upstream: ports[0] speaks HTTP/1.1, ports[1] h2c (prior knowledge). */
export function startHaproxySingle(upstreamPort: number, cpus: string | null): Promise<ExternalProxy> {
  return startHop('haproxy single', cpus, 2,
    ([h1, h2]) => ({ binds: [`127.0.0.1:${h1}`, `127.0.0.1:${h2} proto h2`], server: `127.0.0.1:${upstreamPort}` }), answersOn);
}

/** Two HAProxies in a row, plaintext; the first one is where clients send. */
export async function startHaproxyPair(upstreamPort: number, cpus: string | null): Promise<ExternalProxy[]> {
  const server = await startHop('haproxy pair 2/2', cpus, 1,
    ([p]) => ({ binds: [`127.0.0.1:${p}`], server: `127.0.0.1:${upstreamPort}` }), answersOn);
  try {
    const client = await startHop('haproxy pair 1/2', cpus, 1,
      ([p]) => ({ binds: [`127.0.0.1:${p}`], server: `127.0.0.1:${server.ports[0]}` }), answersOn);
    return [client, server];
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Two HAProxies in a row talking mutual TLS to each other (keep-alive, so handshakes are rare). */
export async function startHaproxyMtlsPair(upstreamPort: number, cpus: string | null, certs: Certificates): Promise<ExternalProxy[]> {
  const server = await startHop('haproxy mTLS pair 2/2', cpus, 1, ([p]) => ({
    binds: [`127.0.0.1:${p} ssl crt ${certs.serverPem} ca-file ${certs.caFile} verify required`],
    server: `127.0.0.1:${upstreamPort}`,
  }), ([p]) => accepts(p));
  try {
    const client = await startHop('haproxy mTLS pair 1/2', cpus, 1, ([p]) => ({
      binds: [`127.0.0.1:${p}`],
      server: `127.0.0.1:${server.ports[0]} ssl verify required ca-file ${certs.caFile} crt ${certs.clientPem} `
        + `sni str(${certs.serverName}) verifyhost ${certs.serverName}`,
    }), answersOn);
    return [client, server];
  } catch (err) {
    await server.stop();
    throw err;
  }
}
