// The gRPC side of ADS: accepts StreamAggregatedResources streams, ties each to the snapshot
// cache by node id, and keeps per-proxy sync status for `weft proxy-status`.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/log.ts';
import { loadEnvoyProtos } from '../../xds/protos.ts';
import { shortTypeName, type ResourceTypeUrl } from '../../xds/type-urls.ts';
import { AdsStream, type DiscoveryRequest, type DiscoveryResponse } from './ads-stream.ts';
import { decodeProxyMetadata } from '../../xds/node-metadata.ts';
import type { Struct } from '../../xds/struct.ts';
import type { SnapshotCache } from './cache.ts';
import { forgetProxy, proxyConverged, recordInternalError, recordReject, recordSendError, recordXdsClient } from '../metrics/index.ts';

export type XdsNode = NonNullable<DiscoveryRequest['node']>;

/** Who a stream's proxy is, as its token proved (namespace and service account). */
export interface ProxyIdentity { namespace: string; serviceAccount: string }

/** `tokenId`: the token that proved it, so revoking the token can end the stream. */
export type AuthenticationResult =
  | { ok: true; identity?: ProxyIdentity; tokenId?: string; /** The stream ends then (the token expires). */ expiresAt?: Date | null }
  | { ok: false; reason: string };

/**
 * Decides whether a stream may have config: `token` is the bearer token from the call's
 * `authorization` metadata (undefined when none was sent).
 */
export type ProxyAuthenticator = (token: string | undefined, node: XdsNode, peer: string) => Promise<AuthenticationResult>;

export interface AdsCallbacks {
  /** A stream said who it is. The snapshot for node.id must be in the cache when this returns. */
  onProxyConnected(streamId: number, node: XdsNode, peer: string, identity?: ProxyIdentity): void;
  onProxyDisconnected(streamId: number, node: XdsNode): void;
}

export interface ProxyTypeStatus {
  type: string;
  versionSent: string;
  versionAcked: string;
  versionWanted: string;
  ackedAt?: string;
  state: 'SYNCED' | 'STALE' | 'NACKED' | 'NOT_SENT';
  error?: string;
}

export interface ProxyStatus {
  id: string;
  streamId: number;
  peer: string;
  connectedSince: string;
  types: ProxyTypeStatus[];
}

interface StreamEntry {
  id: number;
  node: XdsNode;
  /** `namespace/serviceAccount` the stream is entitled to: its node id is bound to it while it is open. */
  identityKey: string;
  peer: string;
  since: Date;
  stream: AdsStream;
}

export class AdsServer {
  private readonly server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_permit_without_calls': 1 });
  private readonly streams = new Map<number, StreamEntry>();
  private nextStreamId = 1;
  private readonly cache: SnapshotCache;
  private readonly callbacks: AdsCallbacks;
  private readonly log: Logger;
  private readonly calls = new Set<grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>>();
  /** Streams by the id of the token they authenticated with. */
  private readonly byToken = new Map<string, Set<grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>>>();
  onNack: (nodeId: string, type: string, message: string) => void = () => {};
  private readonly authenticate: ProxyAuthenticator | undefined;
  /** Streams refused for want of a valid token (for metrics and tests). */
  refused = 0;

