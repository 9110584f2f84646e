// Ties the pipeline together: store + registrations -> mesh snapshot -> per-proxy Envoy resources
// -> snapshot cache. Changes are debounced and a proxy is pushed to only when its resources change
// (the cache compares content-hash versions).
import type {
  AuthorizationPolicy, DestinationRule, Gateway, IstioResource, PeerAuthentication, RequestAuthentication, ServiceEntrySpec, Telemetry,
  VirtualService, WorkloadEntrySpec,
} from '../api/index.ts';
import { jwksUriOf, supportedKinds } from '../api/index.ts';
import type { Logger } from '../common/log.ts';
import { decodeProxyMetadata, localityOf } from '../xds/node-metadata.ts';
import type { Struct } from '../xds/struct.ts';
import { generateProxyConfig } from './generate/index.ts';
import type { MeshConfig, MeshSnapshot, ProxyNode } from './registry/model.ts';
import { ProxyRegistrations, registrationKind } from './registry/registrations.ts';
import { buildMeshSnapshot } from './registry/registry.ts';
import type { XdsNode } from './server/ads-server.ts';
import type { SnapshotCache } from './server/cache.ts';
import { consistencyErrors, makeSnapshot } from './server/snapshot.ts';
import type { Store, StoreEvent } from './store/index.ts';
import { JwksResolver } from './jwks-resolver.ts';
import type { Identity, ProxySecrets } from './proxy-secrets.ts';
import {
  configChangePending, recordConfigEvent, recordDebounceTime, recordInternalError, recordMeshSize, recordPushContextInit,
  recordPushTrigger, recordQueueTime, recordRegistryEvent, type PushTrigger,
} from './metrics/index.ts';

const istioKinds = new Set(supportedKinds());

export class MeshController {
  private readonly store: Store;
  private readonly cache: SnapshotCache;
  private readonly config: MeshConfig;
  private readonly log: Logger;
  private readonly debounceMs: number;
  readonly registrations: ProxyRegistrations;
  /** Connected proxies by node id. */
  private readonly nodes = new Map<string, ProxyNode>();
  /** Open ADS streams by node id: a proxy may reconnect before its old stream has closed. */
  private readonly streams = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | undefined;
  /** When the pending debounced push was first asked for (ms since the epoch), for pilot_debounce_time. */
  private scheduledAt = 0;
  /** When the oldest config change not yet pushed reached the store (ms since the epoch), for convergence time. */
  private configChangedAt: number | undefined;
  private unwatch: (() => void) | undefined;
  private mesh: MeshSnapshot | undefined;
  readonly warnings = new Map<string, string[]>();
  pushes = 0;
  /** Workload certificates for the proxies (absent: no certificate authority, no mTLS). */
  private readonly secrets: ProxySecrets | undefined;
  readonly jwks: JwksResolver;

  constructor(options: {
    store: Store; cache: SnapshotCache; config: MeshConfig; logger: Logger; debounceMs?: number; registrationGraceMs?: number;
    secrets?: ProxySecrets; jwksRefreshMs?: number;
  }) {
    this.store = options.store;
    this.secrets = options.secrets;
    if (this.secrets) this.secrets.changed = () => this.schedule('secret');
    this.jwks = new JwksResolver({ logger: options.logger.child({ module: 'jwks' }), changed: () => this.schedule('config'), ...(options.jwksRefreshMs ? { refreshMs: options.jwksRefreshMs } : {}) });
    this.cache = options.cache;
    this.config = options.config;
    this.log = options.logger;
    this.debounceMs = options.debounceMs ?? 100;
    this.registrations = new ProxyRegistrations({
      store: this.store,
      graceMs: options.registrationGraceMs ?? 30_000,
      logger: this.log,
      onChange: () => this.schedule('endpoint'),
    });
    this.unwatch = this.store.watch((events) => this.schedule(this.countStoreEvents(events)));
  }

  close(): void {
    this.jwks.close();
    this.unwatch?.();
    if (this.timer) clearTimeout(this.timer);
    this.registrations.close();
  }

  /** `identity`: what the proxy's token proved; without one, the proxy's own metadata says who it is. */
  proxyConnected(streamId: number, node: XdsNode, peerAddress: string, identity?: Identity): void {
    const metadata = decodeProxyMetadata(node.metadata as Struct | undefined, peerAddress);
    if (identity) {
      metadata.namespace = identity.namespace;
      metadata.serviceAccount = identity.serviceAccount;
    }
    // Istio takes a proxy's locality from its xDS node, falling back to the workload's topology labels.
    metadata.locality = localityOf(node) || metadata.locality;
    const id = node.id!;
    const raw = (node.metadata ?? {}) as Struct;
    const proxyless = raw.fields?.GENERATOR?.stringValue === 'grpc' || /^gRPC/i.test(node.user_agent_name ?? '');
    this.nodes.set(id, { id, metadata, proxyless, identity: { namespace: metadata.namespace, serviceAccount: metadata.serviceAccount } });
    let open = this.streams.get(id);
    if (!open) this.streams.set(id, (open = new Set()));
    open.add(streamId);
    // A proxyless client serves nothing through the mesh: it is not a workload with endpoints.
    if (!proxyless) this.registrations.connected(streamId, id, metadata);
    // The new stream needs its snapshot now; the mesh view may be reused if nothing changed.
    this.pushTo(this.meshSnapshot(), this.nodes.get(id)!);
  }

