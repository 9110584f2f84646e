// What watches every exchange of a connection manager without taking part in it: access logs,
// tracing, the Istio standard metrics. Each kind registers a compiler for the connection manager
// fields it reads (`access_log`, `tracing`, ...); compileHttpConnectionManager runs them all when the
// config arrives and the connection manager calls the observers it got, never looking them up per
// request. An exchange is seen twice: when its request head is in (before the HTTP filters run) and
// when it is over (response finished, reset, or the client went away).
import type { Logger } from '../../common/log.ts';
import type { ProxyStats } from '../telemetry/stats.ts';
import type { StatsOverrides } from '../telemetry/stats-plugin-config.ts';
import type { FieldPath, Message } from '../upstream/envoy-config.ts';
import type { HttpStream } from './stream.ts';

export interface StreamObserver {
  /** The request head is in; filters have not run. */
  onRequest(stream: HttpStream): void;
  /** The exchange is over (stream.complete); responseStatus 0 means no response was sent. */
  onComplete(stream: HttpStream): void;
}

/** What an observer may use from the proxy that runs it (given when the connection manager is built). */
export interface ObserverContext {
  readonly logger: Logger;
  readonly stats: ProxyStats;
  /** The listener's traffic_direction: 'INBOUND', 'OUTBOUND' or '' when unset. */
  readonly trafficDirection: string;
  /** The service an inbound listener serves (its Istio listener metadata), '' when unknown. */
  readonly serviceHost?: string;
  /** TCP chains: the metrics overrides of the chain's `istio.stats` network filter. */
  readonly statsOverrides?: StatsOverrides;
  /** The proxy's own node (id and metadata as it sent them to the control plane). */
  readonly node: ProxyNodeInfo;
}

export interface ProxyNodeInfo {
  id: string;
  /** NAMESPACE, WORKLOAD_NAME, LABELS, SERVICE_ACCOUNT, ... as plain JSON. */
  metadata: Record<string, unknown>;
}

/**
 * Reads the fields one kind of observer owns in its filter's config (throwing ConfigRejectedError
 * through `at` on bad input) and returns a factory, or null when the config asks for nothing of it.
 */
export type ObserverCompiler<O> = (at: FieldPath, config: Message) => ((context: ObserverContext) => O) | null;

/**
 * The observer kinds of one filter (http_connection_manager here, tcp_proxy in tcp/tcp-observers.ts),
 * each registered once at start with the config fields it reads.
 */
export class ObserverRegistry<O> {
  private readonly registrations: { fields: readonly string[]; compile: ObserverCompiler<O> }[] = [];

  /** `fields`: the filter config fields this observer kind reads (they become accepted). */
  register(fields: readonly string[], compile: ObserverCompiler<O>): void {
    this.registrations.push({ fields, compile });
  }

  fields(): string[] {
    return this.registrations.flatMap((r) => r.fields);
  }

  compile(at: FieldPath, config: Message): ((context: ObserverContext) => O)[] {
    const out: ((context: ObserverContext) => O)[] = [];
    for (const r of this.registrations) {
      const factory = r.compile(at, config);
      if (factory !== null) out.push(factory);
    }
    return out;
  }
}

export type StreamObserverCompiler = ObserverCompiler<StreamObserver>;

const streamObservers = new ObserverRegistry<StreamObserver>();

/** `fields`: the HttpConnectionManager fields this observer kind reads (they become accepted). */
export function registerStreamObserver(fields: readonly string[], compile: StreamObserverCompiler): void {
  streamObservers.register(fields, compile);
}

export function observerFields(): string[] {
  return streamObservers.fields();
}

export function compileStreamObservers(at: FieldPath, config: Message): ((context: ObserverContext) => StreamObserver)[] {
  return streamObservers.compile(at, config);
}
