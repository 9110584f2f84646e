// A cluster's outlier detector (Envoy's DetectorImpl): ejects endpoints that fail, and brings them back.
//  - Consecutive failures eject at once (Envoy posts to its main thread; here it happens on the spot).
//  - Every `interval` a sweep un-ejects endpoints whose ejection time is over, runs the success rate and
//    failure percentage analyses on the interval's counts, and lowers the ejection backoff of endpoints
//    that stayed healthy for a whole interval since their return.
//  - Ejection time = min(base_ejection_time × backoff, max_ejection_time) + jitter, the backoff going up
//    by one per ejection (so a second ejection soon after the first lasts twice as long).
//  - An ejection is allowed while (ejected + 1) / endpoints ≤ max_ejection_percent (Envoy's current rule;
//    always_eject_one_host also allows the first ejection whatever the percentage); otherwise it is
//    counted as ejections_overflow. enforcing_* is the chance (percent) that a detection ejects.
// Ejected endpoints leave the cluster's healthy set: `onChange` makes the cluster rebuild its balancer.
// The sweep timer is unref()'d and stopped by stop() when the cluster goes away.
import type { OutlierDetectionStats } from '../../telemetry/stat-objects.ts';
import type { Host } from '../host.ts';
import { EjectionType, type OutlierDetectionSpec } from './config.ts';
import { HostMonitor, type EjectionSink, type SuccessCounters } from './host-monitor.ts';

function onSweepTimer(detector: OutlierDetector): void {
  detector.sweep();
}

export class OutlierDetector implements EjectionSink {
  readonly spec: OutlierDetectionSpec;
  readonly stats: OutlierDetectionStats;
  private readonly onChange: () => void;
  private readonly monitors = new Map<Host, HostMonitor>();
  /** Ejected endpoints among the monitored ones. */
  private active = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(spec: OutlierDetectionSpec, stats: OutlierDetectionStats, onChange: () => void) {
    this.spec = spec;
    this.stats = stats;
    this.onChange = onChange;
    this.arm();
  }

  /** The cluster's endpoints now: new ones get a monitor, removed ones lose theirs (and their ejection). */
  setHosts(hosts: Iterable<Host>): void {
    const keep = new Set<Host>();
    for (const host of hosts) {
      keep.add(host);
      if (this.monitors.has(host)) continue;
      const monitor = new HostMonitor(host, this.spec, this);
      this.monitors.set(host, monitor);
      host.outlier = monitor;
      host.ejected = false;
    }
    for (const [host, monitor] of this.monitors) {
      if (keep.has(host)) continue;
      this.monitors.delete(host);
      if (host.outlier === monitor) host.outlier = null;
      if (host.ejected) {
        host.ejected = false;
        this.setActive(this.active - 1);
      }
    }
  }

  /** Whether the sweep timer runs (until stop()). */
  get sweeping(): boolean {
    return this.timer !== null;
  }

  /** Stops the sweeps; the endpoints are left to whoever owns them now. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.setActive(0);
    for (const [host, monitor] of this.monitors) if (host.outlier === monitor) host.outlier = null;
    this.monitors.clear();
  }

  onConsecutiveFailures(monitor: HostMonitor, type: EjectionType): void {
    if (this.stopped || monitor.host.ejected || this.monitors.get(monitor.host) !== monitor) return;
    this.stats.ejectionsDetected[type]++;
    // As Envoy: the run that triggered is reset, so that another full run is needed to trigger again.
    if (type === EjectionType.Consecutive5xx) monitor.consecutive5xx = 0;
    else if (type === EjectionType.ConsecutiveGatewayFailure) monitor.consecutiveGatewayFailure = 0;
    else monitor.consecutiveLocalOriginFailure = 0;
    if (this.eject(monitor, type)) this.onChange();
  }

  /** The interval timer's work (see the file comment). */
  sweep(): void {
    this.timer = null;
    if (this.stopped) return;
    const now = performance.now();
    const spec = this.spec;
    let changed = false;
    for (const monitor of this.monitors.values()) {
      if (monitor.host.ejected) {
        const ejectedFor = Math.min(spec.baseEjectionTimeMs * monitor.ejectTimeBackoff, spec.maxEjectionTimeMs) + monitor.jitterMs;
        if (now - monitor.lastEjectionTime >= ejectedFor) {
          this.uneject(monitor, now);
          changed = true;
        }
      }
      monitor.rollInterval();
    }
    if (this.analyse(false)) changed = true;
    if (spec.splitExternalLocalOriginErrors && this.analyse(true)) changed = true;
    for (const monitor of this.monitors.values()) {
      if (!monitor.host.ejected && monitor.lastUnejectionTime >= 0 && now - monitor.lastUnejectionTime >= spec.intervalMs
        && monitor.ejectTimeBackoff > 0) {
        monitor.ejectTimeBackoff--;
      }
    }
    this.arm();
    if (changed) this.onChange();
  }

