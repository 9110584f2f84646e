// What the proxy's main thread and its data-plane workers say to each other (structured-cloned over
// the worker's port). Resources travel as the plain decoded JSON the xDS client produces.
import type { Registry } from 'prom-client';

/** The kinds of xDS resources a data plane takes, one update method each. */
export type UpdateKind = 'secrets' | 'clusters' | 'endpoints' | 'listeners' | 'routes';

/** A port the main thread reserved: every worker binds it too (SO_REUSEPORT) before the main thread lets go. */
export type ReservedPort = { host: string; port: number };

/** The worker's `workerData`. */
export type WorkerInit = {
  index: number;
  nodeId: string;
  /** The proxy's node metadata as plain JSON (for telemetry). */
  nodeMetadata: Record<string, unknown>;
  reserved: ReservedPort[];
  /** --drain-timeout-ms: how long draining listeners wait for their connections. */
  drainTimeoutMs: number;
};

export type WorkerRequest =
  | { id: number; op: 'update'; kind: UpdateKind; resources: object[] }
  | { id: number; op: 'drain' }
  | { id: number; op: 'close' }
  | { id: number; op: 'metrics' }
  | { id: number; op: 'info' };

export type ListenerAddress = { name: string; address: string; port: number };

/** What /server_info shows of one worker. */
export type WorkerInfo = { index: number; threadId: number; downstreamCxTotal: number; heapUsedBytes: number };

export type WorkerMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export type WorkerReply =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: string; rejected: boolean };

/** The first message of a worker: its reserved ports are bound (or could not be). */
export type WorkerStarted = { started: true } | { started: false; error: string };
