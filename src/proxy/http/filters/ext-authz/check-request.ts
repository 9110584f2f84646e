// One authorization check: the request Envoy's HTTP ext_authz client sends for a downstream request,
// to an endpoint of http_service.server_uri.cluster picked by that cluster's load balancer, through the
// endpoint's connection pool (the same pools, circuit breakers and cluster stats as the router's
// requests; TLS when the cluster has an UpstreamTlsContext). Built only for requests the filter checks;
// callbacks are prototype methods and the timer takes the object as its argument.
//
// The check (Envoy's RawHttpClientImpl): the request's method, path_prefix + the request's path (query
// included), no body and `content-length: 0` (with with_request_body: the start of the request body,
// its length, and `x-envoy-auth-partial-body: true|false`); headers: Host (the request's authority), the request
// headers that allowed_headers (plus Authorization) allow and disallowed_headers does not refuse, then
// headers_to_add, which replace request headers of the same name. Repeated request headers are joined
// with commas unless encode_raw_headers.
//
// The outcome: 200 allows; a 5xx, a failure to reach the service or to get its whole answer within
// server_uri.timeout is an error; any other status denies, and the service's body is the denial's body.
import type { Dispatcher } from 'undici';
import type { Cluster } from '../../../upstream/cluster.ts';
import type { ConnectionSlot, EndpointPool, PooledRequest } from '../../../upstream/endpoint-pool.ts';
import type { Http2Connection } from '../../../upstream/http2-connection.ts';
import type { Host } from '../../../upstream/host.ts';
import { responseHeaders } from '../../headers.ts';
import type { HttpStream } from '../../stream.ts';
import { setHeader } from '../../header-list.ts';
import type { ExtAuthzSettings } from './settings.ts';

export const CheckOutcome = { Pending: 0, Allowed: 1, Denied: 2, Error: 3 } as const;
export type CheckOutcome = (typeof CheckOutcome)[keyof typeof CheckOutcome];

/** Who learns a check's outcome (the filter). */
export interface CheckOwner {
  onCheckDone(check: AuthzCheck): void;
}

/** The most of a service's answer kept (Envoy's default buffer limit); a longer answer is an error. */
const maxResponseBytes = 1024 * 1024;
const cancelled = new Error('authorization check cancelled');
const emptyBody = Buffer.alloc(0);

function onCheckTimeout(check: AuthzCheck): void {
  check.onTimeout();
}

const partialBodyHeader = 'x-envoy-auth-partial-body';

/** The check's request headers (see the file comment); `body`: what goes with the check, null: nothing. */
export function checkHeaders(stream: HttpStream, settings: ExtAuthzSettings, body: Buffer | null, partial: boolean): string[] {
  const out: string[] = [];
  if (stream.authority !== '') out.push('host', stream.authority);
  const allowed = settings.requestHeaders;
  const disallowed = settings.disallowedHeaders;
  const raw = settings.encodeRawHeaders;
  const headers = stream.requestHeaders;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name === 'content-length' || name === partialBodyHeader || !allowed.matches(name) || (disallowed !== null && disallowed.matches(name))) continue;
    if (!raw) {
      let j = 2;
      for (; j < out.length; j += 2) if (out[j] === name) break;
      if (j < out.length) {
        out[j + 1] = `${out[j + 1]},${headers[i + 1]}`;
        continue;
      }
    }
    out.push(name, headers[i + 1]);
  }
  out.push('content-length', body === null ? '0' : String(body.length));
  if (body !== null) out.push(partialBodyHeader, partial ? 'true' : 'false');
  const add = settings.headersToAdd;
  for (let i = 0; i < add.length; i += 2) setHeader(out, add[i], add[i + 1]);
  return out;
}

export class AuthzCheck implements PooledRequest {
  readonly dispatchOptions: Dispatcher.DispatchOptions;
  slot: ConnectionSlot | Http2Connection | null = null;
  pending = false;
  cancelled = false;
  /** The check goes over HTTP/2 only when the cluster always speaks it. */
  readonly downstreamHttp2 = false;
  readonly teTrailers = false;
  responseEndsAtHeaders = false;
  readonly stream: HttpStream;
  readonly settings: ExtAuthzSettings;
  readonly owner: CheckOwner;
  cluster: Cluster | null = null;
  host: Host | null = null;
  pool: EndpointPool | null = null;
  timer: NodeJS.Timeout | null = null;
  abortUpstream: ((err?: Error) => void) | null = null;
  /** The cluster's accounting of this request is done (completed, failed or cancelled). */
  finished = false;
  outcome: CheckOutcome = CheckOutcome.Pending;
  /** The service's status and headers (hop-by-hop removed); 0 and null until they arrive. */
  status = 0;
  headers: string[] | null = null;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Inside start(): an outcome is left for the caller to read instead of reported. */
  private starting = true;
  private listening = false;
  private readonly onDownstreamClose: () => void;

