// envoy.config.route.v3.RetryPolicy (route.retry_policy, or virtual_host.retry_policy as the default of
// its routes) → RetryPolicy, compiled when the route configuration arrives: retry_on becomes a bit mask,
// the back-off bounds, the host predicate and the retry priority become plain fields. Per request only
// bits are tested.
import {
  FieldPath, checkFields, durationMs, integer, message, optionalMessage, repeated, string, typeUrlOf, uintWrapper, type Message,
} from '../../upstream/envoy-config.ts';

/** retry_on conditions (Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on values) as bits. */
export const RetryOn = {
  /** Any 5xx response, and any reset / connect failure / per-try timeout (which would become a 5xx). */
  Http5xx: 1 << 0,
  /** 502, 503, 504 responses, and any reset / connect failure / per-try timeout. */
  GatewayError: 1 << 1,
  /** The upstream did not answer: disconnect, reset, per-try timeout. */
  Reset: 1 << 2,
  /** The connection to the endpoint could not be made (refused, connect timeout). */
  ConnectFailure: 1 << 3,
  /** 409 responses. */
  Retriable4xx: 1 << 4,
  /** HTTP/2 REFUSED_STREAM: never happens over HTTP/1.1 upstreams. */
  RefusedStream: 1 << 5,
  /** A response code listed in retriable_status_codes. */
  RetriableStatusCodes: 1 << 6,
  /** A reset before any byte of the request was written upstream. */
  ResetBeforeRequest: 1 << 7,
  /** A response carrying x-envoy-ratelimited (otherwise such a response is never retried). */
  EnvoyRateLimited: 1 << 8,
  /** HTTP/3 only: never happens here. */
  Http3PostConnectFailure: 1 << 9,
  GrpcCancelled: 1 << 10,
  GrpcDeadlineExceeded: 1 << 11,
  GrpcInternal: 1 << 12,
  GrpcResourceExhausted: 1 << 13,
  GrpcUnavailable: 1 << 14,
} as const;

export const retryOnGrpc = RetryOn.GrpcCancelled | RetryOn.GrpcDeadlineExceeded | RetryOn.GrpcInternal
  | RetryOn.GrpcResourceExhausted | RetryOn.GrpcUnavailable;
/** Conditions under which an upstream reset (or per-try timeout) is retried whatever its cause. */
export const retryOnAnyReset = RetryOn.Http5xx | RetryOn.GatewayError | RetryOn.Reset;

const retryOnNames = new Map<string, number>(Object.entries({
  '5xx': RetryOn.Http5xx,
  'gateway-error': RetryOn.GatewayError,
  reset: RetryOn.Reset,
  'connect-failure': RetryOn.ConnectFailure,
  'retriable-4xx': RetryOn.Retriable4xx,
  'refused-stream': RetryOn.RefusedStream,
  'retriable-status-codes': RetryOn.RetriableStatusCodes,
  'reset-before-request': RetryOn.ResetBeforeRequest,
  'envoy-ratelimited': RetryOn.EnvoyRateLimited,
  'http3-post-connect-failure': RetryOn.Http3PostConnectFailure,
  cancelled: RetryOn.GrpcCancelled,
  'deadline-exceeded': RetryOn.GrpcDeadlineExceeded,
  internal: RetryOn.GrpcInternal,
  'resource-exhausted': RetryOn.GrpcResourceExhausted,
  unavailable: RetryOn.GrpcUnavailable,
}));

/** gRPC status codes the gRPC retry_on values name, indexed by status (0..16). */
export const grpcStatusBits: readonly number[] = (() => {
  const bits = new Array<number>(17).fill(0);
  bits[1] = RetryOn.GrpcCancelled;
  bits[4] = RetryOn.GrpcDeadlineExceeded;
  bits[8] = RetryOn.GrpcResourceExhausted;
  bits[13] = RetryOn.GrpcInternal;
  bits[14] = RetryOn.GrpcUnavailable;
  return bits;
})();

