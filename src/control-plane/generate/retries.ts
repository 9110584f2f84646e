// VirtualService http[].retries -> Envoy route retry_policy, with Istio's defaults: when a rule says
// nothing, 2 attempts on connect-failure, refused-stream, unavailable, cancelled and 503, each on a
// different endpoint if one is left; `attempts: 0` turns retries off. retryRemoteLocalities sends
// retries to the priorities (localities) not tried yet: Envoy's previous_priorities retry priority,
// with Istio's update_frequency of 2.
import type { HTTPRetry } from '../../api/index.ts';
import { parseDuration } from '../../api/hosts.ts';
import { duration, type EnvoyResource } from './envoy-types.ts';

const defaultRetryOn = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

const previousHosts = {
  name: 'envoy.retry_host_predicates.previous_hosts',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
};

const previousPriorities = {
  name: 'envoy.retry_priorities.previous_priorities',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
    update_frequency: 2,
  },
};

/** `_where` (the rule's path) and `_warnings` stay for the callers: every HTTPRetry field is translated, none warns. */
export function retryPolicy(retries: HTTPRetry | undefined, _where: string, _warnings: string[]): EnvoyResource | undefined {
  if (retries !== undefined && (retries.attempts ?? 0) <= 0) return undefined;
  const policy: EnvoyResource = {
    retry_on: defaultRetryOn,
    num_retries: { value: retries?.attempts ?? 2 },
    retriable_status_codes: [503],
    host_selection_retry_max_attempts: 5,
  };
  if (retries?.retryIgnorePreviousHosts !== false) policy.retry_host_predicate = [previousHosts];
  if (retries?.retryOn) {
    // Istio: numbers in retryOn are status codes to retry on; the rest are Envoy's retry_on names.
    const names: string[] = [];
    const codes: number[] = [];
    for (const part of retries.retryOn.split(',').map((p) => p.trim()).filter(Boolean)) {
      if (/^\d+$/.test(part)) codes.push(Number(part));
      else names.push(part);
    }
    if (codes.length > 0 && !names.includes('retriable-status-codes')) names.push('retriable-status-codes');
    policy.retry_on = names.join(',');
    if (codes.length > 0) policy.retriable_status_codes = codes;
    else delete policy.retriable_status_codes;
  }
  if (retries?.perTryTimeout) {
    const ms = parseDuration(retries.perTryTimeout);
    if (ms !== undefined) policy.per_try_timeout = duration(ms);
  }
  if (retries?.backoff) {
    const ms = parseDuration(retries.backoff);
    if (ms !== undefined) policy.retry_back_off = { base_interval: duration(ms) };
  }
  if (retries?.retryRemoteLocalities) policy.retry_priority = previousPriorities;
  return policy;
}