  /** `body`: the start of the request body for the service (with_request_body); null: none. */
  constructor(stream: HttpStream, settings: ExtAuthzSettings, owner: CheckOwner, body: Buffer | null, partial: boolean) {
    this.stream = stream;
    this.settings = settings;
    this.owner = owner;
    this.dispatchOptions = {
      method: stream.method as Dispatcher.HttpMethod,
      path: settings.pathPrefix + stream.path,
      headers: checkHeaders(stream, settings, body, partial),
      body: body !== null && body.length > 0 ? body : null,
    };
    this.onDownstreamClose = this.abandon.bind(this);
  }

  /** The denial's body (empty until the answer is complete). */
  get body(): Buffer {
    const chunks = this.chunks;
    return chunks.length === 0 ? emptyBody : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.size);
  }

  /**
   * Sends the check. When it fails at once (no such cluster, no usable endpoint, circuit breaker) the
   * outcome is Error on return and the owner is not called.
   */
  start(): void {
    this.starting = true;
    this.send();
    this.starting = false;
    if (this.outcome === CheckOutcome.Pending) {
      this.listening = true;
      this.stream.res.once('close', this.onDownstreamClose);
    }
  }

  private send(): void {
    const cluster = this.stream.clusters.get(this.settings.cluster);
    if (cluster === undefined) {
      this.done(CheckOutcome.Error);
      return;
    }
    const stats = cluster.stats;
    if (!cluster.resources.canSendRequest()) {
      stats.upstreamRqPendingOverflow++;
      this.done(CheckOutcome.Error);
      return;
    }
    const host = cluster.pick();
    if (host === null) {
      stats.upstreamCxNoneHealthy++;
      this.done(CheckOutcome.Error);
      return;
    }
    this.cluster = cluster;
    this.host = host;
    this.pool = host.pool;
    stats.upstreamRqTotal++;
    stats.upstreamRqActive++;
    host.activeRequests++;
    if (!host.pool.dispatch(this)) {
      stats.upstreamRqPendingOverflow++;
      this.finish();
      this.done(CheckOutcome.Error);
      return;
    }
    if (this.settings.timeoutMs > 0 && this.outcome === CheckOutcome.Pending) {
      this.timer = setTimeout(onCheckTimeout, this.settings.timeoutMs, this);
    }
  }

  // ---- undici handler (called by the connection)

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    this.pool!.started(this);
    if (this.finished) abort(cancelled);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    const headers = responseHeaders(rawHeaders);
    if (headers === null) {
      // Not relayable (an unsupported transfer-encoding): the check failed.
      this.onError();
      return false;
    }
    this.status = statusCode;
    this.headers = headers;
    this.host!.recordResponse(statusCode);
    this.cluster!.stats.recordCode(statusCode);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > maxResponseBytes) {
      this.cancel();
      this.done(CheckOutcome.Error);
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.pool!.release(this);
    if (this.finished) return;
    this.finish();
    const status = this.status;
    this.done(status === 200 ? CheckOutcome.Allowed : status >= 500 ? CheckOutcome.Error : CheckOutcome.Denied);
  }

  onError(): void {
    this.pool!.release(this);
    if (this.finished) return;
    this.finish();
    if (this.status === 0) {
      this.host!.recordLocalOriginFailure();
      this.cluster!.stats.recordCode(503);
    }
    this.done(CheckOutcome.Error);
  }

  // ----

  onTimeout(): void {
    this.timer = null;
    if (this.finished) return;
    const stats = this.cluster!.stats;
    stats.upstreamRqTimeout++;
    if (this.status === 0) {
      this.host!.recordLocalOriginFailure();
      stats.recordCode(504);
    }
    this.cancel();
    this.done(CheckOutcome.Error);
  }

  /** The downstream went away while the check was under way: nobody waits for its outcome. */
  abandon(): void {
    this.listening = false;
    if (this.outcome !== CheckOutcome.Pending) return;
    this.clearTimer();
    if (!this.finished && this.cluster !== null) {
      this.cluster.stats.upstreamRqCancelled++;
      this.cancel();
    }
  }

  private done(outcome: CheckOutcome): void {
    if (this.outcome !== CheckOutcome.Pending) return;
    this.outcome = outcome;
    this.clearTimer();
    if (this.listening) {
      this.listening = false;
      this.stream.res.off('close', this.onDownstreamClose);
    }
    if (!this.starting) this.owner.onCheckDone(this);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private finish(): void {
    this.finished = true;
    this.cluster!.stats.upstreamRqActive--;
    this.host!.activeRequests--;
  }

  /** Gives up on the check: dequeues it, or aborts it on its connection. */
  private cancel(): void {
    this.clearTimer();
    if (this.finished) return;
    this.finish();
    if (this.slot === null) this.pool!.cancel(this);
    else if (this.abortUpstream !== null) this.abortUpstream(cancelled);
    // else: still connecting; onConnect aborts it.
  }
}
