// Starts every path BENCH_TARGETS asks for, each proxy on the proxies' CPU; a path that does not start
// is reported (its rows say why) rather than failing the run.
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { weftBin, type Mesh } from '../test/harness/mesh.ts';
import type { Placement } from './cpu-pinning.ts';
import { makeCertificates } from './certs.ts';
import { startCollector } from './collector.ts';
import type { ExternalProxy } from './external-proxy.ts';
import { haproxyVersion, startHaproxyMtlsPair, startHaproxyPair, startHaproxySingle } from './haproxy.ts';
import { nginxVersion, startNginxSingle } from './nginx.ts';
import { serviceHost } from './service.ts';
import { targetNames, type Target, type TargetId } from './target.ts';
import { startWeft, type WeftStart, type WeftTopology } from './weft.ts';

export interface Started {
  targets: Map<TargetId, Target>;
  /** Paths that did not start, and why. */
  failures: Map<TargetId, string>;
  /** A running Weft mesh (plaintext), for the readiness measurement; null when no Weft path runs. */
  mesh: Mesh | null;
  /** Where the `--concurrency 2` sidecar runs, for the results. */
  concurrencyPlacement: string;
}

const target = (id: TargetId, h1Port: number, h2Port: number | null, proxyPids: number[]): Target =>
  ({ id, name: targetNames[id], h1Port, h2Port, host: serviceHost, proxyPids });

/** Whether `weft proxy --help` lists a flag (one being built may not be there yet). */
function proxyHasFlag(flag: string): boolean {
  const r = spawnSync(process.execPath, [weftBin, 'proxy', '--help'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes(flag);
}

const pids = (hops: ExternalProxy[]): number[] => hops.map((h) => h.proc.pid);

export async function startTargets(wanted: Set<TargetId>, upstreamPort: number, placement: Placement,
  stops: (() => Promise<void>)[], log: (line: string) => void): Promise<Started> {
  const targets = new Map<TargetId, Target>();
  const failures = new Map<TargetId, string>();
  const cpus = { proxy: placement.proxyCpus, load: placement.loadCpus };
  const attempt = async (ids: TargetId[], starter: () => Promise<Target[]>): Promise<void> => {
    const asked = ids.filter((id) => wanted.has(id));
    if (asked.length === 0) return;
    log(`starting ${asked.map((id) => targetNames[id]).join(', ')}`);
    try {
      for (const t of await starter()) if (wanted.has(t.id)) targets.set(t.id, t);
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0];
      log(`${asked.join(', ')} did not start: ${(err as Error).message}`);
      for (const id of asked) failures.set(id, reason);
    }
  };
  const external = async (hops: Promise<ExternalProxy | ExternalProxy[]>): Promise<ExternalProxy[]> => {
    const list = [await hops].flat();
    for (const hop of list) stops.push(hop.stop);
    return list;
  };
  const weft = async (options: WeftStart): Promise<WeftTopology> => {
    const topology = await startWeft(upstreamPort, cpus, options);
    stops.push(topology.stop);
    return topology;
  };

  if (wanted.has('direct')) targets.set('direct', target('direct', upstreamPort, null, []));
  const haproxy = haproxyVersion() !== null;
  const haproxyIds: TargetId[] = ['haproxy', 'haproxy-pair', 'haproxy-pair-mtls'];
  if (!haproxy) for (const id of haproxyIds) if (wanted.has(id)) failures.set(id, 'HAProxy is not installed (apt-get install haproxy)');
  if (haproxy) {
    await attempt(['haproxy'], async () => {
      const [single] = await external(startHaproxySingle(upstreamPort, cpus.proxy));
      return [target('haproxy', single.ports[0], single.ports[1], [single.proc.pid])];
    });
    await attempt(['haproxy-pair'], async () => {
      const pair = await external(startHaproxyPair(upstreamPort, cpus.proxy));
      return [target('haproxy-pair', pair[0].ports[0], null, pids(pair))];
    });
    await attempt(['haproxy-pair-mtls'], async () => {
      const certs = await makeCertificates();
      stops.push(() => rm(certs.dir, { recursive: true, force: true }));
      const pair = await external(startHaproxyMtlsPair(upstreamPort, cpus.proxy, certs));
      return [target('haproxy-pair-mtls', pair[0].ports[0], null, pids(pair))];
    });
  }
  if (wanted.has('nginx') && nginxVersion() === null) failures.set('nginx', 'nginx is not installed (apt-get install nginx)');
  else {
    await attempt(['nginx'], async () => {
      const [single] = await external(startNginxSingle(upstreamPort, cpus.proxy));
      return [target('nginx', single.ports[0], single.ports[1], [single.proc.pid])];
    });
  }

  let mesh: Mesh | null = null;
  await attempt(['weft', 'weft-pair'], async () => {
    const t = await weft({});
    mesh = t.mesh;
    return [target('weft', t.server.port, t.server.port, [t.server.pid]), target('weft-pair', t.client!.port, null, [t.client!.pid, t.server.pid])];
  });
  // N worker threads share the listeners, so the sidecar may use both CPUs: it shares CPU 0 with the
  // load generator and the upstream.
  const concurrencyCpus = placement.pinned ? `${placement.loadCpus},${placement.proxyCpus}` : null;
  if (wanted.has('weft-c2') && !proxyHasFlag('--concurrency')) failures.set('weft-c2', 'not available: this `weft proxy` has no --concurrency flag');
  else await attempt(['weft-c2'], async () => {
    const t = await weft({ serverOnly: true, serverArgs: ['--concurrency', '2'], serverCpus: concurrencyCpus });
    return [target('weft-c2', t.server.port, t.server.port, [t.server.pid])];
  });
  await attempt(['weft-pair-mtls'], async () => {
    const t = await weft({ mtls: true });
    mesh ??= t.mesh;
    return [target('weft-pair-mtls', t.client!.port, null, [t.client!.pid, t.server.pid])];
  });
  await attempt(['weft-pair-bare'], async () => {
    const t = await weft({ telemetry: 'none' });
    return [target('weft-pair-bare', t.client!.port, null, [t.client!.pid, t.server.pid])];
  });
  await attempt(['weft-pair-tracing'], async () => {
    const collector = await startCollector();
    stops.push(() => collector.close());
    const t = await weft({ telemetry: 'tracing', collectorPort: collector.port });
    return [target('weft-pair-tracing', t.client!.port, null, [t.client!.pid, t.server.pid])];
  });
  const concurrencyPlacement = concurrencyCpus === null ? 'unpinned' : `allowed on CPUs ${concurrencyCpus} (it shares CPU ${placement.loadCpus} with the load generator and the upstream)`;
  return { targets, failures, mesh, concurrencyPlacement };
}
