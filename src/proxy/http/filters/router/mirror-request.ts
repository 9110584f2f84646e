// Request mirroring (Envoy's shadow requests, route.request_mirror_policies): fire-and-forget copies of
// a request to another cluster through the same cluster manager, load balancers and pools as the main
// request, with no retries and the route timeout. The mirror's response is read and dropped; its
// outcome only shows in the mirror cluster's stats. Nothing of a mirror (slow, failing, abandoned) ever
// reaches the main request, its response, its flags or its timing.
// Built only for routes with mirror policies; one object per mirror copy, callbacks on the prototype.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HttpConnectionManagerStats } from '../../../telemetry/stat-objects.ts';
import type { Cluster } from '../../../upstream/cluster.ts';
import type { ConnectionSlot, EndpointPool, PooledRequest } from '../../../upstream/endpoint-pool.ts';
import type { Http2Connection } from '../../../upstream/http2-connection.ts';
import type { Host } from '../../../upstream/host.ts';
import { shadowHost, type MirrorPolicy } from '../../routing/mirror-policy.ts';
import type { Route } from '../../routing/route-table.ts';
import { Protocol, type HttpStream } from '../../stream.ts';
import { MirrorBody, MirrorTee } from './mirror-body.ts';

const cancelled = new Error('mirror request cancelled');

function onMirrorTimeout(request: MirrorRequest): void {
  request.onTimeout();
}

export class MirrorRequest implements PooledRequest {
  readonly dispatchOptions: Dispatcher.DispatchOptions;
  slot: ConnectionSlot | Http2Connection | null = null;
  pending = false;
  cancelled = false;
  readonly downstreamHttp2: boolean;
  readonly teTrailers: boolean;
  responseEndsAtHeaders = false;
  readonly cluster: Cluster;
  readonly pool: EndpointPool;
  /** The copy of the request body; null when the request has none. */
  readonly body: MirrorBody | null;
  /** The route timeout; 0: none. */
  readonly timeoutMs: number;
  timer: NodeJS.Timeout | null = null;
  abortUpstream: ((err?: Error) => void) | null = null;
  headersReceived = false;
  finished = false;

  constructor(cluster: Cluster, host: Host, method: string, path: string, headers: string[], body: MirrorBody | null, timeoutMs: number,
    downstreamHttp2: boolean, teTrailers: boolean) {
    this.downstreamHttp2 = downstreamHttp2;
    this.teTrailers = teTrailers;
    this.cluster = cluster;
    this.pool = host.pool;
    this.body = body;
    this.timeoutMs = timeoutMs;
    this.dispatchOptions = { method: method as Dispatcher.HttpMethod, path, headers, body };
  }

  start(): void {
    const stats = this.cluster.stats;
    stats.upstreamRqTotal++;
    stats.upstreamRqActive++;
    stats.mirrorRqTotal++;
    if (!this.pool.dispatch(this)) {
      this.finished = true;
      stats.upstreamRqActive--;
      stats.upstreamRqPendingOverflow++;
      stats.recordCode(503);
      this.body?.destroy();
      return;
    }
    if (this.timeoutMs > 0) this.timer = setTimeout(onMirrorTimeout, this.timeoutMs, this);
  }

  // ---- undici handler

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    this.pool.started(this);
    if (this.finished) abort(cancelled);
  }

  onHeaders(statusCode: number): boolean {
    if (statusCode < 200) return true;
    this.headersReceived = true;
    this.cluster.stats.recordCode(statusCode);
    return true;
  }

  onData(): boolean {
    return true; // read and dropped
  }

  onComplete(): void {
    this.clearTimer();
    this.pool.release(this);
    if (!this.finished) this.finish();
  }

  onError(): void {
    this.clearTimer();
    this.pool.release(this);
    if (this.finished) return;
    this.finish();
    if (!this.headersReceived) this.cluster.stats.recordCode(503);
  }

  // ----

  onTimeout(): void {
    this.timer = null;
    if (this.finished) return;
    const stats = this.cluster.stats;
    stats.upstreamRqTimeout++;
    if (!this.headersReceived) stats.recordCode(504);
    this.cancel();
  }

  /** The copy of the body fell more than the bound behind: give the mirror up. */
  abandon(): void {
    if (this.finished) return;
    this.cluster.stats.mirrorRqAbandoned++;
    this.cancel();
  }

  /** Gives up on the mirror: dequeues it, or aborts it on its connection. */
  cancel(): void {
    this.clearTimer();
    this.finish();
    this.body?.destroy();
    if (this.slot === null) this.pool.cancel(this);
    else if (this.abortUpstream !== null) this.abortUpstream(cancelled);
    // else: still connecting; onConnect aborts it.
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private finish(): void {
    this.finished = true;
    this.cluster.stats.upstreamRqActive--;
  }
}

/**
 * Starts the mirror copies a request's route asks for (those whose fraction this request falls in) and
 * returns the body the main upstream request must read: `body` itself when no mirror copy needs it, else
 * the main side of a tee (mirror-body.ts). Called by the router once the main request has an endpoint.
 */
export function startMirrors(stream: HttpStream, route: Route, policies: readonly MirrorPolicy[], stats: HttpConnectionManagerStats,
  body: Readable | null): Readable | null {
  const action = route.action!;
  let tee: MirrorTee | null = null;
  let path: string | null = null;
  for (let i = 0; i < policies.length; i++) {
    const policy = policies[i];
    if (!policy.roll()) continue;
    const cluster = stream.clusters.get(policy.cluster);
    if (cluster === undefined) {
      stats.mirrorNoCluster++;
      continue;
    }
    if (!cluster.resources.canSendRequest()) {
      cluster.stats.upstreamRqPendingOverflow++;
      continue;
    }
    const host = cluster.pick();
    if (host === null) {
      cluster.stats.upstreamCxNoneHealthy++;
      continue;
    }
    path ??= route.rewritePath(stream.path);
    // The main request's headers as the router sends them (header mutations applied), Host with -shadow.
    const headers = stream.requestHeaders.slice();
    const authority = action.hostRewrite ?? stream.authority;
    if (authority !== '') headers.push('host', policy.appendShadowSuffix ? shadowHost(authority) : authority);
    let mirrorBody: MirrorBody | null = null;
    if (body !== null) {
      tee ??= new MirrorTee(stream.req);
      mirrorBody = new MirrorBody();
    }
    const mirror = new MirrorRequest(cluster, host, stream.method, path, headers, mirrorBody, action.timeoutMs,
      stream.protocol === Protocol.Http2, stream.acceptsTrailers);
    if (tee !== null) tee.mirrors.push(mirror);
    mirror.start();
  }
  return tee === null ? body : tee.main;
}
