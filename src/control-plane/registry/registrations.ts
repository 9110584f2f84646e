// Sidecars that registered over xDS. Kept in the store so that a restarted control plane still
// knows the endpoints of proxies that have not reconnected yet; a proxy that stays disconnected
// longer than the grace period is removed (and with it, its endpoints).
import type { Logger } from '../../common/log.ts';
import type { ProxyMetadata } from '../../xds/node-metadata.ts';
import type { Store } from '../store/index.ts';

export const registrationKind = 'weft.io/ProxyRegistration';

interface RegistrationRecord { nodeId: string; metadata: ProxyMetadata }

export class ProxyRegistrations {
  private readonly proxies = new Map<string, ProxyMetadata>();
  private readonly streams = new Map<string, Set<number>>();
  private readonly expiry = new Map<string, NodeJS.Timeout>();
  private readonly store: Store;
  private readonly graceMs: number;
  private readonly log: Logger;
  private readonly onChange: () => void;

  constructor(options: { store: Store; graceMs: number; logger: Logger; onChange: () => void }) {
    this.store = options.store;
    this.graceMs = options.graceMs;
    this.log = options.logger;
    this.onChange = options.onChange;
    for (const r of this.store.list({ kind: registrationKind })) {
      const rec = r.value as RegistrationRecord;
      this.proxies.set(rec.nodeId, rec.metadata);
      this.scheduleExpiry(rec.nodeId, rec.metadata.namespace);
    }
  }

  all(): Map<string, ProxyMetadata> {
    return this.proxies;
  }

  connected(streamId: number, nodeId: string, metadata: ProxyMetadata): void {
    let set = this.streams.get(nodeId);
    if (!set) this.streams.set(nodeId, (set = new Set()));
    set.add(streamId);
    const timer = this.expiry.get(nodeId);
    if (timer) { clearTimeout(timer); this.expiry.delete(nodeId); }
    const previous = this.proxies.get(nodeId);
    if (previous && JSON.stringify(previous) === JSON.stringify(metadata)) return;
    this.proxies.set(nodeId, metadata);
    this.persist([{ op: 'put', kind: registrationKind, namespace: metadata.namespace, name: nodeId, value: { nodeId, metadata } }]);
    this.onChange();
  }

  disconnected(streamId: number, nodeId: string): void {
    const set = this.streams.get(nodeId);
    set?.delete(streamId);
    if (set && set.size > 0) return;
    this.streams.delete(nodeId);
    const m = this.proxies.get(nodeId);
    if (m) this.scheduleExpiry(nodeId, m.namespace);
  }

  isConnected(nodeId: string): boolean {
    return (this.streams.get(nodeId)?.size ?? 0) > 0;
  }

  close(): void {
    for (const t of this.expiry.values()) clearTimeout(t);
    this.expiry.clear();
  }

  private scheduleExpiry(nodeId: string, namespace: string): void {
    const old = this.expiry.get(nodeId);
    if (old) clearTimeout(old);
    const timer = setTimeout(() => {
      this.expiry.delete(nodeId);
      if (this.isConnected(nodeId)) return;
      this.log.info('proxy registration expired', { proxy: nodeId, graceMs: this.graceMs });
      this.proxies.delete(nodeId);
      this.persist([{ op: 'delete', kind: registrationKind, namespace, name: nodeId }]);
      this.onChange();
    }, this.graceMs);
    timer.unref();
    this.expiry.set(nodeId, timer);
  }

  private persist(ops: Parameters<Store['commit']>[0]): void {
    this.store.commit(ops).catch((err) => this.log.error('could not persist proxy registration', { error: String(err) }));
  }
}
