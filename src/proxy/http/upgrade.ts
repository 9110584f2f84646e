// HTTP/1.1 upgrades (WebSocket) through the connection manager, Envoy's upgrade_configs. An upgrade
// request is a stream like any other (route match, decoder filters, local replies) whose terminal
// step is this relay instead of the router: it makes the router's choices (route → cluster, weighted
// pick, header mutations, circuit breaker, endpoint by the cluster's load balancer), sends the request
// with its Upgrade and Connection headers on a connection of its own to the endpoint (always
// HTTP/1.1: WebSocket over HTTP/2, extended CONNECT, is not supported), and relays the answer:
//  - 101 Switching Protocols: the head goes back downstream, then bytes are piped both ways with
//    backpressure until either side closes (a half-close is passed on);
//  - anything else: relayed as a response, and the connection closes after it (node:http has handed
//    the connection over with the upgrade request, so it cannot carry another request).
// As in Envoy, the route timeout runs until the upstream's response head and not after the upgrade.
// An upgrade type enabled neither by the connection manager nor by the route is answered 403.
import type { ClientRequest, IncomingMessage } from 'node:http';
import http from '../../common/node-http.ts';
import type { Socket } from 'node:net';
import { errors } from '../upstream/undici-parts.ts';
import { ResponseFlag } from '../telemetry/response-flags.ts';
import type { HttpConnectionManagerStats } from '../telemetry/stat-objects.ts';
import type { Cluster } from '../upstream/cluster.ts';
import type { Host } from '../upstream/host.ts';
import { LocalReplyBody } from './filters/router/upstream-request.ts';
import { responseHeaderStrings } from './headers.ts';
import type { HeaderMutations } from './routing/header-mutation.ts';
import { requestUrl } from './routing/redirect.ts';
import type { Route, RouteAction } from './routing/route-table.ts';
import type { HttpStream, StreamUpgrade, StreamUpstream } from './stream.ts';

/**
 * RouteAction.upgrade_configs as the route table compiles them (upgrade type, lower-cased → enabled);
 * absent until the route table supports the field (it rejects routes that set it).
 */
type RouteUpgrades = { readonly upgradeConfigs?: ReadonlyMap<string, boolean> | null };

/** Envoy's rule: a route's entry for the type decides; without one, the connection manager's. */
export function upgradeAllowed(configured: ReadonlyMap<string, boolean>, route: Route | null, type: string): boolean {
  const action = route?.action as (RouteAction & RouteUpgrades) | null | undefined;
  const perRoute = action?.upgradeConfigs?.get(type);
  if (perRoute !== undefined) return perRoute;
  return configured.get(type) === true;
}

function onRouteTimeout(relay: UpgradeRelay): void {
  relay.onTimeout();
}

export class UpgradeRelay implements StreamUpgrade, StreamUpstream {
  readonly stream: HttpStream;
  readonly stats: HttpConnectionManagerStats;
  readonly downstream: Socket;
  /** What the client sent after the request head (normally nothing before the 101). */
  readonly head: Buffer;
  /** The Upgrade header as the client sent it. */
  readonly upgradeHeader: string;
  cluster: Cluster | null = null;
  host: Host | null = null;
  request: ClientRequest | null = null;
  upstream: Socket | null = null;
  upstreamHead: Buffer | null = null;
  /** A non-101 answer being relayed as a response. */
  response: IncomingMessage | null = null;
  timer: NodeJS.Timeout | null = null;
  /** The connection to the endpoint is established. */
  connected = false;
  /** The endpoint answered (101 or not). */
  responded = false;
  /** The upstream request is over (stats and the endpoint's active requests released). */
  finished = false;
  /** The connection was counted in the cluster's connections. */
  counted = false;

  constructor(stream: HttpStream, stats: HttpConnectionManagerStats, downstream: Socket, head: Buffer, upgradeHeader: string) {
    this.stream = stream;
    this.stats = stats;
    this.downstream = downstream;
    this.head = head;
    this.upgradeHeader = upgradeHeader;
  }

