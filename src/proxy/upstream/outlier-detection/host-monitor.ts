// One endpoint's record for outlier detection (Envoy's DetectorHostMonitorImpl): consecutive failure
// counters, checked on every outcome, and per-interval success counters for the success rate and
// failure percentage analyses. An outcome that completes a run of failures reports it to the detector,
// which decides on the ejection.
//
// Outcomes: a response status (any 5xx counts for consecutive_5xx, 502/503/504 also for
// consecutive_gateway_failure, anything else resets both), or a locally originated failure (connect
// failure, reset, timeout): counted as a 503 unless split_external_local_origin_errors, in which case it
// counts only for consecutive_local_origin_failure and the local-origin success rate, and any response
// (the connection worked) resets that counter.
import type { Host } from '../host.ts';
import { EjectionType, type OutlierDetectionSpec } from './config.ts';

/** What the monitor reports to (the cluster's detector). */
export interface EjectionSink {
  onConsecutiveFailures(monitor: HostMonitor, type: EjectionType): void;
}

/** Requests and successes of one interval. */
export class SuccessCounters {
  total = 0;
  success = 0;
}

export class HostMonitor {
  readonly host: Host;
  readonly spec: OutlierDetectionSpec;
  readonly sink: EjectionSink;
  consecutive5xx = 0;
  consecutiveGatewayFailure = 0;
  consecutiveLocalOriginFailure = 0;
  /** Times ejected; ejection time = base_ejection_time × backoff (capped), the backoff going down while it stays healthy. */
  numEjections = 0;
  ejectTimeBackoff = 0;
  /** performance.now() of the last ejection / un-ejection; -1: never. */
  lastEjectionTime = -1;
  lastUnejectionTime = -1;
  jitterMs = 0;
  /** The interval being counted, and the one before it (what the analysis reads). */
  external = new SuccessCounters();
  externalPrevious = new SuccessCounters();
  localOrigin = new SuccessCounters();
  localOriginPrevious = new SuccessCounters();

  constructor(host: Host, spec: OutlierDetectionSpec, sink: EjectionSink) {
    this.host = host;
    this.spec = spec;
    this.sink = sink;
  }

  putResponse(status: number): void {
    const spec = this.spec;
    if (spec.splitExternalLocalOriginErrors) {
      // A response came back: the connection to the endpoint worked.
      this.consecutiveLocalOriginFailure = 0;
      this.localOrigin.total++;
      this.localOrigin.success++;
    }
    this.external.total++;
    if (status >= 500 && status < 600) {
      if (status >= 502 && status <= 504) {
        if (++this.consecutiveGatewayFailure === spec.consecutiveGatewayFailure) {
          this.sink.onConsecutiveFailures(this, EjectionType.ConsecutiveGatewayFailure);
        }
      } else {
        this.consecutiveGatewayFailure = 0;
      }
      if (++this.consecutive5xx === spec.consecutive5xx) this.sink.onConsecutiveFailures(this, EjectionType.Consecutive5xx);
    } else {
      this.external.success++;
      this.consecutive5xx = 0;
      this.consecutiveGatewayFailure = 0;
    }
  }

  putLocalOriginFailure(): void {
    if (!this.spec.splitExternalLocalOriginErrors) {
      this.putResponse(503);
      return;
    }
    this.localOrigin.total++;
    if (++this.consecutiveLocalOriginFailure === this.spec.consecutiveLocalOriginFailure) {
      this.sink.onConsecutiveFailures(this, EjectionType.ConsecutiveLocalOriginFailure);
    }
  }

  /** At each interval: the interval just ended becomes the one analysed, and counting starts afresh. */
  rollInterval(): void {
    const external = this.externalPrevious;
    external.total = 0;
    external.success = 0;
    this.externalPrevious = this.external;
    this.external = external;
    const local = this.localOriginPrevious;
    local.total = 0;
    local.success = 0;
    this.localOriginPrevious = this.localOrigin;
    this.localOrigin = local;
  }

  resetConsecutive(): void {
    this.consecutive5xx = 0;
    this.consecutiveGatewayFailure = 0;
    this.consecutiveLocalOriginFailure = 0;
  }
}