  private arm(): void {
    this.timer = setTimeout(onSweepTimer, this.spec.intervalMs, this);
    this.timer.unref();
  }

  /** Envoy's ejectHost: the max_ejection_percent check, then enforcement. True when the endpoint was ejected. */
  private eject(monitor: HostMonitor, type: EjectionType): boolean {
    const spec = this.spec;
    const stats = this.stats;
    const ejectedPercent = (100 * (this.active + 1)) / this.monitors.size;
    const allowed = ejectedPercent <= spec.maxEjectionPercent || (spec.alwaysEjectOneHost && this.active === 0);
    if (!allowed) {
      stats.ejectionsOverflow++;
      return false;
    }
    const enforcing = spec.enforcing[type];
    if (enforcing < 100 && !(Math.random() * 100 < enforcing)) return false;
    stats.ejectionsEnforcedTotal++;
    stats.ejectionsEnforced[type]++;
    const host = monitor.host;
    host.ejected = true;
    this.setActive(this.active + 1);
    monitor.numEjections++;
    monitor.lastEjectionTime = performance.now();
    monitor.jitterMs = spec.maxEjectionTimeJitterMs > 0 ? Math.floor(Math.random() * (spec.maxEjectionTimeJitterMs + 1)) : 0;
    // The backoff stops growing once base × backoff has passed max_ejection_time.
    if (monitor.ejectTimeBackoff * spec.baseEjectionTimeMs < spec.maxEjectionTimeMs + spec.baseEjectionTimeMs) monitor.ejectTimeBackoff++;
    return true;
  }

  private uneject(monitor: HostMonitor, now: number): void {
    monitor.host.ejected = false;
    this.setActive(this.active - 1);
    // As Envoy: counters restart, so a few new errors do not eject it again right away.
    monitor.resetConsecutive();
    monitor.lastUnejectionTime = now;
  }

  /**
   * Success rate and failure percentage over the interval just ended (Envoy's
   * processSuccessRateEjections), for external or local-origin outcomes. True when something was ejected.
   */
  private analyse(localOrigin: boolean): boolean {
    const spec = this.spec;
    const size = this.monitors.size;
    if (size < spec.successRateMinimumHosts && size < spec.failurePercentageMinimumHosts) return false;
    const srHosts: HostMonitor[] = [];
    const srRates: number[] = [];
    const fpHosts: HostMonitor[] = [];
    const fpRates: number[] = [];
    let sum = 0;
    for (const monitor of this.monitors.values()) {
      if (monitor.host.ejected) continue;
      const counts: SuccessCounters = localOrigin ? monitor.localOriginPrevious : monitor.externalPrevious;
      if (counts.total === 0) continue;
      const rate = (counts.success * 100) / counts.total;
      if (counts.total >= spec.successRateRequestVolume) {
        srHosts.push(monitor);
        srRates.push(rate);
        sum += rate;
      }
      if (counts.total >= spec.failurePercentageRequestVolume) {
        fpHosts.push(monitor);
        fpRates.push(rate);
      }
    }
    let ejected = false;
    if (srHosts.length > 0 && srHosts.length >= spec.successRateMinimumHosts) {
      const mean = sum / srHosts.length;
      let variance = 0;
      for (const r of srRates) variance += (r - mean) ** 2;
      const stdev = Math.sqrt(variance / srHosts.length);
      const threshold = mean - (spec.successRateStdevFactor / 1000) * stdev;
      const type = localOrigin ? EjectionType.SuccessRateLocalOrigin : EjectionType.SuccessRate;
      for (let i = 0; i < srHosts.length; i++) {
        if (srRates[i] < threshold && !srHosts[i].host.ejected) {
          this.stats.ejectionsDetected[type]++;
          if (this.eject(srHosts[i], type)) ejected = true;
        }
      }
    }
    if (fpHosts.length > 0 && fpHosts.length >= spec.failurePercentageMinimumHosts) {
      const type = localOrigin ? EjectionType.FailurePercentageLocalOrigin : EjectionType.FailurePercentage;
      for (let i = 0; i < fpHosts.length; i++) {
        if (100 - fpRates[i] >= spec.failurePercentageThreshold && !fpHosts[i].host.ejected) {
          this.stats.ejectionsDetected[type]++;
          if (this.eject(fpHosts[i], type)) ejected = true;
        }
      }
    }
    return ejected;
  }

  private setActive(n: number): void {
    this.stats.ejectionsActive += n - this.active;
    this.active = n;
  }
}
