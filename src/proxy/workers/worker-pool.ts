// The main thread's side of `weft proxy --concurrency N` (N > 1): N data-plane workers driven as one
// data plane. ProxyConfigState and the admin server see the same methods a DataPlane has; each update
// goes to every worker, and the update is accepted only when every worker accepted it.
//
// All or nothing: an update goes to worker 0 first. A config the data plane refuses (the usual
// NACK) is refused there, and no worker changed. Only then does it go to the others at once; should
// one of them refuse it (what can differ between workers: binding a port), the workers that took it
// get the previous set of that kind back and the update is refused. Should that roll-back fail, the
// workers no longer agree: the proxy exits with an error (as it does when a worker dies) and its
// supervisor restarts it, rather than serving with workers that disagree or with fewer workers.
import { Worker } from 'node:worker_threads';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import type { ConfigurableDataPlane } from '../config-state.ts';
import { ConfigRejectedError } from '../upstream/envoy-config.ts';
import { SecretStore } from '../tls/secret-store.ts';
import type {
  ListenerAddress, ReservedPort, UpdateKind, WorkerInfo, WorkerInit, WorkerMetrics, WorkerReply, WorkerRequest, WorkerStarted,
} from './messages.ts';

export type WorkerPoolOptions = {
  concurrency: number;
  logger: Logger;
  nodeId: string;
  nodeMetadata: Record<string, unknown>;
  /** Ports the main thread reserved: each worker binds them (SO_REUSEPORT) before start() resolves. */
  reserved: ReservedPort[];
  /** --drain-timeout-ms: how long draining listeners wait for their connections (default 5000). */
  drainTimeoutMs?: number;
  /** A worker died, or the workers no longer agree: the proxy cannot go on as configured. */
  onFatal: (reason: string) => void;
};

/** The worker's entry module, beside this one: the TypeScript source, or the JavaScript `npm run build` compiled. */
const workerEntry = new URL(import.meta.url.endsWith('.ts') ? './worker-main.ts' : './worker-main.js', import.meta.url);

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** One worker thread and its requests in flight. */
class WorkerHandle {
  readonly index: number;
  readonly worker: Worker;
  /** Kept: a worker's threadId reads -1 once it has exited. */
  readonly threadId: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the worker is gone (null while it runs). */
  gone: string | null = null;

  constructor(index: number, init: WorkerInit) {
    this.index = index;
    this.worker = new Worker(workerEntry, { workerData: init });
    this.threadId = this.worker.threadId;
    this.worker.on('message', (m: WorkerReply | WorkerStarted) => {
      if ('started' in m) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(m.rejected ? new ConfigRejectedError(m.error) : new Error(m.error));
    });
  }