/** Envoy's default retry back-off base interval; the max interval defaults to 10 times the base. */
export const defaultBaseIntervalMs = 25;

const previousHostsName = 'envoy.retry_host_predicates.previous_hosts';
const previousHostsType = 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
const previousPrioritiesName = 'envoy.retry_priorities.previous_priorities';
const previousPrioritiesType = 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

export class RetryPolicy {
  /** RetryOn bits; 0: never retry (a policy may still carry a per_try_timeout). */
  readonly retryOn: number;
  readonly numRetries: number;
  /** 0: none. */
  readonly perTryTimeoutMs: number;
  readonly retriableStatusCodes: readonly number[];
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  /** retry_host_predicate previous_hosts: a retry prefers an endpoint not tried yet. */
  readonly previousHosts: boolean;
  /** Extra picks when the predicate rejects the chosen endpoint (host_selection_retry_max_attempts). */
  readonly hostSelectionMaxAttempts: number;
  /**
   * retry_priority previous_priorities: every this many attempts, a retry's priority load excludes the
   * priorities attempted so far (update_frequency); 0 when the policy has no retry priority.
   */
  readonly priorityUpdateFrequency: number;

  constructor(retryOn: number, numRetries: number, perTryTimeoutMs: number, retriableStatusCodes: number[], baseIntervalMs: number,
    maxIntervalMs: number, previousHosts: boolean, hostSelectionMaxAttempts: number, priorityUpdateFrequency: number) {
    this.retryOn = retryOn;
    this.numRetries = numRetries;
    this.perTryTimeoutMs = perTryTimeoutMs;
    this.retriableStatusCodes = retriableStatusCodes;
    this.baseIntervalMs = baseIntervalMs;
    this.maxIntervalMs = maxIntervalMs;
    this.previousHosts = previousHosts;
    this.hostSelectionMaxAttempts = hostSelectionMaxAttempts;
    this.priorityUpdateFrequency = priorityUpdateFrequency;
  }
}

// Not supported (rejected when present): per_try_idle_timeout, retry_options_predicates,
// rate_limited_retry_back_off, retriable_headers, retriable_request_headers.
const retryPolicyFields = new Set([
  'retry_on', 'num_retries', 'per_try_timeout', 'retriable_status_codes', 'retry_back_off', 'retry_host_predicate',
  'host_selection_retry_max_attempts', 'retry_priority',
]);
const backOffFields = new Set(['base_interval', 'max_interval']);
const hostPredicateFields = new Set(['name', 'typed_config']);
const retryPriorityFields = new Set(['name', 'typed_config']);
const previousPrioritiesFields = new Set(['@type', 'update_frequency']);

