// envoy.filters.http.router: the terminal HTTP filter. Route → cluster (weighted pick) → circuit
// breaker → endpoint (the cluster's load balancer, given the route's hash when the cluster hashes) →
// UpstreamRequest on that endpoint's pool.
// Failures before an upstream request exists are answered as Envoy answers them (NR, NC, UO, UH).
// A route with a retry policy goes through a RetryState (retry-state.ts), which runs the attempts; a
// route with request_mirror_policies also sends fire-and-forget copies (mirror-request.ts).
import { ResponseFlag } from '../../../telemetry/response-flags.ts';
import type { HttpConnectionManagerStats } from '../../../telemetry/stat-objects.ts';
import { AppendAction, HeaderMutationLevel, HeaderMutations } from '../../routing/header-mutation.ts';
import { requestUrl } from '../../routing/redirect.ts';
import type { HttpStream } from '../../stream.ts';
import { FilterStatus, type HttpFilter } from '../filter.ts';
import type { Readable } from 'node:stream';
import { startMirrors } from './mirror-request.ts';
import { RetryState } from './retry-state.ts';
import { LocalReplyBody, UpstreamRequest } from './upstream-request.ts';

export class RouterFilter implements HttpFilter {
  readonly name = 'envoy.filters.http.router';
  readonly stats: HttpConnectionManagerStats;

  constructor(stats: HttpConnectionManagerStats) {
    this.stats = stats;
  }

  decodeHeaders(stream: HttpStream): FilterStatus {
    const route = stream.route;
    if (route === null) {
      // Also the answer while a listener's RDS route configuration has not arrived: Envoy would keep
      // the listener warming instead; answering 404 NR until it arrives is the documented choice here.
      this.stats.noRoute++;
      stream.sendLocalReply(404, null, ResponseFlag.NoRouteFound);
      return FilterStatus.StopIteration;
    }
    const redirect = route.redirect;
    if (redirect !== null) {
      // Envoy counts a redirect as a direct response (it is one of its DirectResponseEntries) too.
      this.stats.rqDirectResponse++;
      this.stats.rqRedirect++;
      stream.responseMutations = route.responseMutations;
      stream.sendLocalReply(redirect.status, null, 0, redirect.location(stream, route.pathValue.length));
      return FilterStatus.StopIteration;
    }
    const direct = route.directResponse;
    if (direct !== null) {
      this.stats.rqDirectResponse++;
      stream.responseMutations = route.responseMutations;
      // Envoy (RFC 9110 §10.2.2): a 201 or 3xx direct response carries the request's URL as its Location.
      const status = direct.status;
      stream.sendLocalReply(status, direct.body, 0, status === 201 || (status >= 300 && status < 400) ? requestUrl(stream) : null);
      return FilterStatus.StopIteration;
    }
    stream.routeName = route.name;
    const action = route.action!;
    const weighted = action.weighted;
    let clusterName: string;
    let requestMutations: HeaderMutations | null;
    if (weighted === null) {
      clusterName = action.cluster;
      requestMutations = route.requestMutations;
      stream.responseMutations = route.responseMutations;
    } else {
      const i = weighted.pickIndex();
      clusterName = weighted.names[i];
      requestMutations = weighted.requestMutations[i];
      stream.responseMutations = weighted.responseMutations[i];
    }
    if (requestMutations !== null) requestMutations.apply(stream.requestHeaders);
    stream.upstreamClusterName = clusterName;
    const cluster = stream.clusters.get(clusterName);
    if (cluster === undefined) {
      this.stats.noCluster++;
      stream.sendLocalReply(action.clusterNotFoundStatus, null, ResponseFlag.NoClusterFound);
      return FilterStatus.StopIteration;
    }
    if (!cluster.resources.canSendRequest()) {
      cluster.stats.upstreamRqPendingOverflow++;
      cluster.stats.recordCode(503);
      stream.sendLocalReply(503, LocalReplyBody.overflow, ResponseFlag.UpstreamOverflow);
      return FilterStatus.StopIteration;
    }
    // As Envoy: the hash is computed only for a cluster that hashes (a cookie is generated only then).
    let hash: number | undefined;
    const hashPolicy = action.hashPolicy;
    if (hashPolicy !== null && cluster.spec.lb.hashBased) {
      hash = hashPolicy.hash(stream, stream.connection.socket);
      const cookie = hashPolicy.generatedCookie;
      if (cookie !== null) stream.responseMutations = withSetCookie(stream.responseMutations, cookie);
    }
    const host = cluster.pick(hash);
    if (host === null) {
      cluster.stats.upstreamCxNoneHealthy++;
      stream.sendLocalReply(503, LocalReplyBody.noHealthyUpstream, ResponseFlag.NoHealthyUpstream);
      return FilterStatus.StopIteration;
    }
    let body: Readable | null = stream.hasBody ? stream.req : null;
    if (body !== null) countRequestBody(stream);
    // As Envoy: mirror copies start once the main request has its endpoint (not on NC, UO, UH).
    const mirrors = action.mirrorPolicies;
    if (mirrors !== null) body = startMirrors(stream, route, mirrors, this.stats, body);
    if (action.retryPolicy === null) new UpstreamRequest(stream, route, cluster, host, null, body).start();
    else new RetryState(stream, route, cluster, body, hash).start(host);
    return FilterStatus.StopIteration;
  }

  encodeHeaders(_stream: HttpStream): FilterStatus {
    return FilterStatus.Continue;
  }
}

/**
 * The request body size for telemetry, from its content-length: a listener on the body itself would
 * change how its consumers (undici, the retry and mirror copies) pull it. A body without one
 * (chunked, HTTP/2 streaming) is counted by the retry copy as it goes by (retry-body.ts), which every
 * route with a retry policy has (Istio's default); without retries it counts 0.
 */
function countRequestBody(stream: HttpStream): void {
  const h = stream.requestHeaders;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] === 'content-length') {
      const n = Number(h[i + 1]);
      if (Number.isFinite(n) && n >= 0) stream.requestBodyBytes = n;
      return;
    }
  }
}

/**
 * The stream's response mutations plus a Set-Cookie for a generated hash cookie, added last (as Envoy
 * adds its downstream cookies after the route's response headers). A new chain for this one response:
 * the route's chain is shared by all its requests and stays as it is.
 */
function withSetCookie(mutations: HeaderMutations | null, cookie: string): HeaderMutations {
  const level = new HeaderMutationLevel([], ['set-cookie'], [cookie], [AppendAction.AppendIfExistsOrAdd]);
  return new HeaderMutations(mutations === null ? [level] : [...mutations.levels, level]);
}
