// The retries of one request (Envoy's RetryStateImpl plus the router's retry driving), built only when
// the route has a retry policy; a route without one never allocates it. It owns what spans attempts:
// the route timeout (which covers every attempt and the back-off between them), the back-off timer,
// the retry budget of the request (num_retries) and of the cluster (max_retries), the endpoints tried
// (previous_hosts), the priorities tried (previous_priorities) and the kept request body. Each attempt
// is an UpstreamRequest.
//
// Decisions follow Envoy: a retriable response is retried only before anything of it went downstream;
// a reset, connect failure or per-try timeout is retriable under 5xx, gateway-error and reset (and
// connect failures under connect-failure); an exhausted num_retries forwards the last outcome with the
// URX flag; a retry needs one of the cluster's max_retries, held until the retried attempt's outcome.
import { ResponseFlag } from '../../../telemetry/response-flags.ts';
import type { Readable } from 'node:stream';
import type { Cluster } from '../../../upstream/cluster.ts';
import type { Host } from '../../../upstream/host.ts';
import { priorityBit } from '../../../upstream/load-balancers/registry.ts';
import { RetryOn, grpcStatusBits, retryOnAnyReset, retryOnGrpc, type RetryPolicy } from '../../routing/retry-policy.ts';
import type { Route, RouteAction } from '../../routing/route-table.ts';
import type { HttpStream, StreamUpstream } from '../../stream.ts';
import { RetryBody } from './retry-body.ts';
import { answerTimeout, LocalReplyBody, ResetKind, UpstreamRequest } from './upstream-request.ts';

const RetryStatus = { No: 0, Yes: 1, LimitExceeded: 2, Overflow: 3 } as const;
type RetryStatus = (typeof RetryStatus)[keyof typeof RetryStatus];

const bufferExceeded = Buffer.from('exceeded request buffer limit while retrying upstream');

function onBackOff(state: RetryState): void {
  state.onBackOffTimer();
}

function onRouteTimeout(state: RetryState): void {
  state.onRouteTimeout();
}

export class RetryState implements StreamUpstream {
  readonly stream: HttpStream;
  readonly route: Route;
  readonly action: RouteAction;
  readonly cluster: Cluster;
  readonly policy: RetryPolicy;
  /** The upstream :path (prefix_rewrite applied once for all attempts). */
  readonly path: string;
  /** The kept request body; null when the request has none. */
  readonly body: RetryBody | null;
  /** The attempt under way; null during back-off. */
  attempt: UpstreamRequest | null = null;
  retriesRemaining: number;
  /** A retry was started and its outcome is not known yet: holds one of the cluster's retries. */
  armed = false;
  /** Upper bound of the next back-off (doubles up to the max interval). */
  nextIntervalMs: number;
  backOffTimer: NodeJS.Timeout | null = null;
  routeTimer: NodeJS.Timeout | null = null;
  routeTimerStarted = false;
  /** Endpoints tried so far (for previous_hosts). */
  readonly attemptedHosts: Host[] = [];
  /** previous_priorities: attempts since the priority exclusion last started over, and their priorities (priorityBit mask). */
  priorityAttempts = 0;
  attemptedPriorities = 0;
  /** previous_priorities: the priorities a retry's pick excludes, as of the last update. */
  excludedPriorities = 0;
  /** The stream has its answer (or is gone): nothing more is retried. */
  done = false;
  /** The request's hash for consistent-hash clusters (route hash policies); undefined when none. */
  readonly hash: number | undefined;

  /** `source`: the request body (the downstream request, or a mirror tee's main side); null when none. */
  constructor(stream: HttpStream, route: Route, cluster: Cluster, source: Readable | null, hash?: number) {
    this.stream = stream;
    this.route = route;
    this.action = route.action!;
    this.cluster = cluster;
    this.policy = this.action.retryPolicy!;
    this.retriesRemaining = this.policy.numRetries;
    this.nextIntervalMs = this.policy.baseIntervalMs;
    const authority = this.action.hostRewrite ?? stream.authority;
    if (authority !== '') stream.requestHeaders.push('host', authority);
    this.path = route.rewritePath(stream.path);
    this.body = source === null ? null : new RetryBody(source, stream);
    this.hash = hash;
  }

  start(host: Host): void {
    this.stream.upstream = this;
    this.startAttempt(host);
  }

  // ---- from attempts

  /** Starts the route timeout once the downstream request is complete (idempotent). */
  startRouteTimer(): void {
    if (this.routeTimerStarted) return;
    this.routeTimerStarted = true;
    if (this.action.timeoutMs > 0 && !this.done) this.routeTimer = setTimeout(onRouteTimeout, this.action.timeoutMs, this);
  }

