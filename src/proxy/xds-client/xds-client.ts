// The proxy's ADS client, state of the world. It subscribes to every listener and cluster, then to
// the endpoints of its EDS clusters, the route configurations its listeners name and the SDS secrets
// (certificates, roots) their TLS contexts name. Each response
// is handed to an applier that either accepts it whole (ACK) or rejects it with a reason (NACK,
// keeping the previous config). When the control plane is away, the proxy keeps serving the last
// accepted config and reconnects with backoff.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/log.ts';
import { adsClient } from '../../xds/ads-codec.ts';
import type { Struct } from '../../xds/struct.ts';
import { pushOrder, shortTypeName, TypeUrl, type ResourceTypeUrl } from '../../xds/type-urls.ts';
import { weftVersion } from '../../common/version.ts';

export interface XdsNodeInfo {
  id: string;
  cluster: string;
  metadata: Struct;
  locality?: { region?: string; zone?: string; sub_zone?: string };
}

/** Applies a complete set of resources of one type; throws (with a reason for the NACK) to reject. */
export type ResourceApplier = (typeUrl: ResourceTypeUrl, resources: Record<string, unknown>[]) => Promise<void>;

interface Response { version_info: string; resources: Record<string, unknown>[]; type_url: string; nonce: string }

interface TypeState {
  names: string[] | undefined; // undefined = wildcard
  acceptedVersion: string;
  lastNonce: string;
  requested: boolean;
}

export interface XdsClientStats {
  connected: boolean;
  connects: number;
  updatesAccepted: Record<string, number>;
  updatesRejected: Record<string, number>;
  lastError?: string;
}

export interface XdsClientOptions {
  /** host:port of the control plane. */
  address: string;
  node: XdsNodeInfo;
  apply: ResourceApplier;
  logger: Logger;
  /** How the ADS channel is secured; default: insecure (plaintext). */
  credentials?: grpc.ChannelCredentials;
  /** Metadata sent when the ADS stream is opened (e.g. `authorization: Bearer …`); asked for on every connect. */
  callMetadata?: () => grpc.Metadata;
}

export class XdsClient {
  private readonly address: string;
  private readonly node: XdsNodeInfo;
  private readonly apply: ResourceApplier;
  private readonly log: Logger;
  private readonly client: grpc.Client & { StreamAggregatedResources: (metadata?: grpc.Metadata) => grpc.ClientDuplexStream<unknown, Response> };
  private call: grpc.ClientDuplexStream<unknown, Response> | undefined;
  private readonly state = new Map<ResourceTypeUrl, TypeState>();
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private backoffMs = 100;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private sentNode = false;
  private readonly callMetadata: (() => grpc.Metadata) | null;
  readonly stats: XdsClientStats = { connected: false, connects: 0, updatesAccepted: {}, updatesRejected: {} };
  /** Called after every accepted update (for readiness). */
  onAccepted: (typeUrl: ResourceTypeUrl) => void = () => {};

