// A data-plane worker (`weft proxy --concurrency N`, N > 1): one DataPlane on its own thread and event
// loop. It binds the proxy's reserved ports with SO_REUSEPORT (the kernel spreads new connections over
// every worker bound to a port), then applies what the main thread sends: xDS updates, drain, close,
// and requests for its metrics. It loads only the data plane: no xDS client, gRPC or protos.
import type net from 'node:net';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { Counter } from 'prom-client';
import { createLogger } from '../../common/log.ts';
import { ConfigRejectedError, DataPlane, type DataPlaneOptions } from '../data-plane.ts';
import { reservePort } from '../listener/reserved-port.ts';
import { closeAccessLogWriters } from '../telemetry/access-log/writer.ts';
import { ProxyStats } from '../telemetry/stats.ts';
import type { WorkerInfo, WorkerInit, WorkerReply, WorkerRequest, WorkerStarted } from './messages.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const log = createLogger({ fields: { component: 'proxy', proxy: init.nodeId, worker: init.index } });
const stats = new ProxyStats();

/** Connections this worker accepted, over all listeners: shows how the kernel spreads them. */
function acceptedConnections(): number {
  let total = 0;
  for (const s of stats.listeners.values()) total += s.downstreamCxTotal;
  return total;
}

new Counter({
  name: 'weft_worker_downstream_cx_total', help: 'Connections accepted by each data-plane worker (--concurrency)',
  labelNames: ['worker'], registers: [stats.registry],
  collect(this: Counter<string>) {
    this.reset();
    this.inc({ worker: String(init.index) }, acceptedConnections());
  },
});

async function start(): Promise<DataPlane> {
  const reserved = new Map<number, net.Server>();
  for (const p of init.reserved) reserved.set(p.port, await reservePort(p.host, p.port, 'reusePort'));
  // reusePort: listeners on ports the main thread did not reserve (a gateway's) are bound by every worker too.
  const options: DataPlaneOptions = {
    logger: log.child({ module: 'data-plane' }), stats, reservedListeners: reserved, reusePort: true, drainTimeoutMs: init.drainTimeoutMs,
    node: { id: init.nodeId, metadata: init.nodeMetadata },
  };
  return new DataPlane(options);
}

/**
 * Bytes fields arrive from the decoder as Buffers, and a message to a worker turns them into plain
 * Uint8Arrays: made Buffers again (sharing their memory) so that a worker reads the resources exactly
 * as the single-threaded data plane does.
 */
function withBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = withBuffers(value[i]);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = withBuffers(record[key]);
  }
  return value;
}

async function handle(dataPlane: DataPlane, req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'update':
      withBuffers(req.resources);
      switch (req.kind) {
        case 'secrets': dataPlane.updateSecrets(req.resources); return undefined;
        case 'clusters': dataPlane.updateClusters(req.resources); return undefined;
        case 'endpoints': dataPlane.updateEndpoints(req.resources); return undefined;
        case 'routes': dataPlane.updateRoutes(req.resources); return undefined;
        case 'listeners': await dataPlane.updateListeners(req.resources); return dataPlane.listenerAddresses();
      }
      break;
    case 'drain': await dataPlane.drain(); return undefined;
    case 'close':
      await dataPlane.close();
      await closeAccessLogWriters();
      return undefined;
    case 'metrics': return stats.registry.getMetricsAsJSON();
    case 'info': {
      const info: WorkerInfo = { index: init.index, threadId, downstreamCxTotal: acceptedConnections(), heapUsedBytes: process.memoryUsage().heapUsed };
      return info;
    }
  }
  throw new Error(`unknown request ${JSON.stringify(req)}`);
}

start().then((dataPlane) => {
  port.on('message', (req: WorkerRequest) => {
    handle(dataPlane, req).then(
      (value) => port.postMessage({ id: req.id, ok: true, value } satisfies WorkerReply),
      (err: unknown) => port.postMessage({
        id: req.id, ok: false, error: err instanceof Error ? err.message : String(err), rejected: err instanceof ConfigRejectedError,
      } satisfies WorkerReply),
    );
  });
  port.postMessage({ started: true } satisfies WorkerStarted);
}, (err: unknown) => {
  port.postMessage({ started: false, error: err instanceof Error ? err.message : String(err) } satisfies WorkerStarted);
});
