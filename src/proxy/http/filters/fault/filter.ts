// envoy.filters.http.fault: delays and aborts requests, as Envoy's FaultFilter does. Per request: the
// route's per-filter config if it has one for this filter's name (replacing the filter-level config
// entirely), else the filter's own; max_active_faults is checked first (overflow: no fault), then the
// delay (response flag DI), then, when no delay applies or after it elapsed, the abort (flag FI,
// `fault filter abort`). A delayed request whose downstream goes away is never forwarded.
//
// A request to which no fault applies allocates nothing: the settings were compiled with the config,
// and a FaultInjection (timer, close listener, active-fault accounting) is made only for a request that
// gets a fault.
import { ResponseFlag } from '../../../telemetry/response-flags.ts';
import type { FaultFilterStats } from '../../../telemetry/stat-objects.ts';
import type { HttpStream } from '../../stream.ts';
import { FilterStatus, PassThroughFilter } from '../filter.ts';
import { AbortKind, type FaultSettings } from './settings.ts';

/** Envoy's body (and grpc-message) of an injected abort. */
const abortBody = Buffer.from('fault filter abort');
const abortMessage = 'fault filter abort';

function onDelayElapsed(fault: FaultInjection): void {
  fault.onDelayElapsed();
}

/** A fault injected into one request: counted as one active fault until the request is over. */
class FaultInjection {
  readonly stream: HttpStream;
  readonly settings: FaultSettings;
  readonly stats: FaultFilterStats;
  timer: NodeJS.Timeout | null = null;
  readonly onClose: () => void;

  constructor(stream: HttpStream, settings: FaultSettings, stats: FaultFilterStats) {
    this.stream = stream;
    this.settings = settings;
    this.stats = stats;
    this.onClose = this.close.bind(this);
    stats.activeFaults++;
    stream.res.once('close', this.onClose);
  }

  delay(): void {
    this.stats.delaysInjected++;
    this.stream.responseFlags |= ResponseFlag.DelayInjected;
    this.timer = setTimeout(onDelayElapsed, this.settings.delayMs, this);
  }

  onDelayElapsed(): void {
    this.timer = null;
    const stream = this.stream;
    if (stream.complete) return;
    if (this.settings.abortKind !== AbortKind.None && this.settings.abortPercent.roll()) this.abort();
    else stream.continueDecoding();
  }

  abort(): void {
    const settings = this.settings;
    this.stats.abortsInjected++;
    if (settings.abortKind === AbortKind.Grpc) {
      this.stream.sendGrpcLocalReply(settings.abortGrpcStatus, abortMessage, ResponseFlag.FaultInjected);
    } else {
      this.stream.sendLocalReply(settings.abortHttpStatus, abortBody, ResponseFlag.FaultInjected);
    }
  }

  /** The exchange is over (answered, or the downstream went away during the delay). */
  private close(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.stats.activeFaults--;
  }
}

export class FaultFilter extends PassThroughFilter {
  /** The filter-level config; null when it injects nothing (Istio's empty HTTPFault in http_filters). */
  readonly settings: FaultSettings | null;
  readonly stats: FaultFilterStats;

  /** `name` is the filter's name in http_filters: the key of its per-route config. */
  constructor(name: string, settings: FaultSettings, stats: FaultFilterStats) {
    super(name);
    this.settings = settings.injects ? settings : null;
    this.stats = stats;
  }

  override decodeHeaders(stream: HttpStream): FilterStatus {
    let settings = this.settings;
    const route = stream.route;
    if (route !== null) {
      const perRoute = route.perFilterConfig;
      if (perRoute !== null) {
        const own = perRoute.get(this.name) as FaultSettings | undefined;
        if (own !== undefined) settings = own.injects ? own : null;
      }
    }
    if (settings === null) return FilterStatus.Continue;
    const stats = this.stats;
    if (stats.activeFaults >= settings.maxActiveFaults) {
      stats.faultsOverflow++;
      return FilterStatus.Continue;
    }
    if (settings.delayMs > 0 && settings.delayPercent.roll()) {
      new FaultInjection(stream, settings, stats).delay();
      return FilterStatus.StopIteration;
    }
    if (settings.abortKind !== AbortKind.None && settings.abortPercent.roll()) {
      new FaultInjection(stream, settings, stats).abort();
      return FilterStatus.StopIteration;
    }
    return FilterStatus.Continue;
  }
}
