// VirtualService http[].fault -> the per-route config of Envoy's fault filter, as Istio emits it:
// the HttpConnectionManager carries an empty HTTPFault before the router, and each route that
// injects faults carries its own in typed_per_filter_config.
import { GRPC_STATUS_NAMES, type HTTPFaultInjection } from '../../api/index.ts';
import { parseDuration } from '../../api/hosts.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import { duration, type EnvoyResource } from './envoy-types.ts';
import { fractionalPercent } from './percent.ts';

export const faultFilterName = 'envoy.filters.http.fault';

/** The HCM's fault filter entry: no fault of its own, routes bring theirs. */
export const faultFilter: EnvoyResource = { name: faultFilterName, typed_config: { '@type': TypeUrl.Fault } };

export function faultPerRouteConfig(fault: HTTPFaultInjection | undefined): EnvoyResource | undefined {
  if (!fault) return undefined;
  const config: EnvoyResource = { '@type': TypeUrl.Fault };
  if (fault.delay?.fixedDelay !== undefined) {
    const ms = parseDuration(fault.delay.fixedDelay) ?? 0;
    config.delay = { fixed_delay: duration(ms), percentage: fractionalPercent(fault.delay.percentage, fault.delay.percent) };
  }
  // As Istio: an abort without a status (or a delay without fixedDelay) is left out.
  if (fault.abort && (fault.abort.httpStatus !== undefined || fault.abort.grpcStatus !== undefined)) {
    const abort: EnvoyResource = { percentage: fractionalPercent(fault.abort.percentage, undefined) };
    if (fault.abort.httpStatus !== undefined) abort.http_status = fault.abort.httpStatus;
    else if (fault.abort.grpcStatus !== undefined) abort.grpc_status = GRPC_STATUS_NAMES.indexOf(fault.abort.grpcStatus);
    config.abort = abort;
  }
  return config.delay || config.abort ? { [faultFilterName]: config } : undefined;
}
