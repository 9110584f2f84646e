// Starts bookinfo in a mesh: each app on 127.0.0.1 behind its own sidecar.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Mesh, ProxyReady } from '../../test/harness/mesh.ts';
import type { ManagedProcess } from '../../test/harness/process.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const appScript = here('./app.ts');

export interface Workload {
  name: string;
  version: string;
  app: ManagedProcess<{ port: number }>;
  proxy: ManagedProcess<ProxyReady>;
}

export interface Bookinfo {
  productpage: Workload;
  reviews: Workload[];
  ratings: Workload;
  /** The sidecar a client outside the mesh app uses: productpage's outbound port. */
  entry: { host: string; port: number };
}

/** Starts one app and its sidecar; the app's outbound calls go through the sidecar. */
export async function startWorkload(mesh: Mesh, name: string, version: string): Promise<Workload> {
  // The app listens first (the sidecar needs its port); every port is picked by the OS, and the
  // app is told its sidecar's outbound port once the sidecar has announced it.
  const app = await mesh.startApp(`${name}-${version}`, appScript, ['--service', name, '--version', version], {});
  const proxy = await mesh.startProxy({
    name: `${name}-${version}`,
    labels: { app: name, version },
    inbound: [{ servicePort: 9080, appPort: app.ready.port }],
  });
  await setOutbound(app.ready.port, proxy.ready.outboundPort!);
  return { name, version, app, proxy };
}

/** Tells a running sample app where its sidecar's outbound port is. */
async function setOutbound(appPort: number, outboundPort: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${appPort}/_outbound?port=${outboundPort}`, { method: 'POST' });
  if (!res.ok) throw new Error(`could not configure app on ${appPort}: ${res.status}`);
}

export async function applyBookinfoServices(mesh: Mesh): Promise<void> {
  await mesh.apply(await readFile(here('./services.yaml'), 'utf8'));
}

/** Applies the bookinfo services (and `initialConfig`, e.g. a VirtualService), then starts every workload. */
export async function startBookinfo(mesh: Mesh, reviewVersions = ['v1', 'v2', 'v3'], initialConfig?: string): Promise<Bookinfo> {
  await applyBookinfoServices(mesh);
  if (initialConfig) await mesh.apply(initialConfig);
  const [ratings, productpage, ...reviews] = await Promise.all([
    startWorkload(mesh, 'ratings', 'v1'),
    startWorkload(mesh, 'productpage', 'v1'),
    ...reviewVersions.map((v) => startWorkload(mesh, 'reviews', v)),
  ]);
  return { productpage, reviews, ratings, entry: { host: '127.0.0.1', port: productpage.proxy.ready.outboundPort! } };
}