/** Returns null when the policy can neither retry nor time out an attempt (Envoy then creates no retry state). */
export function compileRetryPolicy(at: FieldPath, value: unknown): RetryPolicy | null {
  const p = message(at, value);
  checkFields(at, p, retryPolicyFields);
  const retryOn = parseRetryOn(at.field('retry_on'), string(at.field('retry_on'), p.retry_on) ?? '');
  const numRetries = uintWrapper(at.field('num_retries'), p.num_retries) ?? 1;
  const perTryTimeoutMs = durationMs(at.field('per_try_timeout'), p.per_try_timeout) ?? 0;

  const codes = repeated(at.field('retriable_status_codes'), p.retriable_status_codes).map((c, i) => {
    const cp = at.field('retriable_status_codes').item(i);
    const code = integer(cp, c)!;
    if (code < 100 || code > 599) cp.reject(`${code} is not an HTTP status code`);
    return code;
  });

  let baseIntervalMs = defaultBaseIntervalMs;
  let maxIntervalMs = defaultBaseIntervalMs * 10;
  const backOff = optionalMessage(at.field('retry_back_off'), p.retry_back_off);
  if (backOff) {
    const bp = at.field('retry_back_off');
    checkFields(bp, backOff, backOffFields);
    const base = durationMs(bp.field('base_interval'), backOff.base_interval);
    if (base === undefined) throw bp.field('base_interval').error('is required');
    // Envoy: must be greater than zero; below 1 ms is rounded up to 1 ms.
    baseIntervalMs = Math.max(1, base);
    const max = durationMs(bp.field('max_interval'), backOff.max_interval);
    maxIntervalMs = max ?? baseIntervalMs * 10;
    if (maxIntervalMs < baseIntervalMs) bp.field('max_interval').reject('must be greater than or equal to the base_interval');
  }

  let previousHosts = false;
  repeated(at.field('retry_host_predicate'), p.retry_host_predicate).forEach((h, i) => {
    const hp = at.field('retry_host_predicate').item(i);
    const predicate = message(hp, h);
    checkFields(hp, predicate, hostPredicateFields);
    const name = string(hp.field('name'), predicate.name) ?? '';
    const typed = optionalMessage(hp.field('typed_config'), predicate.typed_config);
    const typeUrl = typed ? typeUrlOf(typed as Message) : '';
    // PreviousHostsPredicate has no fields; it may arrive unpacked ('@type') or as {type_url, value}.
    if (typeUrl === previousHostsType || (typeUrl === '' && name === previousHostsName)) previousHosts = true;
    else hp.reject(`${typeUrl || name || '(unnamed)'} is not supported (only ${previousHostsName} is)`);
  });
  const hostSelection = integer(at.field('host_selection_retry_max_attempts'), p.host_selection_retry_max_attempts);
  if (hostSelection !== undefined && hostSelection < 0) at.field('host_selection_retry_max_attempts').reject('must not be negative');
  // Envoy: if unspecified, host selection is retried once.
  const hostSelectionMaxAttempts = hostSelection ?? 1;
  const priorityUpdateFrequency = p.retry_priority === undefined || p.retry_priority === null ? 0
    : compileRetryPriority(at.field('retry_priority'), p.retry_priority);

  if (retryOn === 0 && perTryTimeoutMs === 0) return null;
  return new RetryPolicy(retryOn, numRetries, perTryTimeoutMs, codes, baseIntervalMs, maxIntervalMs, previousHosts, hostSelectionMaxAttempts,
    priorityUpdateFrequency);
}

/** retry_priority: only previous_priorities (a decoded PreviousPrioritiesConfig); returns its update_frequency. */
function compileRetryPriority(at: FieldPath, value: unknown): number {
  const priority = message(at, value);
  checkFields(at, priority, retryPriorityFields);
  const name = string(at.field('name'), priority.name) ?? '';
  const tp = at.field('typed_config');
  const typed = optionalMessage(tp, priority.typed_config);
  const typeUrl = typed ? typeUrlOf(typed as Message) : '';
  if (typeUrl !== previousPrioritiesType) {
    if (typeUrl === '' && name === previousPrioritiesName) tp.reject('is required (PreviousPrioritiesConfig with its update_frequency)');
    at.reject(`${typeUrl || name || '(unnamed)'} is not supported (only ${previousPrioritiesName} is)`);
  }
  // Left as {type_url, value} when the decoder did not know the type: its fields cannot be read.
  if (typed!['@type'] === undefined) tp.reject(`${previousPrioritiesType} could not be decoded`);
  checkFields(tp, typed!, previousPrioritiesFields);
  // proto3: an update_frequency of 0 is absent on the wire.
  const frequency = integer(tp.field('update_frequency'), typed!.update_frequency) ?? 0;
  if (frequency <= 0) tp.field('update_frequency').reject('must be greater than 0');
  return frequency;
}

/** `5xx,connect-failure` → bits. Unknown values reject the config; retriable-headers is not supported. */
function parseRetryOn(at: FieldPath, value: string): number {
  let bits = 0;
  for (const raw of value.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    const bit = retryOnNames.get(token);
    if (bit === undefined) {
      if (token === 'retriable-headers') at.reject('retriable-headers is not supported');
      at.reject(`${token} is not a known retry condition`);
    }
    bits |= bit;
  }
  return bits;
}
