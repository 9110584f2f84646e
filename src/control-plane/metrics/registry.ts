// The control plane's Prometheus registry, served on the admin port at GET /metrics as istiod serves
// its own on :15014. Metric names, types and labels are Istio's (pilot_*, galley_*, citadel_*), so
// Istio's dashboards and alerts work unchanged; the Node.js process metrics (process_*, nodejs_*)
// stand where istiod has go_*.
import { collectDefaultMetrics, Registry } from 'prom-client';

export const controlPlaneRegistry = new Registry();
collectDefaultMetrics({ register: controlPlaneRegistry });

export const metricsContentType = controlPlaneRegistry.contentType;

/** The exposition text of every control plane metric. */
export function metricsText(): Promise<string> {
  return controlPlaneRegistry.metrics();
}
