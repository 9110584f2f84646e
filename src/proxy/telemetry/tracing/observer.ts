// The tracing observer of one connection manager. When a request's head is in, it reads the incoming
// trace context, decides sampling (an incoming decision wins; else random_sampling), chooses this
// hop's span id and writes the context going upstream into the request headers. When the exchange is
// over, a sampled request's span — CLIENT on an outbound listener, SERVER on an inbound one or a
// gateway's — is built with Istio's tags and queued for export. An unsampled request costs the header
// rewrite only: no span is kept.
import type { Attributes } from '@opentelemetry/api';
import { Protocol, type HttpStream } from '../../http/stream.ts';
import type { ObserverContext, ProxyNodeInfo, StreamObserver } from '../../http/stream-observers.ts';
import { formatResponseFlags } from '../response-flags.ts';
import type { CustomTag, TracingSpec } from './config.ts';
import { sinkFor, type SpanSink } from './exporter.ts';
import { randomHex } from './ids.ts';
import { Sampled, extractContext, injectContext, type OutgoingContext } from './propagation.ts';
import { headerValue } from '../../http/header-list.ts';
import { ProxySpan } from './span.ts';

/** What a sampled request's span needs at the end, beyond the stream itself. */
class ActiveSpan {
  readonly context: OutgoingContext;
  /** The parent of this hop's span (the caller's span, or its parent when the span context is shared). */
  readonly parentSpanId: string;
  /** Custom request_header tags, read before filters and the route may rewrite the headers. */
  readonly headerTags: string[] | null;
  readonly userAgent: string;
  readonly downstreamCluster: string;
  readonly scheme: string;

  constructor(context: OutgoingContext, parentSpanId: string, headerTags: string[] | null, userAgent: string, downstreamCluster: string, scheme: string) {
    this.context = context;
    this.parentSpanId = parentSpanId;
    this.headerTags = headerTags;
    this.userAgent = userAgent;
    this.downstreamCluster = downstreamCluster;
    this.scheme = scheme;
  }
}

/** The proxy's own identity, as Istio's tags name it (from the node metadata the proxy announced). */
type NodeIdentity = { namespace: string; canonicalService: string; canonicalRevision: string; meshId: string; serviceName: string; zone: string };

function nodeIdentity(node: ProxyNodeInfo): NodeIdentity {
  const md = node.metadata;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const labels = (typeof md.LABELS === 'object' && md.LABELS !== null ? md.LABELS : {}) as Record<string, unknown>;
  const namespace = str(md.NAMESPACE);
  const workload = str(md.WORKLOAD_NAME);
  const app = str(labels['app.kubernetes.io/name']) || str(labels.app);
  const canonicalService = str(labels['service.istio.io/canonical-name']) || app || workload;
  const canonicalRevision = str(labels['service.istio.io/canonical-revision']) || str(labels['app.kubernetes.io/version']) || str(labels.version) || 'latest';
  // Istio's service cluster, `<app>.<namespace>`: the service name spans are reported under.
  const base = app || workload;
  const serviceName = base === '' ? node.id || 'weft-proxy' : namespace === '' ? base : `${base}.${namespace}`;
  return { namespace, canonicalService, canonicalRevision, meshId: str(md.MESH_ID), serviceName, zone: str(md.ZONE) };
}

export class TracingObserver implements StreamObserver {
  private readonly spec: TracingSpec;
  private readonly inbound: boolean;
  private readonly server: boolean;
  /** Zipkin's shared span context on an inbound listener: the caller's span id is reused. */
  private readonly shareSpan: boolean;
  private readonly traceIdBytes: number;
  private readonly sink: SpanSink;
  private readonly nodeId: string;
  private readonly identity: NodeIdentity;
  private readonly headerTags: Extract<CustomTag, { kind: 'request_header' }>[];
  private readonly valueTags: Extract<CustomTag, { kind: 'value' }>[];
  /** Sampled requests in flight only. */
  private readonly active = new WeakMap<HttpStream, ActiveSpan>();

  constructor(spec: TracingSpec, context: ObserverContext) {
    this.spec = spec;
    const direction = context.trafficDirection;
    this.inbound = direction === 'INBOUND';
    // Envoy's connection manager traces as ingress unless the listener is outbound: gateways make SERVER spans.
    this.server = direction !== 'OUTBOUND';
    const p = spec.provider;
    this.shareSpan = p.kind === 'zipkin' && p.sharedSpanContext && this.inbound;
    this.traceIdBytes = p.kind === 'zipkin' && !p.traceId128 ? 8 : 16;
    this.identity = nodeIdentity(context.node);
    this.nodeId = context.node.id;
    const serviceName = p.kind === 'opentelemetry' && p.serviceName !== '' ? p.serviceName : this.identity.serviceName;
    this.sink = sinkFor(context.stats, p, serviceName, context.logger);
    this.headerTags = spec.customTags.filter((t) => t.kind === 'request_header');
    this.valueTags = spec.customTags.filter((t) => t.kind === 'value');
  }

