// The push pipeline between a config change and the proxies, as istiod measures it
// (pilot/pkg/xds/monitoring.go): why pushes happened, how long changes waited in the debounce, how
// long the mesh view took to build, how long each proxy waited its turn, and how long until a
// proxy had ACKed everything a config change gave it.
import { Counter, Histogram } from 'prom-client';
import { controlPlaneRegistry } from './registry.ts';

const registers = [controlPlaneRegistry];

/** Istio's trigger reasons that have a meaning here. */
export type PushTrigger = 'config' | 'endpoint' | 'proxy' | 'secret' | 'unknown';

const pushTriggers = new Counter({
  name: 'pilot_push_triggers', help: 'Total number of times a push was triggered, labeled by reason for the push.',
  labelNames: ['type'] as const, registers,
});
const debounceTime = new Histogram({
  name: 'pilot_debounce_time',
  help: 'Delay in seconds between the first config enters debouncing and the merged push request is pushed into the push queue (includes pushcontext_init_seconds).',
  buckets: [0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30], registers,
});
const pushContextInitTime = new Histogram({
  name: 'pilot_pushcontext_init_seconds', help: 'Total time in seconds Pilot takes to init pushContext.',
  buckets: [0.01, 0.1, 0.5, 1, 3, 5], registers,
});
const queueTime = new Histogram({
  name: 'pilot_proxy_queue_time', help: 'Time in seconds, a proxy is in the push queue before being dequeued.',
  buckets: [0.1, 0.5, 1, 3, 5, 10, 20, 30], registers,
});
const convergeDelay = new Histogram({
  name: 'pilot_proxy_convergence_time', help: 'Delay in seconds between config change and a proxy receiving all required configuration.',
  buckets: [0.1, 0.5, 1, 3, 5, 10, 20, 30], registers,
});

export function recordPushTrigger(reason: PushTrigger): void {
  pushTriggers.inc({ type: reason });
}

export function recordDebounceTime(seconds: number): void {
  debounceTime.observe(seconds);
}

export function recordPushContextInit(seconds: number): void {
  pushContextInitTime.observe(seconds);
}

export function recordQueueTime(seconds: number): void {
  queueTime.observe(seconds);
}

/**
 * Config changes not yet in force at each proxy: node id → when the oldest change it has not ACKed
 * reached the store (ms since the epoch). The controller marks a proxy when a change gives it a new
 * snapshot; the ADS server reports the proxy converged once it has ACKed every response.
 */
const pendingChanges = new Map<string, number>();

export function configChangePending(nodeId: string, changedAt: number): void {
  if (!pendingChanges.has(nodeId)) pendingChanges.set(nodeId, changedAt);
}

export function proxyConverged(nodeId: string): void {
  const changedAt = pendingChanges.get(nodeId);
  if (changedAt === undefined) return;
  pendingChanges.delete(nodeId);
  convergeDelay.observe(Math.max(0, Date.now() - changedAt) / 1000);
}

/** The proxy went away: its pending change will never converge. */
export function forgetProxy(nodeId: string): void {
  pendingChanges.delete(nodeId);
}
