// What the load generator sends to, and which processes' CPU and memory count for it.

/** Paths the benchmark knows, by the id BENCH_TARGETS names them with. */
export const targetIds = [
  'direct', 'haproxy', 'nginx', 'weft', 'weft-c2',
  'haproxy-pair', 'haproxy-pair-mtls', 'weft-pair', 'weft-pair-mtls',
  'weft-pair-bare', 'weft-pair-tracing',
] as const;
export type TargetId = typeof targetIds[number];

/** Measured unless BENCH_TARGETS says otherwise: all but the telemetry variants. */
export const defaultTargets: TargetId[] = targetIds.filter((t) => t !== 'weft-pair-bare' && t !== 'weft-pair-tracing');

/** Single proxies (and direct) are measured in the closed loop, pairs (and direct) in the open loop. */
export const singleIds: TargetId[] = ['direct', 'haproxy', 'nginx', 'weft', 'weft-c2'];
export const pairIds: TargetId[] = ['direct', 'haproxy-pair', 'haproxy-pair-mtls', 'weft-pair', 'weft-pair-mtls', 'weft-pair-bare', 'weft-pair-tracing'];

export const targetNames: Record<TargetId, string> = {
  'direct': 'direct',
  'haproxy': 'HAProxy',
  'nginx': 'nginx',
  'weft': 'Weft',
  'weft-c2': 'Weft --concurrency 2',
  'haproxy-pair': 'HAProxy pair',
  'haproxy-pair-mtls': 'HAProxy pair (mTLS)',
  'weft-pair': 'Weft pair',
  'weft-pair-mtls': 'Weft pair (mTLS)',
  'weft-pair-bare': 'Weft pair (no telemetry)',
  'weft-pair-tracing': 'Weft pair (metrics + 1% tracing)',
};

export interface Target {
  id: TargetId;
  name: string;
  /** Where HTTP/1.1 goes, and h2c (prior knowledge) when the path takes it. */
  h1Port: number;
  h2Port: number | null;
  host: string;
  /** The proxies on the path, client side first (for a pair: the client's sidecar, then the server's). */
  proxyPids: number[];
}