  /** The decoder filters let the request through: the router's choices, then the request to the endpoint. */
  start(): void {
    const stream = this.stream;
    const route = stream.route;
    if (route === null) {
      this.stats.noRoute++;
      stream.sendLocalReply(404, null, ResponseFlag.NoRouteFound);
      return;
    }
    if (route.redirect !== null) {
      this.stats.rqDirectResponse++;
      this.stats.rqRedirect++;
      stream.responseMutations = route.responseMutations;
      stream.sendLocalReply(route.redirect.status, null, 0, route.redirect.location(stream, route.pathValue.length));
      return;
    }
    if (route.directResponse !== null) {
      this.stats.rqDirectResponse++;
      stream.responseMutations = route.responseMutations;
      const status = route.directResponse.status;
      stream.sendLocalReply(status, route.directResponse.body, 0, status === 201 || (status >= 300 && status < 400) ? requestUrl(stream) : null);
      return;
    }
    const action = route.action!;
    let clusterName = action.cluster;
    let requestMutations: HeaderMutations | null = route.requestMutations;
    stream.responseMutations = route.responseMutations;
    if (action.weighted !== null) {
      const i = action.weighted.pickIndex();
      clusterName = action.weighted.names[i];
      requestMutations = action.weighted.requestMutations[i];
      stream.responseMutations = action.weighted.responseMutations[i];
    }
    if (requestMutations !== null) requestMutations.apply(stream.requestHeaders);
    const cluster = stream.clusters.get(clusterName);
    if (cluster === undefined) {
      this.stats.noCluster++;
      stream.sendLocalReply(action.clusterNotFoundStatus, null, ResponseFlag.NoClusterFound);
      return;
    }
    if (!cluster.resources.canSendRequest()) {
      cluster.stats.upstreamRqPendingOverflow++;
      cluster.stats.recordCode(503);
      stream.sendLocalReply(503, LocalReplyBody.overflow, ResponseFlag.UpstreamOverflow);
      return;
    }
    const host = cluster.pick();
    if (host === null) {
      cluster.stats.upstreamCxNoneHealthy++;
      stream.sendLocalReply(503, LocalReplyBody.noHealthyUpstream, ResponseFlag.NoHealthyUpstream);
      return;
    }
    this.connect(cluster, host, route, action);
  }

