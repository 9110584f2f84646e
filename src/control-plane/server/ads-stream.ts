// One ADS stream, state of the world. Per type URL it tracks the subscription, the last nonce and
// version sent, and what the client ACKed or NACKed. It answers a request only when the client's
// watch is open (it has answered our last response), never re-sends a version the client NACKed,
// and pushes in make-before-break order: CDS -> EDS -> LDS -> RDS, keeping clusters that the
// client's current routes still use until the new routes are ACKed.
import { performance } from 'node:perf_hooks';
import { recordExpiredNonce, recordPush } from '../metrics/index.ts';
import { pushOrder, TypeUrl, type ResourceTypeUrl } from '../../xds/type-urls.ts';
import { versionOf, type NamedResource, type Snapshot } from './snapshot.ts';

export interface DiscoveryRequest {
  version_info?: string;
  node?: { id?: string; cluster?: string; metadata?: unknown; locality?: unknown; user_agent_name?: string; user_agent_version?: string };
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

export interface DiscoveryResponse {
  version_info: string;
  resources: Record<string, unknown>[];
  type_url: string;
  nonce: string;
}

export interface TypeStatus {
  /** Names the client asked for; undefined = wildcard (every resource of the type). */
  subscribed: Set<string> | undefined;
  watchOpen: boolean;
  nonce: string;
  versionSent: string;
  sent: Map<string, NamedResource>;
  ackedVersion: string;
  acked: Map<string, NamedResource>;
  ackedAt?: Date;
  nack?: { version: string; message: string; at: Date };
  responses: number;
  /** The client has named resources of this type at least once (ends the legacy wildcard). */
  explicit: boolean;
  /** When a snapshot change this type has not answered yet arrived (performance.now()), for push time. */
  pendingSince?: number;
}

const wildcardTypes = new Set<string>([TypeUrl.Listener, TypeUrl.Cluster]);

export class AdsStream {
  readonly types = new Map<ResourceTypeUrl, TypeStatus>();
  private snapshot: Snapshot | undefined;
  private nonceCounter = 0;
  /** Returns false when the response could not be written (the stream is gone). */
  private readonly send: (response: DiscoveryResponse) => boolean | void;
  private readonly onNack: (typeUrl: string, message: string, code: number) => void;
  /** When the request being handled arrived (performance.now()): what a response to it is timed from. */
  private requestAt = 0;

  constructor(send: (response: DiscoveryResponse) => boolean | void, onNack: (typeUrl: string, message: string, code: number) => void) {
    this.send = send;
    this.onNack = onNack;
  }

  setSnapshot(snapshot: Snapshot): void {
    const previous = this.snapshot;
    const now = performance.now();
    for (const [t, st] of this.types) {
      if (st.pendingSince === undefined && previous?.types[t]?.version !== snapshot.types[t]?.version) st.pendingSince = now;
    }
    this.snapshot = snapshot;
    for (const t of pushOrder) this.trySend(t);
  }

  /** Handles one request; returns false for a type URL this server does not serve. */
  handleRequest(req: DiscoveryRequest): boolean {
    const typeUrl = req.type_url as ResourceTypeUrl;
    if (!pushOrder.includes(typeUrl)) return false;
    this.requestAt = performance.now();
    let st = this.types.get(typeUrl);
    if (!st) {
      st = {
        subscribed: undefined, watchOpen: false, nonce: '', versionSent: '', sent: new Map(),
        ackedVersion: '', acked: new Map(), responses: 0, explicit: false,
      };
      this.types.set(typeUrl, st);
    }
    let nonce = req.response_nonce ?? '';
    if (nonce !== '' && nonce !== st.nonce) {
      if (st.responses > 0) { // stale: answers a response we have superseded
        recordExpiredNonce(typeUrl);
        return true;
      }
      nonce = ''; // a nonce from an earlier stream: this is the first request of this one
    }
    const names = req.resource_names ?? [];
    // xDS wildcard rules: `*` subscribes to everything; an empty list means "everything" only while
    // the client has never named a resource of this type (the legacy form Envoy uses), after that
    // it means "nothing".
    if (names.length > 0 && !(names.length === 1 && names[0] === '*')) st.explicit = true;
    const wildcard = wildcardTypes.has(typeUrl) && (names.includes('*') || (names.length === 0 && !st.explicit));
    const subscribed = wildcard ? undefined : new Set(names.filter((n) => n !== '*'));
    const subscriptionChanged = !sameSubscription(st.subscribed, subscribed) || nonce === '';
    st.subscribed = subscribed;
    if (nonce !== '' && req.error_detail) {
      st.nack = { version: st.versionSent, message: req.error_detail.message ?? 'rejected', at: new Date() };
      this.onNack(typeUrl, st.nack.message, req.error_detail.code ?? 0);
    } else if (nonce !== '' && (req.version_info ?? '') === st.versionSent) {
      // An ACK names the version it applied. A request with our nonce but an older version (sent
      // after a NACK, e.g. to change subscriptions) acknowledges nothing.
      st.ackedVersion = st.versionSent;
      st.acked = st.sent;
      st.ackedAt = new Date();
      st.nack = undefined;
    }
    st.watchOpen = true;
    this.trySend(typeUrl, subscriptionChanged);
    if (typeUrl === TypeUrl.RouteConfiguration || typeUrl === TypeUrl.Listener) {
      // New routes in force may release clusters kept for make-before-break.
      this.trySend(TypeUrl.Cluster);
      this.trySend(TypeUrl.ClusterLoadAssignment);
    } else {
      // Clusters and endpoints in force may release listeners and routes held back.
      this.trySend(TypeUrl.Listener);
      this.trySend(TypeUrl.RouteConfiguration);
    }
    return true;
  }

