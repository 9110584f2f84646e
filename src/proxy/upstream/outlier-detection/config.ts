// Cluster.outlier_detection → OutlierDetectionSpec, with Envoy's defaults. Pure: validates and compiles.
// Everything of envoy.config.cluster.v3.OutlierDetection is honoured (consecutive 5xx, gateway and
// local-origin failures, success rate and failure percentage, ejection times, jitter and limits)
// except `monitors` (outlier detection extensions), which is rejected.
import { FieldPath, bool, boolWrapper, checkFields, durationMs, message, uintWrapper } from '../envoy-config.ts';

export type OutlierDetectionSpec = {
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionTimeJitterMs: number;
  maxEjectionPercent: number;
  alwaysEjectOneHost: boolean;
  /** 0: that kind of detection is off. */
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  splitExternalLocalOriginErrors: boolean;
  successRateMinimumHosts: number;
  successRateRequestVolume: number;
  /** Divided by 1000 (Envoy: 1900 means 1.9 standard deviations). */
  successRateStdevFactor: number;
  failurePercentageThreshold: number;
  failurePercentageMinimumHosts: number;
  failurePercentageRequestVolume: number;
  /** Percent chance that a detected outlier is ejected, by EjectionType. */
  enforcing: readonly number[];
};

/**
 * Envoy's outlier ejection types (data.cluster.v3.OutlierEjectionType), as indexes; the same order as
 * the stat names of OutlierDetectionStats (telemetry/stat-objects.ts).
 */
export const EjectionType = {
  Consecutive5xx: 0, ConsecutiveGatewayFailure: 1, ConsecutiveLocalOriginFailure: 2, SuccessRate: 3, SuccessRateLocalOrigin: 4,
  FailurePercentage: 5, FailurePercentageLocalOrigin: 6,
} as const;
export type EjectionType = (typeof EjectionType)[keyof typeof EjectionType];

const outlierFields = new Set([
  'consecutive_5xx', 'interval', 'base_ejection_time', 'max_ejection_percent', 'enforcing_consecutive_5xx', 'enforcing_success_rate',
  'success_rate_minimum_hosts', 'success_rate_request_volume', 'success_rate_stdev_factor', 'consecutive_gateway_failure',
  'enforcing_consecutive_gateway_failure', 'split_external_local_origin_errors', 'consecutive_local_origin_failure',
  'enforcing_consecutive_local_origin_failure', 'enforcing_local_origin_success_rate', 'failure_percentage_threshold',
  'enforcing_failure_percentage', 'enforcing_failure_percentage_local_origin', 'failure_percentage_minimum_hosts',
  'failure_percentage_request_volume', 'max_ejection_time', 'max_ejection_time_jitter', 'always_eject_one_host',
  // Only about active health checking, which the proxy does not do: nothing to un-eject early.
  'successful_active_health_check_uneject_host',
]);

export function compileOutlierDetection(at: FieldPath, value: unknown): OutlierDetectionSpec {
  const od = message(at, value);
  checkFields(at, od, outlierFields);
  const u = (field: string, fallback: number): number => uintWrapper(at.field(field), od[field]) ?? fallback;
  const pct = (field: string, fallback: number): number => {
    const v = u(field, fallback);
    if (v > 100) at.field(field).reject('must be at most 100');
    return v;
  };
  const ms = (field: string): number | undefined => durationMs(at.field(field), od[field]);
  const intervalMs = ms('interval') ?? 10_000;
  if (intervalMs <= 0) at.field('interval').reject('must be positive');
  const baseEjectionTimeMs = ms('base_ejection_time') ?? 30_000;
  if (baseEjectionTimeMs <= 0) at.field('base_ejection_time').reject('must be positive');
  // Envoy: without max_ejection_time, 300 s or base_ejection_time, whichever is larger.
  const maxEjectionTimeMs = ms('max_ejection_time') ?? Math.max(300_000, baseEjectionTimeMs);
  if (maxEjectionTimeMs < baseEjectionTimeMs) at.field('max_ejection_time').reject('cannot be smaller than base_ejection_time');
  boolWrapper(at.field('successful_active_health_check_uneject_host'), od.successful_active_health_check_uneject_host);
  const enforcing: number[] = [];
  enforcing[EjectionType.Consecutive5xx] = pct('enforcing_consecutive_5xx', 100);
  enforcing[EjectionType.ConsecutiveGatewayFailure] = pct('enforcing_consecutive_gateway_failure', 0);
  enforcing[EjectionType.ConsecutiveLocalOriginFailure] = pct('enforcing_consecutive_local_origin_failure', 100);
  enforcing[EjectionType.SuccessRate] = pct('enforcing_success_rate', 100);
  enforcing[EjectionType.SuccessRateLocalOrigin] = pct('enforcing_local_origin_success_rate', 100);
  enforcing[EjectionType.FailurePercentage] = pct('enforcing_failure_percentage', 0);
  enforcing[EjectionType.FailurePercentageLocalOrigin] = pct('enforcing_failure_percentage_local_origin', 0);
  return {
    intervalMs,
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionTimeJitterMs: ms('max_ejection_time_jitter') ?? 0,
    maxEjectionPercent: pct('max_ejection_percent', 10),
    alwaysEjectOneHost: boolWrapper(at.field('always_eject_one_host'), od.always_eject_one_host) ?? false,
    consecutive5xx: u('consecutive_5xx', 5),
    consecutiveGatewayFailure: u('consecutive_gateway_failure', 5),
    consecutiveLocalOriginFailure: u('consecutive_local_origin_failure', 5),
    splitExternalLocalOriginErrors: bool(at.field('split_external_local_origin_errors'), od.split_external_local_origin_errors) ?? false,
    successRateMinimumHosts: u('success_rate_minimum_hosts', 5),
    successRateRequestVolume: u('success_rate_request_volume', 100),
    successRateStdevFactor: u('success_rate_stdev_factor', 1900),
    failurePercentageThreshold: pct('failure_percentage_threshold', 85),
    failurePercentageMinimumHosts: u('failure_percentage_minimum_hosts', 5),
    failurePercentageRequestVolume: u('failure_percentage_request_volume', 50),
    enforcing,
  };
}
