// A small bookinfo-shaped mesh for the observability tests: reviews (v1, v2) and ratings behind
// sidecars, a productpage sidecar as the client, a TCP echo service, and a real Prometheus scraping
// every proxy and the control plane.
import { Scenario, type Client, type Workload } from '../traffic/scenario.ts';
import { Prometheus, controlPlaneTarget, proxyTarget } from './prometheus.ts';

export const services = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: reviews } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ratings, namespace: default }
spec:
  hosts: [ratings.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: ratings } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: mongodb, namespace: default }
spec:
  hosts: [mongodb.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 27017, name: tcp, protocol: TCP }]
  workloadSelector: { labels: { app: mongodb } }
`;

export interface ObservedMesh {
  scenario: Scenario;
  reviews: Workload[];
  ratings: Workload;
  mongodb: Workload;
  /** productpage's sidecar: the client of reviews, ratings and mongodb. */
  productpage: Client;
  prometheus: Prometheus;
  stop(): Promise<void>;
}

export async function startObservedMesh(options: { controlPlaneArgs?: string[] } = {}): Promise<ObservedMesh> {
  const scenario = await Scenario.start(options);
  let prometheus: Prometheus | undefined;
  try {
    await scenario.mesh.apply(services);
    const reviews = [
      await scenario.workload({ service: 'reviews', version: 'v1', servicePort: 9080 }),
      await scenario.workload({ service: 'reviews', version: 'v2', servicePort: 9080 }),
    ];
    const ratings = await scenario.workload({ service: 'ratings', version: 'v1', servicePort: 9080 });
    const mongodb = await scenario.workload({ service: 'mongodb', version: 'v1', servicePort: 27017, mode: 'tcp' });
    const productpage = await scenario.client({ name: 'productpage-v1', labels: { app: 'productpage', version: 'v1' }, outboundTcp: [27017] });
    const workloads = [...reviews, ratings, mongodb];
    prometheus = await Prometheus.start([
      controlPlaneTarget(scenario.mesh.adminPort),
      ...[...workloads.map((w) => w.proxy), productpage.proxy].map((p) => proxyTarget(p.name.replace(/^proxy /, ''), p.ready.adminPort)),
    ]);
    const p = prometheus;
    return {
      scenario, reviews, ratings, mongodb, productpage, prometheus: p,
      stop: async () => {
        await p.stop();
        await scenario.stop();
      },
    };
  } catch (err) {
    await prometheus?.stop();
    await scenario.stop();
    throw err;
  }
}