  /** Response headers of an attempt: true when it is retried instead (the caller must drop the response). */
  onAttemptHeaders(attempt: UpstreamRequest, status: number, rawHeaders: Buffer[]): boolean {
    if (this.done) return false;
    const status_ = this.shouldRetry(this.wouldRetryHeaders(status, rawHeaders));
    if (status_ === RetryStatus.Yes) {
      this.cluster.stats.recordRetriedCode(status);
      attempt.abandon();
      this.scheduleRetry();
      return true;
    }
    this.flag(status_);
    return false;
  }

  /** An attempt failed before its response started: true when it is retried. */
  onAttemptReset(attempt: UpstreamRequest, kind: ResetKind): boolean {
    if (this.done) return false;
    const bits = this.policy.retryOn;
    const would = (bits & retryOnAnyReset) !== 0
      || (kind === ResetKind.ConnectFailure && (bits & RetryOn.ConnectFailure) !== 0)
      || (!attempt.connected && (bits & RetryOn.ResetBeforeRequest) !== 0);
    const status = this.shouldRetry(would);
    if (status === RetryStatus.Yes) {
      this.scheduleRetry();
      return true;
    }
    this.flag(status);
    return false;
  }

  /** The response started downstream: no more retries (the route timeout runs on until it completes). */
  onResponseStarted(): void {
    this.clearBackOff();
    this.disarm();
  }

  /** The stream has its answer (complete response, local reply, or reset). Idempotent. */
  onFinal(): void {
    if (this.done) return;
    this.done = true;
    this.clearBackOff();
    this.disarm();
    if (this.routeTimer !== null) {
      clearTimeout(this.routeTimer);
      this.routeTimer = null;
    }
  }

  // ---- StreamUpstream (driven by the stream)

  onStreamReset(): void {
    if (this.done) return;
    const attempt = this.attempt;
    this.onFinal();
    if (attempt !== null && !attempt.finished) attempt.onStreamReset();
    else this.stream.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
  }

  onHeadersWritten(): void {
    this.attempt?.onHeadersWritten();
  }

  // ---- timers

  onBackOffTimer(): void {
    this.backOffTimer = null;
    if (this.done) return;
    const stream = this.stream;
    const stats = this.cluster.stats;
    if (this.body !== null && this.body.overflowed) {
      // More than the buffer limit arrived while waiting to retry (Envoy answers 507 then).
      this.onFinal();
      stream.sendLocalReply(507, bufferExceeded, 0);
      return;
    }
    if (!this.cluster.resources.canSendRequest()) {
      stats.upstreamRqPendingOverflow++;
      stats.recordCode(503);
      this.onFinal();
      stream.sendLocalReply(503, LocalReplyBody.overflow, ResponseFlag.UpstreamOverflow);
      return;
    }
    const host = this.pickHost();
    if (host === null) {
      stats.upstreamCxNoneHealthy++;
      this.onFinal();
      stream.sendLocalReply(503, LocalReplyBody.noHealthyUpstream, ResponseFlag.NoHealthyUpstream);
      return;
    }
    this.startAttempt(host);
  }

  onRouteTimeout(): void {
    this.routeTimer = null;
    if (this.done) return;
    const stats = this.cluster.stats;
    stats.upstreamRqTimeout++;
    const attempt = this.attempt;
    const started = attempt !== null && attempt.headersReceived;
    this.onFinal();
    if (attempt !== null && !attempt.finished) attempt.abandon();
    answerTimeout(this.stream, stats, started);
  }

  // ----

  private startAttempt(host: Host): void {
    this.attemptedHosts.push(host);
    if (this.policy.priorityUpdateFrequency > 0) {
      this.priorityAttempts++;
      this.attemptedPriorities |= priorityBit(host.priority);
    }
    const attempt = new UpstreamRequest(this.stream, this.route, this.cluster, host, this, null);
    this.attempt = attempt;
    attempt.start();
  }

  /** Envoy's RetryStateImpl::shouldRetry: counts success of a previous retry, then spends the budgets. */
  private shouldRetry(would: boolean): RetryStatus {
    const stats = this.cluster.stats;
    if (this.body !== null && this.body.overflowed) {
      // The body could not be kept: the retry state is abandoned (no success counted).
      this.disarm();
      return RetryStatus.No;
    }
    if (this.armed && !would) stats.upstreamRqRetrySuccess++;
    this.disarm();
    if (!would) return RetryStatus.No;
    if (this.retriesRemaining === 0) {
      stats.upstreamRqRetryLimitExceeded++;
      return RetryStatus.LimitExceeded;
    }
    this.retriesRemaining--;
    const resources = this.cluster.resources;
    if (!resources.canRetry()) {
      stats.upstreamRqRetryOverflow++;
      return RetryStatus.Overflow;
    }
    resources.retries++;
    this.armed = true;
    stats.upstreamRqRetry++;
    return RetryStatus.Yes;
  }