  private connect(cluster: Cluster, host: Host, route: Route, action: RouteAction): void {
    const stream = this.stream;
    this.cluster = cluster;
    this.host = host;
    cluster.stats.upstreamRqTotal++;
    cluster.stats.upstreamRqActive++;
    host.activeRequests++;
    cluster.resources.connections++;
    this.counted = true;
    stream.upstream = this;
    const headers = stream.requestHeaders;
    const authority = action.hostRewrite ?? stream.authority;
    if (authority !== '') headers.push('host', authority);
    headers.push('connection', 'upgrade', 'upgrade', this.upgradeHeader);
    let request: ClientRequest;
    try {
      request = http.request({
        host: host.address,
        port: host.port,
        method: stream.method,
        path: route.rewritePath(stream.path),
        headers,
        setHost: false,
        agent: false,
        // Until connected: the cluster's connect timeout (cleared once the connection is up).
        timeout: cluster.spec.pool.connectTimeoutMs,
      });
    } catch {
      // A header node:http refuses to send (a header mutation's value): as a reset before the request.
      this.release();
      cluster.stats.recordCode(503);
      stream.sendLocalReply(503, LocalReplyBody.connectionFailure, ResponseFlag.UpstreamConnectionFailure);
      return;
    }
    this.request = request;
    request.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        this.connected = true;
        socket.setTimeout(0);
        cluster.stats.upstreamCxTotal++;
        cluster.stats.upstreamCxActive++;
        socket.once('close', () => { cluster.stats.upstreamCxActive--; });
      });
      socket.once('close', () => this.release());
    });
    request.on('timeout', () => {
      if (!this.connected) request.destroy(new errors.ConnectTimeoutError());
    });
    request.on('upgrade', this.onUpgrade.bind(this));
    request.on('response', this.onResponse.bind(this));
    request.on('error', this.onError.bind(this));
    request.end();
    // The request has no body: it is complete, so the route timeout starts now (until the response head).
    if (action.timeoutMs > 0) this.timer = setTimeout(onRouteTimeout, action.timeoutMs, this);
  }

  // ---- the endpoint's answer

  private onUpgrade(res: IncomingMessage, socket: Socket, head: Buffer): void {
    this.answered(res.statusCode ?? 101);
    this.upstream = socket;
    this.upstreamHead = head;
    socket.on('error', this.onTunnelError.bind(this));
    const stream = this.stream;
    stream.responseStatus = 101;
    // A 101 keeps its Connection and Upgrade headers: they are the answer.
    const headers: string[] = [];
    const raw = res.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.push(raw[i].toLowerCase(), raw[i + 1]);
    if (stream.responseMutations !== null) stream.responseMutations.apply(headers);
    stream.responseHeaders = headers;
    if (stream.encodeHeaders()) this.startTunnel();
  }

  private onResponse(res: IncomingMessage): void {
    this.answered(res.statusCode ?? 502);
    this.response = res;
    const stream = this.stream;
    stream.responseStatus = res.statusCode ?? 502;
    const headers = responseHeaderStrings(res.rawHeaders);
    if (stream.responseMutations !== null) stream.responseMutations.apply(headers);
    stream.responseHeaders = headers;
    res.on('end', () => this.finish());
    if (stream.encodeHeaders()) this.relayResponse();
  }

  private answered(status: number): void {
    this.responded = true;
    this.clearTimer();
    this.host!.recordResponse(status);
    this.cluster!.stats.recordCode(status);
  }

  private onError(err: Error): void {
    this.clearTimer();
    if (this.responded || this.finished) {
      this.downstream.destroy();
      return;
    }
    this.finish();
    const stream = this.stream;
    this.host!.recordLocalOriginFailure();
    this.cluster!.stats.recordCode(503);
    if (!this.connected) {
      const timeout = err instanceof errors.ConnectTimeoutError;
      stream.sendLocalReply(503, timeout ? LocalReplyBody.connectionTimeout : LocalReplyBody.connectionFailure,
        ResponseFlag.UpstreamConnectionFailure);
    } else {
      stream.sendLocalReply(503, LocalReplyBody.connectionTermination, ResponseFlag.UpstreamConnectionTermination);
    }
  }

  private onTunnelError(): void {
    this.downstream.destroy();
  }

  onTimeout(): void {
    this.timer = null;
    if (this.responded || this.finished) return;
    const stats = this.cluster!.stats;
    stats.upstreamRqTimeout++;
    this.host!.recordLocalOriginFailure();
    this.finish();
    this.request?.destroy();
    stats.recordCode(504);
    this.stream.sendLocalReply(504, LocalReplyBody.timeout, ResponseFlag.UpstreamRequestTimeout);
  }

  // ---- StreamUpgrade: the response head on the raw connection

  writeHead(status: number, headers: string[]): void {
    let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    // Only a 101 keeps the connection; after anything else it closes (the response ends at its close).
    if (status !== 101) head += 'connection: close\r\n';
    this.downstream.write(`${head}\r\n`, 'latin1');
  }

  // ---- StreamUpstream

  onHeadersWritten(): void {
    if (this.upstream !== null) this.startTunnel();
    else if (this.response !== null) this.relayResponse();
  }

  onStreamReset(): void {
    this.clearTimer();
    if (!this.finished && !this.responded) {
      this.stream.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
      if (this.cluster !== null) this.cluster.stats.upstreamRqCancelled++;
      this.finish();
    }
    this.request?.destroy();
    this.response?.destroy();
    this.upstream?.destroySoon();
  }

  // ----

  /** Bytes both ways, with backpressure, until either side closes. */
  private startTunnel(): void {
    const up = this.upstream!;
    const down = this.downstream;
    if (this.head.length > 0) up.write(this.head);
    if (this.upstreamHead !== null && this.upstreamHead.length > 0) down.write(this.upstreamHead);
    down.pipe(up);
    up.pipe(down);
    const stats = this.stream.owner.stats;
    stats.downstreamCxUpgradesTotal++;
    stats.downstreamCxUpgradesActive++;
    up.once('close', () => {
      stats.downstreamCxUpgradesActive--;
      this.finish();
      down.destroySoon();
    });
  }

  private relayResponse(): void {
    const res = this.response!;
    if (this.stream.method === 'HEAD') {
      res.resume();
      this.downstream.end();
      return;
    }
    res.pipe(this.downstream);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.cluster!.stats.upstreamRqActive--;
    this.host!.activeRequests--;
  }

  /** The connection to the endpoint is gone. */
  private release(): void {
    this.finish();
    if (this.counted) {
      this.counted = false;
      this.cluster!.resources.connections--;
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