  constructor(options: { cache: SnapshotCache; callbacks: AdsCallbacks; logger: Logger; authenticate?: ProxyAuthenticator }) {
    this.cache = options.cache;
    this.authenticate = options.authenticate;
    this.callbacks = options.callbacks;
    this.log = options.logger;
    const { grpcObject } = loadEnvoyProtos();
    const ads = (grpcObject.envoy as any).service.discovery.v3.AggregatedDiscoveryService as grpc.ServiceClientConstructor;
    this.server.addService(ads.service, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.handle(call),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'delta xDS is not served; use state-of-the-world ADS' });
      },
    });
  }

  /** `credentials`: TLS for the xDS connection (plaintext when absent). */
  async listen(address: string, credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  async close(): Promise<void> {
    for (const call of this.calls) call.end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.server.forceShutdown(); resolve(); }, 2000);
      this.server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
  }

  /** Ends the streams a token authenticated (it was revoked): their proxies reconnect and are refused. */
  endStreamsOfToken(tokenId: string, reason: string): number {
    const set = this.byToken.get(tokenId);
    if (!set) return 0;
    this.byToken.delete(tokenId);
    for (const call of set) call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: reason });
    return set.size;
  }

  status(): ProxyStatus[] {
    return [...this.streams.values()].map((e) => {
      const snap = this.cache.get(e.node.id ?? '');
      return {
        id: e.node.id ?? '',
        streamId: e.id,
        peer: e.peer,
        connectedSince: e.since.toISOString(),
        types: [...e.stream.types.entries()].map(([t, st]) => {
          const wanted = snap?.types[t as ResourceTypeUrl]?.version ?? '';
          const state: ProxyTypeStatus['state'] = st.nack ? 'NACKED'
            : st.responses === 0 ? 'NOT_SENT'
            : st.ackedVersion === st.versionSent && st.watchOpen ? 'SYNCED' : 'STALE';
          return {
            type: shortTypeName[t],
            versionSent: st.versionSent,
            versionAcked: st.ackedVersion,
            versionWanted: wanted,
            ackedAt: st.ackedAt?.toISOString(),
            state,
            ...(st.nack ? { error: st.nack.message } : {}),
          };
        }),
      };
    });
  }

  private handle(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    const id = this.nextStreamId++;
    this.calls.add(call);
    let entry: StreamEntry | undefined;
    let unwatch: (() => void) | undefined;
    /** The proxy's version as pilot_xds counts it (set once the stream is known). */
    let clientVersion: string | undefined;
    const stream = new AdsStream(
      (response) => {
        if (call.cancelled || call.destroyed) {
          recordSendError(response.type_url);
          return false;
        }
        call.write(response);
        return true;
      },
      (type, message, code) => {
        const nodeId = entry?.node.id ?? '?';
        this.log.warn('proxy rejected config', { proxy: nodeId, type: shortTypeName[type as ResourceTypeUrl], error: message });
        recordReject(type, nodeId, String(code));
        this.onNack(nodeId, type, message);
      },
    );
    // Requests that arrive while the first one's token is being checked wait their turn.
    let waiting: DiscoveryRequest[] | undefined;
    let identity: ProxyIdentity | undefined;
    const onData = (req: DiscoveryRequest) => {
      if (waiting) {
        waiting.push(req);
        return;
      }
      if (!entry && this.authenticate && identity === undefined) {
        if (!req.node?.id) {
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'the first request on a stream must carry node.id' });
          return;
        }
        waiting = [req];
        const node = req.node;
        const header = call.metadata.get('authorization')[0];
        const token = typeof header === 'string' && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '') : undefined;
        this.authenticate(token, node, call.getPeer()).then((result) => {
          const queued = waiting ?? [];
          waiting = undefined;
          if (!result.ok) {
            this.refused++;
            this.log.warn('refused a proxy: no config and no certificate for it', { proxy: node.id, peer: call.getPeer(), reason: result.reason });
            call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: result.reason });
            return;
          }
          identity = result.identity ?? { namespace: '', serviceAccount: '' };
          if (result.expiresAt) {
            const left = result.expiresAt.getTime() - Date.now();
            const timer = setTimeout(() => {
              this.log.warn('a proxy token expired; closing its stream', { proxy: node.id });
              call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'the token expired' });
            }, Math.max(0, Math.min(left, 2 ** 31 - 1)));
            timer.unref();
            call.once('close', () => clearTimeout(timer));
          }
          if (result.tokenId !== undefined) {
            const tokenId = result.tokenId;
            let set = this.byToken.get(tokenId);
            if (!set) this.byToken.set(tokenId, (set = new Set()));
            set.add(call);
            const forget = () => {
              set.delete(call);
              if (set.size === 0 && this.byToken.get(tokenId) === set) this.byToken.delete(tokenId);
            };
            call.once('close', forget);
            call.once('cancelled', forget);
          }
          for (const r of queued) onData(r);
        }, (err: unknown) => {
          waiting = undefined;
          this.log.error('token check failed', { proxy: node.id, error: String(err) });
          call.emit('error', { code: grpc.status.INTERNAL, details: 'token check failed' });
        });
        return;
      }
      try {
        if (!entry) {
          if (!req.node?.id) {
            call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'the first request on a stream must carry node.id' });
            return;
          }
          // A node id belongs to one identity while a stream holds it: the snapshot (certificate and key
          // included) is cached and pushed by node id, so another identity must not share it.
          const claimed = decodeProxyMetadata(req.node.metadata as Struct | undefined);
          const identityKey = identity?.namespace ? `${identity.namespace}/${identity.serviceAccount}` : `${claimed.namespace}/${claimed.serviceAccount}`;
          const holder = [...this.streams.values()].find((e) => e.node.id === req.node!.id && e.identityKey !== identityKey);
          if (holder) {
            this.refused++;
            const reason = `node id ${req.node.id} is in use by a proxy of another identity (${holder.identityKey}); each proxy needs its own node id`;
            this.log.warn('refused a proxy: no config and no certificate for it', { proxy: req.node.id, peer: call.getPeer(), reason });
            call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: reason });
            return;
          }
          entry = { id, node: req.node, identityKey, peer: call.getPeer(), since: new Date(), stream };
          this.streams.set(id, entry);
          clientVersion = proxyVersion(req.node);
          recordXdsClient(clientVersion, 1);
          this.callbacks.onProxyConnected(id, req.node, entry.peer, identity?.namespace ? identity : undefined);
          this.log.info('proxy connected', { proxy: req.node.id, stream: id, peer: entry.peer });
          const nodeId = req.node.id;
          const snap = this.cache.get(nodeId);
          if (snap) stream.setSnapshot(snap);
          unwatch = this.cache.watch(nodeId, (s) => stream.setSnapshot(s));
        }
        if (!stream.handleRequest(req)) {
          this.log.warn('request for a type this server does not serve', { proxy: entry.node.id, type: req.type_url });
        } else if (stream.inSync()) {
          proxyConverged(entry.node.id ?? '');
        }
      } catch (err) {
        recordInternalError();
        this.log.error('ads stream failed', { error: String(err), stream: id });
        call.emit('error', { code: grpc.status.INTERNAL, details: String(err) });
      }
    };
    call.on('data', onData);
    const finish = () => {
      if (!this.calls.delete(call)) return;
      unwatch?.();
      if (clientVersion !== undefined) recordXdsClient(clientVersion, -1);
      clientVersion = undefined;
      if (entry) {
        // A reconnecting proxy starts afresh: a change it never ACKed is not timed across streams.
        forgetProxy(entry.node.id ?? '');
        this.streams.delete(id);
        this.log.info('proxy disconnected', { proxy: entry.node.id, stream: id });
        this.callbacks.onProxyDisconnected(id, entry.node);
      }
    };
    call.on('end', () => { finish(); call.end(); });
    call.on('error', finish);
    call.on('cancelled', finish);
    call.on('close', finish);
  }
}

/** The version pilot_xds labels a proxy with: Istio's ISTIO_VERSION node metadata, else its user agent's version. */
function proxyVersion(node: XdsNode): string {
  const fromMetadata = (node.metadata as Struct | undefined)?.fields?.ISTIO_VERSION?.stringValue;
  return fromMetadata || node.user_agent_version || 'unknown';
}