  private wouldRetryHeaders(status: number, raw: Buffer[]): boolean {
    const bits = this.policy.retryOn;
    // Envoy: a response from an upstream Envoy's rate limiter is retried only under envoy-ratelimited.
    if (hasHeader(raw, 'x-envoy-ratelimited')) return (bits & RetryOn.EnvoyRateLimited) !== 0;
    if ((bits & RetryOn.Http5xx) !== 0 && status >= 500 && status < 600) return true;
    if ((bits & RetryOn.GatewayError) !== 0 && status >= 502 && status <= 504) return true;
    if ((bits & RetryOn.Retriable4xx) !== 0 && status === 409) return true;
    if ((bits & RetryOn.RetriableStatusCodes) !== 0 && this.policy.retriableStatusCodes.includes(status)) return true;
    if ((bits & retryOnGrpc) !== 0) {
      // HTTP/1.1 upstreams only: grpc-status is read from the response headers (a trailers-only response).
      const grpc = grpcStatus(raw);
      if (grpc >= 0 && grpc < grpcStatusBits.length && (bits & grpcStatusBits[grpc]) !== 0) return true;
    }
    return false;
  }

  private scheduleRetry(): void {
    this.attempt = null;
    this.body?.detach();
    // Fully jittered exponential back-off: uniform in [0, interval), the interval doubling from the base
    // interval up to the max interval (Envoy's JitteredExponentialBackOffStrategy).
    const interval = this.nextIntervalMs;
    const max = this.policy.maxIntervalMs;
    this.nextIntervalMs = interval * 2 <= max ? interval * 2 : max;
    this.backOffTimer = setTimeout(onBackOff, Math.floor(Math.random() * interval), this);
  }

  /**
   * previous_hosts: pick again (up to host_selection_retry_max_attempts times) while the endpoint was
   * tried already; a consistent-hash cluster is told which selection attempt it is, to move off the
   * hashed endpoint (Envoy's host selection retries). previous_priorities: every pick leaves out the
   * priorities excluded so far.
   */
  private pickHost(): Host | null {
    const hash = this.hash;
    let excluded = this.priorityExclusion();
    let host = this.cluster.pick(hash, 0, excluded);
    if (excluded !== 0 && host !== null && (priorityBit(host.priority) & excluded) !== 0) {
      // The cluster could only pick from an excluded priority (none of the others has an available
      // endpoint): it used the unmodified load, and the exclusion starts over (as in Envoy).
      this.priorityAttempts = 0;
      this.attemptedPriorities = 0;
      this.excludedPriorities = 0;
      excluded = 0;
    }
    if (!this.policy.previousHosts) return host;
    for (let i = 0; i < this.policy.hostSelectionMaxAttempts && host !== null && this.attemptedHosts.includes(host); i++) {
      host = this.cluster.pick(hash, i + 1, excluded);
    }
    return host;
  }

  /**
   * Envoy's PreviousPrioritiesRetryPriority: the first update_frequency attempts use the unmodified
   * priority load; from then on, every update_frequency attempts the excluded priorities become all
   * those attempted so far, and the attempts in between keep the last exclusion.
   */
  private priorityExclusion(): number {
    const frequency = this.policy.priorityUpdateFrequency;
    if (frequency === 0 || this.priorityAttempts < frequency) return 0;
    if (this.priorityAttempts % frequency === 0) this.excludedPriorities = this.attemptedPriorities;
    return this.excludedPriorities;
  }

  private flag(status: RetryStatus): void {
    if (status === RetryStatus.LimitExceeded) this.stream.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
    else if (status === RetryStatus.Overflow) this.stream.responseFlags |= ResponseFlag.UpstreamOverflow;
  }

  private disarm(): void {
    if (this.armed) {
      this.armed = false;
      this.cluster.resources.retries--;
    }
  }

  private clearBackOff(): void {
    if (this.backOffTimer !== null) {
      clearTimeout(this.backOffTimer);
      this.backOffTimer = null;
    }
  }
}

/** Whether a raw header (undici's Buffers) named `name` (lower case) is present. */
function hasHeader(raw: Buffer[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    if (n.length === name.length && n.toString('latin1').toLowerCase() === name) return true;
  }
  return false;
}

/** The grpc-status response header as a number, or -1. */
function grpcStatus(raw: Buffer[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    if (n.length === 11 && n.toString('latin1').toLowerCase() === 'grpc-status') {
      const v = raw[i + 1].toString('latin1').trim();
      return /^\d+$/.test(v) ? Number(v) : -1;
    }
  }
  return -1;
}
