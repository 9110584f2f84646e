// Weft's paths: a control plane, the upstream's sidecar (inbound 9080 → the upstream) and, for a pair,
// a client sidecar (outbound only), started by the e2e harness. Clients send to the client sidecar's
// outbound port (pair) or the upstream sidecar's inbound port (single) with Host upstream:9080.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Mesh } from '../test/harness/mesh.ts';
import { pinProcess } from './cpu-pinning.ts';
import { waitAnswers, waitReady } from './probe.ts';
import { serviceHost } from './service.ts';
import { meshConfigFor, meshPolicies, peerAuthentication, telemetryConfig, upstreamServiceEntry, type WeftVariant } from './weft-config.ts';

export interface WeftTopology {
  mesh: Mesh;
  /** The upstream's sidecar: its inbound port and pid. */
  server: { port: number; pid: number };
  /** The client's sidecar (absent with `serverOnly`): its outbound port and pid. */
  client: { port: number; pid: number } | null;
  stop(): Promise<void>;
}

export interface WeftStart extends WeftVariant {
  /** Only the upstream's sidecar (a single proxy). */
  serverOnly?: boolean;
  /** Extra `weft proxy` flags of the upstream's sidecar. */
  serverArgs?: string[];
  /** CPUs for the upstream's sidecar when it should not share the proxies' CPU (taskset list). */
  serverCpus?: string | null;
}

export async function startWeft(upstreamPort: number, cpus: { proxy: string | null; load: string | null }, options: WeftStart = {}): Promise<WeftTopology> {
  const meshConfig = meshConfigFor(options);
  let meshConfigFile: string | undefined;
  if (meshConfig !== '') {
    meshConfigFile = join(await mkdtemp(join(tmpdir(), 'weft-bench-mesh-')), 'mesh.yaml');
    await writeFile(meshConfigFile, meshConfig);
  }
  const removeConfig = async (): Promise<void> => {
    if (meshConfigFile) await rm(dirname(meshConfigFile), { recursive: true, force: true });
  };
  const mesh = await Mesh.start(meshConfigFile ? { controlPlaneArgs: ['--mesh-config', meshConfigFile] } : {}).catch(async (err: Error) => {
    await removeConfig();
    throw err;
  });
  const stop = async (): Promise<void> => {
    await mesh.stop();
    await removeConfig();
  };
  try {
    pinProcess(mesh.controlPlane.pid, cpus.load);
    await mesh.apply(upstreamServiceEntry);
    await mesh.apply(meshPolicies);
    await mesh.apply(peerAuthentication(options.mtls ? 'STRICT' : 'DISABLE'));
    const telemetry = telemetryConfig(options);
    if (telemetry !== '') await mesh.apply(telemetry);
    const server = await mesh.startProxy({
      name: 'upstream', labels: { app: 'upstream' }, inbound: [{ servicePort: 9080, appPort: upstreamPort }], outbound: false,
      extraArgs: options.serverArgs ?? [],
    });
    pinProcess(server.pid, options.serverCpus === undefined ? cpus.proxy : options.serverCpus);
    await waitReady('upstream sidecar', server.ready.adminPort);
    const inboundPort = server.ready.inbound[0].port;
    if (!options.mtls) await waitAnswers('a request through the upstream sidecar', inboundPort, serviceHost);
    let client: WeftTopology['client'] = null;
    if (!options.serverOnly) {
      const proxy = await mesh.startProxy({ name: 'client', labels: { app: 'client' }, inbound: [] });
      pinProcess(proxy.pid, cpus.proxy);
      await waitReady('client sidecar', proxy.ready.adminPort);
      await waitAnswers('a request through the client and upstream sidecars', proxy.ready.outboundPort!, serviceHost);
      client = { port: proxy.ready.outboundPort!, pid: proxy.pid };
    }
    return { mesh, server: { port: inboundPort, pid: server.pid }, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