  onRequest(stream: HttpStream): void {
    const headers = stream.requestHeaders;
    const incoming = extractContext(headers);
    const sampled = incoming !== null && incoming.sampled !== Sampled.Unknown ? incoming.sampled === Sampled.Yes : this.sample(headers);
    const continues = incoming !== null && incoming.traceId !== '';
    let spanId: string;
    let parentSpanId: string;
    if (continues && this.shareSpan) {
      spanId = incoming.spanId;
      parentSpanId = incoming.parentSpanId;
    } else {
      spanId = randomHex(8);
      parentSpanId = continues ? incoming.spanId : '';
    }
    const traceId = continues ? incoming.traceId : this.traceIdBytes === 16 ? randomHex(16) : `0000000000000000${randomHex(8)}`;
    const context: OutgoingContext = {
      traceId,
      spanId,
      // What x-b3-parentspanid says upstream: this hop's span's parent.
      parentSpanId,
      sampled,
      traceState: incoming?.traceState ?? '',
      shortTraceId: continues ? incoming.shortTraceId : this.traceIdBytes === 8,
      b3Single: incoming?.b3Single ?? false,
    };
    // Custom header tags and the request's own details are read before the context is written.
    let tagValues: string[] | null = null;
    if (sampled && this.headerTags.length > 0) {
      tagValues = this.headerTags.map((t) => headerValue(headers, t.header) ?? t.defaultValue);
    }
    const userAgent = sampled ? headerValue(headers, 'user-agent') ?? '-' : '';
    const downstreamCluster = sampled ? headerValue(headers, 'x-envoy-downstream-service-cluster') ?? '-' : '';
    const scheme = sampled ? headerValue(headers, 'x-forwarded-proto') ?? 'http' : '';
    injectContext(headers, context);
    if (sampled) this.active.set(stream, new ActiveSpan(context, parentSpanId, tagValues, userAgent, downstreamCluster, scheme));
  }

  onComplete(stream: HttpStream): void {
    const span = this.active.get(stream);
    if (span === undefined) return;
    this.active.delete(stream);
    const status = stream.responseStatus;
    const error = status === 0 || status >= 500;
    const ctx = span.context;
    this.sink.add(new ProxySpan(this.operation(stream), this.server, ctx.traceId, ctx.spanId, span.parentSpanId, stream.startTime,
      performance.now(), error, this.attributes(stream, span, error)), stream.clusters);
  }

  /** random_sampling (with client_sampling for requests carrying x-client-trace-id), capped by overall_sampling. */
  private sample(headers: readonly string[]): boolean {
    const spec = this.spec;
    let traced = spec.randomSampling > 0 && Math.random() * 100 < spec.randomSampling;
    if (!traced && spec.clientSampling > 0 && headerValue(headers, 'x-client-trace-id') !== undefined) {
      traced = Math.random() * 100 < spec.clientSampling;
    }
    return traced && (spec.overallSampling >= 100 || Math.random() * 100 < spec.overallSampling);
  }

  /**
   * The route's decorator operation when it has one, else Istio's `<authority>/*` (Istio decorates every
   * route with that same form). The route table exposes the decorator as `decoratorOperation` once it
   * compiles `decorator.operation`; until then every span takes the fallback.
   */
  private operation(stream: HttpStream): string {
    const decorated = (stream.route as { decoratorOperation?: string } | null)?.decoratorOperation;
    return decorated !== undefined && decorated !== '' ? decorated : `${stream.authority}/*`;
  }

  private attributes(stream: HttpStream, span: ActiveSpan, error: boolean): Attributes {
    const id = this.identity;
    const path = stream.path.length > this.spec.maxPathTagLength ? stream.path.slice(0, this.spec.maxPathTagLength) : stream.path;
    let peer = stream.connection.socket.remoteAddress ?? '';
    if (peer.startsWith('::ffff:')) peer = peer.slice(7);
    const cluster = stream.upstreamClusterName ?? '-';
    const attributes: Attributes = {
      'node_id': this.nodeId,
      'zone': id.zone,
      'guid:x-request-id': stream.requestId ?? '',
      'http.url': `${span.scheme}://${stream.authority}${path}`,
      'http.method': stream.method,
      'downstream_cluster': span.downstreamCluster,
      'user_agent': span.userAgent,
      'http.protocol': stream.protocol === Protocol.Http2 ? 'HTTP/2' : 'HTTP/1.1',
      'peer.address': peer,
      'request_size': String(stream.requestBodyBytes),
      'response_size': String(stream.responseBodyBytes),
      'response_flags': formatResponseFlags(stream.responseFlags),
      'http.status_code': String(stream.responseStatus),
      'upstream_cluster': cluster,
      'upstream_cluster.name': cluster,
      'component': 'proxy',
      'istio.canonical_service': id.canonicalService,
      'istio.canonical_revision': id.canonicalRevision,
      'istio.namespace': id.namespace,
      'istio.mesh_id': id.meshId,
    };
    if (stream.upstreamHost !== null) attributes.upstream_address = stream.upstreamHost;
    if (error) attributes.error = 'true';
    for (const t of this.valueTags) attributes[t.tag] = t.value;
    const values = span.headerTags;
    if (values !== null) for (let i = 0; i < values.length; i++) attributes[this.headerTags[i].tag] = values[i];
    return attributes;
  }
}

export function createTracingObserver(spec: TracingSpec, context: ObserverContext): StreamObserver {
  return new TracingObserver(spec, context);
}