  constructor(options: XdsClientOptions) {
    this.address = options.address;
    this.node = options.node;
    this.apply = options.apply;
    this.log = options.logger;
    this.callMetadata = options.callMetadata ?? null;
    const Ads = adsClient();
    this.client = new Ads(this.address, options.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
    }) as any;
    for (const t of [TypeUrl.Cluster, TypeUrl.Listener] as const) {
      this.state.set(t, { names: undefined, acceptedVersion: '', lastNonce: '', requested: false });
    }
    for (const t of [TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration, TypeUrl.Secret] as const) {
      this.state.set(t, { names: [], acceptedVersion: '', lastNonce: '', requested: false });
    }
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.call?.cancel();
    this.client.close();
  }

  acceptedVersion(typeUrl: ResourceTypeUrl): string {
    return this.state.get(typeUrl)?.acceptedVersion ?? '';
  }

  /** Changes the names subscribed for EDS, RDS or SDS; sends a request if they changed. */
  subscribe(typeUrl: ResourceTypeUrl, names: string[]): void {
    const st = this.state.get(typeUrl)!;
    const sorted = [...new Set(names)].sort();
    if (st.names && st.names.length === sorted.length && st.names.every((n, i) => n === sorted[i])) return;
    st.names = sorted;
    if (this.call && (st.requested || sorted.length > 0)) this.request(typeUrl);
  }

  private connect(): void {
    if (this.stopped) return;
    this.sentNode = false;
    // Metadata is asked for on every (re)connect: a bearer token may have been renewed meanwhile.
    const call = this.callMetadata === null ? this.client.StreamAggregatedResources() : this.client.StreamAggregatedResources(this.callMetadata());
    this.call = call;
    for (const st of this.state.values()) { st.lastNonce = ''; st.requested = false; }
    call.on('data', (res: Response) => {
      if (!this.stats.connected) {
        this.stats.connected = true;
        this.stats.connects++;
        this.backoffMs = 100;
        this.log.info('connected to control plane', { address: this.address });
      }
      this.queue = this.queue.then(() => this.handle(call, res));
    });
    call.on('error', (err: grpc.ServiceError) => this.lost(call, err.details || err.message));
    call.on('end', () => this.lost(call, 'stream ended by the control plane'));
    // Envoy's order: clusters and listeners first; endpoints and routes follow from them.
    for (const t of pushOrder) {
      const st = this.state.get(t);
      if (st && (st.names === undefined || st.names.length > 0)) this.request(t);
    }
  }

  private lost(call: grpc.ClientDuplexStream<unknown, Response>, reason: string): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.stats.connected) this.log.warn('lost control plane; serving the last accepted config', { reason });
    this.stats.connected = false;
    this.stats.lastError = reason;
    if (this.stopped) return;
    const delay = this.backoffMs * (0.5 + Math.random());
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private request(typeUrl: ResourceTypeUrl, errorDetail?: string): void {
    const st = this.state.get(typeUrl)!;
    st.requested = true;
    const req: Record<string, unknown> = {
      version_info: st.acceptedVersion,
      resource_names: st.names ?? [],
      type_url: typeUrl,
      response_nonce: st.lastNonce,
    };
    if (!this.sentNode) {
      req.node = {
        id: this.node.id,
        cluster: this.node.cluster,
        metadata: this.node.metadata,
        locality: this.node.locality ?? {},
        user_agent_name: 'weft',
        user_agent_version: weftVersion,
      };
      this.sentNode = true;
    }
    if (errorDetail !== undefined) req.error_detail = { code: 3 /* INVALID_ARGUMENT */, message: errorDetail };
    this.call?.write(req);
  }

  private async handle(call: grpc.ClientDuplexStream<unknown, Response>, res: Response): Promise<void> {
    if (this.call !== call) return;
    const typeUrl = res.type_url as ResourceTypeUrl;
    const st = this.state.get(typeUrl);
    if (!st) {
      this.log.warn('ignoring a response for a type not subscribed', { type: res.type_url });
      return;
    }
    st.lastNonce = res.nonce;
    const short = shortTypeName[typeUrl];
    const resources = res.resources ?? [];
    const wrongType = resources.find((r) => r['@type'] !== typeUrl);
    try {
      if (wrongType) throw new Error(`${short} response holds a resource of type ${String(wrongType['@type'] ?? wrongType.type_url)}`);
      await this.apply(typeUrl, resources.map(stripType));
    } catch (err) {
      const reason = (err as Error).message;
      this.stats.updatesRejected[short] = (this.stats.updatesRejected[short] ?? 0) + 1;
      this.log.warn('rejected config from control plane', { type: short, version: res.version_info, reason });
      this.request(typeUrl, reason);
      return;
    }
    st.acceptedVersion = res.version_info;
    this.stats.updatesAccepted[short] = (this.stats.updatesAccepted[short] ?? 0) + 1;
    this.log.debug('accepted config', { type: short, version: res.version_info, resources: resources.length });
    this.request(typeUrl);
    this.onAccepted(typeUrl);
  }
}

function stripType(r: Record<string, unknown>): Record<string, unknown> {
  const { '@type': _t, ...rest } = r;
  return rest;
}