  /**
   * For a client that takes every cluster (wildcard CDS, as Envoy does), listeners and routes wait
   * until it has ACKed the clusters they may use and the endpoints of those clusters, so a new
   * route never points at a cluster without endpoints. A client that names its clusters (gRPC's
   * xDS client asks for clusters only after it has the routes) is not held back.
   */
  private clustersInForce(): boolean {
    const snap = this.snapshot!;
    const cds = this.types.get(TypeUrl.Cluster);
    if (!cds || cds.subscribed !== undefined) return true;
    const eds = this.types.get(TypeUrl.ClusterLoadAssignment);
    const clusters = snap.types[TypeUrl.Cluster].resources;
    // Only what the routes use matters: a cluster the client rejected or has not taken yet does not
    // hold back routes that do not name it.
    for (const name of snap.routeClusters) {
      if (!cds.acked.has(name)) return false;
      const c = clusters.get(name);
      if (c?.body.type !== 'EDS') continue;
      const cfg = c.body.eds_cluster_config as { service_name?: string } | undefined;
      if (!eds || !eds.acked.has(cfg?.service_name || name)) return false;
    }
    return true;
  }

  private desired(typeUrl: ResourceTypeUrl, st: TypeStatus): Map<string, NamedResource> {
    const snap = this.snapshot!;
    const current = snap.types[typeUrl].resources;
    const out = new Map<string, NamedResource>();
    for (const [name, r] of current) if (!st.subscribed || st.subscribed.has(name)) out.set(name, r);
    if (typeUrl === TypeUrl.Cluster || typeUrl === TypeUrl.ClusterLoadAssignment) {
      // Make before break: until the client ACKs the new listeners and routes, keep the
      // clusters (and their endpoints) it acknowledged before, so no route points at nothing.
      if (!this.routesInForce(snap)) {
        for (const [name, r] of st.acked) {
          if (!out.has(name) && (!st.subscribed || st.subscribed.has(name))) out.set(name, r);
        }
      }
    }
    return out;
  }

  private routesInForce(snap: Snapshot): boolean {
    for (const t of [TypeUrl.Listener, TypeUrl.RouteConfiguration] as const) {
      const st = this.types.get(t);
      if (st && st.ackedVersion !== versionOf(this.desiredPlain(t, st, snap))) return false;
    }
    return true;
  }

  private desiredPlain(typeUrl: ResourceTypeUrl, st: TypeStatus, snap: Snapshot): NamedResource[] {
    return [...snap.types[typeUrl].resources.values()].filter((r) => !st.subscribed || st.subscribed.has(r.name));
  }

  private trySend(typeUrl: ResourceTypeUrl, force = false): void {
    const st = this.types.get(typeUrl);
    if (!st || !st.watchOpen || !this.snapshot) return;
    if ((typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.RouteConfiguration) && !this.clustersInForce()) return;
    const resources = this.desired(typeUrl, st);
    const version = versionOf(resources.values());
    if (!force && version === st.versionSent) {
      st.pendingSince = undefined; // the change does not touch what this client subscribes to
      return;
    }
    if (st.nack && version === st.nack.version) return; // never loop on a rejected version
    st.nonce = String(++this.nonceCounter);
    st.versionSent = version;
    st.sent = resources;
    st.watchOpen = false;
    st.responses++;
    const since = st.pendingSince ?? this.requestAt;
    st.pendingSince = undefined;
    let bytes = 0;
    for (const r of resources.values()) bytes += r.encoded.length;
    const written = this.send({
      version_info: version,
      resources: [...resources.values()].map((r) => ({ type_url: typeUrl, value: r.encoded })),
      type_url: typeUrl,
      nonce: st.nonce,
    });
    if (written !== false) recordPush(typeUrl, (performance.now() - since) / 1000, bytes);
  }

  /** Every response sent has been ACKed and nothing waits to be sent: the client has its config. */
  inSync(): boolean {
    if (!this.snapshot || this.types.size === 0) return false;
    for (const st of this.types.values()) {
      if (!st.watchOpen || st.nack || st.ackedVersion !== st.versionSent || st.pendingSince !== undefined) return false;
    }
    return true;
  }
}

function sameSubscription(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  for (const n of a) if (!b.has(n)) return false;
  return true;
}