  /** Resolves when the worker bound the reserved ports and takes requests. */
  started(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`data-plane worker ${this.index} exited with code ${code} while starting`));
      this.worker.once('exit', onExit);
      this.worker.once('error', reject);
      const onMessage = (m: WorkerReply | WorkerStarted) => {
        if (!('started' in m)) return;
        this.worker.off('message', onMessage);
        this.worker.off('exit', onExit);
        this.worker.off('error', reject);
        if (m.started) resolve();
        else reject(new Error(`data-plane worker ${this.index}: ${m.error}`));
      };
      this.worker.on('message', onMessage);
    });
  }

  request(req: DistributiveOmit<WorkerRequest, 'id'>): Promise<unknown> {
    if (this.gone !== null) return Promise.reject(new Error(this.gone));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  /** Fails what is in flight (the worker is gone). */
  failPending(reason: string): void {
    this.gone = reason;
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class WorkerPool implements ConfigurableDataPlane {
  /** The SDS secrets every worker accepted (the main thread reads the mesh's roots from them for xDS). */
  readonly secrets = new SecretStore();
  private readonly options: WorkerPoolOptions;
  private readonly workers: WorkerHandle[] = [];
  /** What every worker has, by kind: the roll-back target when a worker refuses what another took. */
  private readonly inForce = new Map<UpdateKind, object[]>();
  private addresses: ListenerAddress[] = [];
  private serial: Promise<unknown> = Promise.resolve();
  private running = false;
  private stopping = false;

  constructor(options: WorkerPoolOptions) {
    this.options = options;
  }

  get concurrency(): number {
    return this.options.concurrency;
  }

  /** The worker threads, in index order. */
  threads(): Worker[] {
    return this.workers.map((w) => w.worker);
  }

  /** Starts the workers; resolves once every one has bound the reserved ports. */
  async start(): Promise<void> {
    const { concurrency, nodeId, nodeMetadata, reserved, drainTimeoutMs = 5000 } = this.options;
    for (let index = 0; index < concurrency; index++) {
      const w = new WorkerHandle(index, { index, nodeId, nodeMetadata, reserved, drainTimeoutMs });
      w.worker.on('error', (err) => this.died(w, `error: ${err.message}`));
      w.worker.on('exit', (code) => this.died(w, `exit code ${code}`));
      this.workers.push(w);
    }
    try {
      await Promise.all(this.workers.map((w) => w.started()));
      const gone = this.workers.find((w) => w.gone !== null);
      if (gone !== undefined) throw new Error(gone.gone!);
    } catch (err) {
      this.stopping = true;
      await Promise.all(this.workers.map((w) => w.worker.terminate()));
      throw err;
    }
    this.running = true;
  }

  private died(w: WorkerHandle, how: string): void {
    const reason = `data-plane worker ${w.index} (thread ${w.threadId}) died: ${how}`;
    w.failPending(reason);
    // While starting, start() reports it.
    if (this.stopping || !this.running) return;
    this.stopping = true;
    this.options.logger.error('data-plane worker died; the proxy exits so that its supervisor restarts it', { worker: w.index, how });
    this.options.onFatal(reason);
  }

  updateSecrets(secrets: object[]): Promise<void> {
    return this.update('secrets', secrets).then(() => this.secrets.update(secrets));
  }

  updateClusters(clusters: object[]): Promise<void> {
    return this.update('clusters', clusters).then(() => undefined);
  }

  updateEndpoints(assignments: object[]): Promise<void> {
    return this.update('endpoints', assignments).then(() => undefined);
  }

  updateRoutes(routeConfigs: object[]): Promise<void> {
    return this.update('routes', routeConfigs).then(() => undefined);
  }

  async updateListeners(listeners: object[]): Promise<void> {
    for (const l of listeners as { name?: string; address?: { socket_address?: { port_value?: number | string } } }[]) {
      // Port 0 would give each worker a different free port, and the proxy no one address to report.
      if (Number(l.address?.socket_address?.port_value ?? 0) === 0) {
        throw new ConfigRejectedError(`Listener ${l.name ?? ''}: address.socket_address.port_value: 0 (any free port) is not supported with --concurrency above 1`);
      }
    }
    this.addresses = (await this.update('listeners', listeners)) as ListenerAddress[];
  }

  /** Worker 0's listeners (every worker has the same ones, on the same ports). */
  listenerAddresses(): ListenerAddress[] {
    return this.addresses;
  }

  /** Updates run one at a time, in the order ProxyConfigState applies them. */
  private update(kind: UpdateKind, resources: object[]): Promise<unknown> {
    const run = this.serial.then(() => this.updateAll(kind, resources));
    this.serial = run.catch(() => {});
    return run;
  }

  private async updateAll(kind: UpdateKind, resources: object[]): Promise<unknown> {
    const [first, ...rest] = this.workers;
    const value = await first.request({ op: 'update', kind, resources });
    const results = await Promise.allSettled(rest.map((w) => w.request({ op: 'update', kind, resources })));
    const refused = results.findIndex((r) => r.status === 'rejected');
    if (refused >= 0) {
      const err = (results[refused] as PromiseRejectedResult).reason as Error;
      const took = [first, ...rest.filter((_, i) => results[i].status === 'fulfilled')];
      await this.rollBack(kind, took, err.message);
      throw err instanceof ConfigRejectedError ? err : new ConfigRejectedError(err.message);
    }
    this.inForce.set(kind, resources);
    return value;
  }

  private async rollBack(kind: UpdateKind, workers: WorkerHandle[], reason: string): Promise<void> {
    const previous = this.inForce.get(kind) ?? [];
    this.options.logger.warn('a data-plane worker refused an update the others took; restoring the previous config', { kind, reason });
    const results = await Promise.allSettled(workers.map((w) => w.request({ op: 'update', kind, resources: previous })));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined && !this.stopping) {
      this.stopping = true;
      const why = `data-plane workers disagree on ${kind}: restoring the previous config failed: ${(failed.reason as Error).message}`;
      this.options.logger.error(why);
      this.options.onFatal(why);
    }
  }

  /** Drains every worker (stops accepting, waits for connections to finish). */
  async drain(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ op: 'drain' })));
  }

  /** Closes every worker's listeners and connections, flushes their access logs, and ends the threads. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.workers.map((w) => w.request({ op: 'close' })));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  /**
   * The Prometheus registry to serve: every worker's data-plane metrics summed (prom-client's
   * aggregation, as for cluster workers; a per-worker series keeps its `worker` label), merged with
   * the main thread's own (xDS, process_*, nodejs_*).
   */
  async registry(main: Registry): Promise<Registry> {
    const perWorker = (await Promise.all(this.workers.map((w) => w.request({ op: 'metrics' })))) as WorkerMetrics[];
    return Registry.merge([main, AggregatorRegistry.aggregate(perWorker)]);
  }

  /** Each worker's accepted connections and heap, for /server_info. */
  info(): Promise<WorkerInfo[]> {
    return Promise.all(this.workers.map((w) => w.request({ op: 'info' }) as Promise<WorkerInfo>));
  }
}