  proxyDisconnected(streamId: number, node: XdsNode): void {
    const id = node.id!;
    if (!this.nodes.get(id)?.proxyless) this.registrations.disconnected(streamId, id);
    const open = this.streams.get(id);
    open?.delete(streamId);
    if (!open || open.size === 0) {
      this.streams.delete(id);
      this.nodes.delete(id);
      this.cache.delete(id);
      this.warnings.delete(id);
      this.secrets?.retain([...this.nodes.values()].flatMap((n) => (n.identity ? [n.identity] : [])));
    }
  }

  /** The current mesh, built fresh (services, endpoints, routing rules). */
  meshSnapshot(): MeshSnapshot {
    if (this.mesh) return this.mesh;
    const started = performance.now();
    const list = <T>(kind: string) => this.store.list({ kind }).map((r) => r.value as T);
    this.mesh = buildMeshSnapshot({
      config: this.config,
      serviceEntries: list<IstioResource<ServiceEntrySpec>>('ServiceEntry'),
      workloadEntries: list<IstioResource<WorkloadEntrySpec>>('WorkloadEntry'),
      virtualServices: list<VirtualService>('VirtualService'),
      destinationRules: list<DestinationRule>('DestinationRule'),
      gateways: list<Gateway>('Gateway'),
      proxies: this.registrations.all(),
    });
    const requestAuthentications = list<RequestAuthentication>('RequestAuthentication');
    this.jwks.track(requestAuthentications.flatMap((ra) => (ra.spec.jwtRules ?? []).flatMap((r) => { const uri = jwksUriOf(r); return r.jwks === undefined && uri ? [uri] : []; })));
    this.mesh.peerAuthentications = list<PeerAuthentication>('PeerAuthentication');
    this.mesh.authorizationPolicies = list<AuthorizationPolicy>('AuthorizationPolicy');
    this.mesh.requestAuthentications = requestAuthentications;
    this.mesh.telemetries = list<Telemetry>('Telemetry');
    this.mesh.jwks = this.jwks.snapshot();
    recordPushContextInit((performance.now() - started) / 1000);
    recordMeshSize(this.mesh.services.length, this.mesh.virtualServices.length);
    return this.mesh;
  }

  /** The resources generated for one connected proxy (for debugging and the admin API). */
  proxyConfig(id: string) {
    const node = this.nodes.get(id);
    return node ? generateProxyConfig(this.meshSnapshot(), node, this.secretsFor(node)) : undefined;
  }

  /**
   * What the generator cannot honour in the current config, as a sidecar in each namespace would
   * see it (for `weft apply` to print, as kubectl prints warnings).
   */
  configWarnings(namespaces: Iterable<string>): string[] {
    this.mesh = undefined; // the store has just changed: build the mesh afresh
    const mesh = this.meshSnapshot();
    const out = new Set<string>();
    for (const namespace of new Set(namespaces)) {
      const probe: ProxyNode = {
        id: `warnings.${namespace}`,
        metadata: { namespace, workloadName: 'warnings', labels: {}, serviceAccount: 'default', address: '127.0.0.1', outboundPort: 1, inbound: [] },
      };
      for (const w of generateProxyConfig(mesh, probe).warnings) out.add(w);
    }
    return [...out];
  }

  /** `reason`: what changed, for pilot_push_triggers (none: nothing a push trigger counts). */
  schedule(reason?: PushTrigger): void {
    if (reason) recordPushTrigger(reason);
    this.mesh = undefined;
    if (this.timer) return;
    this.scheduledAt = Date.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      recordDebounceTime((Date.now() - this.scheduledAt) / 1000);
      this.pushAll();
    }, this.debounceMs);
  }

  /** Counts a store batch's events for the config metrics; returns the push trigger they make, if any. */
  private countStoreEvents(events: StoreEvent[]): PushTrigger | undefined {
    let reason: PushTrigger | undefined;
    for (const e of events) {
      const event = e.type === 'delete' ? 'delete' : e.previous ? 'update' : 'add';
      if (istioKinds.has(e.resource.kind)) {
        recordConfigEvent(e.resource.kind, event);
        this.configChangedAt ??= Date.now();
        reason = 'config';
      } else if (e.resource.kind === registrationKind) {
        recordRegistryEvent('ProxyRegistration', event);
      }
    }
    return reason;
  }

  private secretsFor(node: ProxyNode) {
    return node.proxyless || !node.identity ? undefined : this.secrets?.material(node.identity);
  }

  private pushAll(): void {
    const queued = performance.now();
    const changedAt = this.configChangedAt;
    this.configChangedAt = undefined;
    const mesh = this.meshSnapshot();
    for (const node of this.nodes.values()) {
      recordQueueTime((performance.now() - queued) / 1000);
      if (this.pushTo(mesh, node) && changedAt !== undefined) configChangePending(node.id, changedAt);
    }
  }

  /** Returns true when the proxy's snapshot changed. */
  private pushTo(mesh: MeshSnapshot, node: ProxyNode): boolean {
    try {
      const { resources, warnings } = generateProxyConfig(mesh, node, this.secretsFor(node));
      const snapshot = makeSnapshot(resources);
      const errors = consistencyErrors(snapshot);
      if (errors.length > 0) {
        recordInternalError();
        this.log.error('generated config is inconsistent; not pushed', { proxy: node.id, errors });
        return false;
      }
      this.warnings.set(node.id, warnings);
      if (this.cache.set(node.id, snapshot)) {
        this.pushes++;
        this.log.debug('snapshot updated', { proxy: node.id });
        return true;
      }
      return false;
    } catch (err) {
      recordInternalError();
      this.log.error('config generation failed', { proxy: node.id, error: String(err) });
      return false;
    }
  }
}
