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
  details: Workload[];
  reviews: Workload[];
  ratings: Workload;
  /** The sidecar a client outside the mesh app uses: productpage's outbound port. */
  entry: { host: string; port: number };
}

export interface BookinfoOptions {
  /**
   * The details versions to run (Istio's bookinfo runs v1; its details-v2 deployment is extra).
   * Default none: productpage then shows details as unavailable, which the reviews-only scenarios
   * (the demo's split, the resilience tests) do not look at.
   */
  detailsVersions?: string[];
  /**
   * Apply destination-rules.yaml (every service's versions as subsets) before starting the
   * workloads. Default true; false leaves the subsets to the caller, e.g. Istio's
   * destination-rule-all.yaml, as Istio's tasks apply it.
   */
  subsets?: boolean;
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

/** The ServiceEntries of productpage, details, reviews and ratings. */
export async function applyBookinfoServices(mesh: Mesh): Promise<void> {
  await mesh.apply(await readFile(here('./services.yaml'), 'utf8'));
}

/** The DestinationRules naming each service's versions as subsets. */
export async function applyBookinfoSubsets(mesh: Mesh): Promise<void> {
  await mesh.apply(await readFile(here('./destination-rules.yaml'), 'utf8'));
}

/**
 * Applies the bookinfo services and subsets (and `initialConfig`, e.g. a VirtualService), then starts
 * every workload: productpage v1, the given reviews and details versions, ratings v1.
 */
export async function startBookinfo(mesh: Mesh, reviewVersions = ['v1', 'v2', 'v3'], initialConfig?: string, options: BookinfoOptions = {}): Promise<Bookinfo> {
  await applyBookinfoServices(mesh);
  if (options.subsets ?? true) await applyBookinfoSubsets(mesh);
  if (initialConfig) await mesh.apply(initialConfig);
  const detailsVersions = options.detailsVersions ?? [];
  const wanted: [string, string][] = [
    ['ratings', 'v1'], ['productpage', 'v1'],
    ...detailsVersions.map((v): [string, string] => ['details', v]),
    ...reviewVersions.map((v): [string, string] => ['reviews', v]),
  ];
  const [ratings, productpage, ...rest] = await inBatches(wanted, startsAtOnce, ([name, version]) => startWorkload(mesh, name, version));
  const details = rest.slice(0, detailsVersions.length);
  const reviews = rest.slice(detailsVersions.length);
  return { productpage, details, reviews, ratings, entry: { host: '127.0.0.1', port: productpage.proxy.ready.outboundPort! } };
}

/**
 * Workloads started at once: a sidecar takes a few seconds of CPU to start, and starting every one
 * together on a small or busy machine can push one past its readiness deadline.
 */
const startsAtOnce = 4;

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}
